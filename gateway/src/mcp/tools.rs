//! The MCP tools: the memory tools here, the workspace tools in [`super::workspace_tools`].
//! A tool that fails answers `isError: true` with the reason as JSON text, so the model can
//! correct itself; only an unknown tool is a JSON-RPC error.

use codex_central_common::error::Kind;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::memory::v1::{
    AppendMemoryRequest, DeleteMemoryRequest, GetMemorySettingsRequest, ListMemoriesRequest,
    Memory, QueryMemoriesRequest, RetrieveMemoryRequest, SearchMemoriesRequest, StoreMemoryRequest,
};
use codex_central_proto::status::decode;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, ListToolsResult, Tool};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::server::Call;
use super::workspace_tools;
use crate::plumbing::caller::Caller;
use crate::plumbing::views::{memory_json, written_text};

/// A tool's answer or the reason it failed, as the model will read it.
pub type ToolResult = Result<Value, ToolError>;

pub struct ToolError(Value);

impl ToolError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ToolError(json!({ "error": { "code": code, "message": message.into() } }))
    }
}

/// A service's refusal, with the fields it names.
impl From<tonic::Status> for ToolError {
    fn from(status: tonic::Status) -> Self {
        let err = decode(&status);
        let mut body = json!({ "code": err.reason(), "message": err.public_message() });
        if !err.fields().is_empty() {
            body["fields"] = err
                .fields()
                .iter()
                .map(|f| (format!("arguments.{}", f.field), json!(f.description)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        if err.kind() == Kind::Internal {
            tracing::warn!(error = %status.message(), "MCP tool call failed");
        }
        ToolError(json!({ "error": body }))
    }
}

/// Arguments as the tool's type, or which one is wrong (`arguments.limit: …`).
pub fn args<T: DeserializeOwned>(arguments: JsonObject) -> Result<T, ToolError> {
    serde_path_to_error::deserialize(Value::Object(arguments)).map_err(|e| {
        let path = e.path().to_string();
        let mut field = if path == "." {
            "arguments".to_string()
        } else {
            format!("arguments.{path}")
        };
        // serde names a missing field in its message, not its path.
        let message = e.inner().to_string();
        if let Some(name) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            field = format!("{field}.{name}");
        }
        ToolError(json!({ "error": {
            "code": "invalid_argument",
            "message": format!("{field}: {}", e.inner()),
            "fields": { field: e.inner().to_string() },
        }}))
    })
}

/// One tool's name, description and JSON Schema.
pub fn tool(name: &str, description: &str, read_only: bool, schema: Value) -> Tool {
    let value = json!({
        "name": name,
        "description": description,
        "inputSchema": schema,
        "annotations": { "readOnlyHint": read_only, "openWorldHint": false },
    });
    // The table below is fixed; a shape the SDK refused would be a bug caught by every test.
    serde_json::from_value(value).unwrap_or_default()
}

fn memory_tools() -> Vec<Tool> {
    let tags =
        json!({ "type": "array", "items": { "type": "string", "maxLength": 64 }, "maxItems": 32 });
    let id = json!({ "type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$" });
    vec![
        tool(
            "memory_store",
            "Store a memory (created, updated or unchanged). Without an id a new one is made; with the id of an existing memory it is replaced.",
            false,
            json!({ "type": "object", "properties": {
                "content": { "type": "string", "description": "The text to remember (at most 64 KiB)." },
                "id": id, "title": { "type": "string", "maxLength": 512 }, "tags": tags,
                "metadata": { "type": "object" },
                "shared": { "type": "boolean", "description": "Store for the whole fleet (admins only)." },
            }, "required": ["content"] }),
        ),
        tool(
            "memory_retrieve",
            "One memory by id: your own, else the fleet's.",
            true,
            json!({ "type": "object", "properties": { "id": id }, "required": ["id"] }),
        ),
        tool(
            "memory_search",
            "Ranked full-text search of your and the fleet's memories; all tags given must match. An empty query lists the most recent.",
            true,
            json!({ "type": "object", "properties": {
                "query": { "type": "string" }, "tags": tags,
                "limit": { "type": "integer", "minimum": 1, "maximum": 100, "default": 20 },
            } }),
        ),
        tool(
            "memory_append",
            "Append a note to a resource (a file, a ticket, a topic): stored as a new memory tagged resource:<resource_id>.",
            false,
            json!({ "type": "object", "properties": {
                "resource_id": id, "text": { "type": "string" }, "tags": tags,
            }, "required": ["resource_id", "text"] }),
        ),
        tool(
            "memory_query",
            "Search within one resource's notes; the top_k best.",
            true,
            json!({ "type": "object", "properties": {
                "resource_id": id, "query": { "type": "string" },
                "top_k": { "type": "integer", "minimum": 1, "maximum": 50, "default": 5 },
            }, "required": ["resource_id", "query"] }),
        ),
        tool(
            "memory_list",
            "List memories, most recent first (optionally one resource's notes, or with tags); pass next_cursor back as cursor for more.",
            true,
            json!({ "type": "object", "properties": {
                "resource_id": id, "tags": tags,
                "limit": { "type": "integer", "minimum": 1, "maximum": 100, "default": 20 },
                "cursor": { "type": "string" },
            } }),
        ),
        tool(
            "memory_delete",
            "Delete one of your memories by id.",
            false,
            json!({ "type": "object", "properties": { "id": id }, "required": ["id"] }),
        ),
    ]
}

/// The memory tools, and the workspace tools while the fleet has the workspace enabled.
pub async fn list(call: &Call<'_>) -> Result<ListToolsResult, rmcp::ErrorData> {
    let mut tools = memory_tools();
    if workspace_enabled(call).await {
        tools.extend(workspace_tools::list());
    }
    Ok(ListToolsResult {
        tools,
        ..Default::default()
    })
}

async fn workspace_enabled(call: &Call<'_>) -> bool {
    let reader = Caller::gateway_reader(call.who.caller.client_ip);
    match call
        .state
        .clients()
        .memory()
        .get_memory_settings(reader.request(call.state, GetMemorySettingsRequest {}))
        .await
    {
        Ok(res) => res
            .into_inner()
            .settings
            .is_some_and(|s| s.workspace_enabled == Some(true)),
        Err(status) => {
            tracing::warn!(error = %status.message(), "cannot read the memory settings");
            false
        }
    }
}

pub async fn call(
    call: &Call<'_>,
    name: &str,
    arguments: JsonObject,
) -> Result<CallToolResult, rmcp::ErrorData> {
    // The peer also accepted `memory.store`.
    let name = name.replace('.', "_");
    let result = match name.as_str() {
        "memory_store" => store(call, arguments).await,
        "memory_retrieve" => retrieve(call, arguments).await,
        "memory_search" => search(call, arguments).await,
        "memory_append" => append(call, arguments).await,
        "memory_query" => query(call, arguments).await,
        "memory_list" => list_memories(call, arguments).await,
        "memory_delete" => delete(call, arguments).await,
        other => match workspace_tools::call(call, other, arguments).await {
            Some(result) => result,
            None => {
                return Err(rmcp::ErrorData::invalid_params(
                    format!("unknown tool: {other}"),
                    Some(json!({ "tool": other })),
                ));
            }
        },
    };
    Ok(match result {
        Ok(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
        Err(ToolError(value)) => {
            let message = value
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or_default();
            call.failed(message);
            CallToolResult::error(vec![ContentBlock::text(value.to_string())])
        }
    })
}

fn views(memories: &[Memory]) -> Vec<Value> {
    memories.iter().map(memory_json).collect()
}

#[derive(Deserialize)]
struct StoreArgs {
    content: String,
    #[serde(default, alias = "key", alias = "memory_id")]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    metadata: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    shared: bool,
}

async fn store(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: StoreArgs = args(arguments)?;
    let req = StoreMemoryRequest {
        id: a.id,
        content: a.content,
        title: a.title,
        tags: a.tags,
        metadata_json: a
            .metadata
            .map(|m| Value::Object(m).to_string())
            .unwrap_or_default(),
        shared: a.shared,
    };
    let res = call
        .state
        .clients()
        .memory()
        .store_memory(call.who.caller.request(call.state, req))
        .await?
        .into_inner();
    let status = written_text(res.status());
    let m = res.memory.unwrap_or_default();
    Ok(json!({ "status": status, "id": m.id, "memory": memory_json(&m) }))
}

#[derive(Deserialize)]
struct IdArgs {
    #[serde(alias = "key", alias = "memory_id")]
    id: String,
}

async fn retrieve(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: IdArgs = args(arguments)?;
    let res = call
        .state
        .clients()
        .memory()
        .retrieve_memory(call.who.caller.request(
            call.state,
            RetrieveMemoryRequest {
                id: a.id.clone(),
                record_id: String::new(),
            },
        ))
        .await?
        .into_inner();
    Ok(json!({
        "status": if res.found { "found" } else { "missing" },
        "id": a.id,
        "memory": res.memory.as_ref().map(memory_json),
    }))
}

#[derive(Deserialize)]
struct SearchArgs {
    #[serde(default, alias = "q")]
    query: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    limit: Option<u32>,
}

async fn search(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: SearchArgs = args(arguments)?;
    let limit = a.limit.unwrap_or(20).clamp(1, 100);
    let res = call
        .state
        .clients()
        .memory()
        .search_memories(call.who.caller.request(
            call.state,
            SearchMemoriesRequest {
                query: a.query.clone(),
                tags: a.tags,
                limit,
                owner: None,
            },
        ))
        .await?
        .into_inner();
    let matches = views(&res.matches);
    Ok(json!({ "status": "ok", "query": a.query, "count": matches.len(), "matches": matches }))
}

#[derive(Deserialize)]
struct AppendArgs {
    resource_id: String,
    #[serde(alias = "content")]
    text: String,
    #[serde(default)]
    tags: Vec<String>,
}

async fn append(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: AppendArgs = args(arguments)?;
    let res = call
        .state
        .clients()
        .memory()
        .append_memory(call.who.caller.request(
            call.state,
            AppendMemoryRequest {
                resource_id: a.resource_id,
                text: a.text,
                tags: a.tags,
            },
        ))
        .await?
        .into_inner();
    let m = res.memory.unwrap_or_default();
    Ok(json!({ "status": "created", "id": m.id, "memory": memory_json(&m) }))
}

#[derive(Deserialize)]
struct QueryArgs {
    resource_id: String,
    query: String,
    #[serde(default)]
    top_k: Option<u32>,
}

async fn query(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: QueryArgs = args(arguments)?;
    let res = call
        .state
        .clients()
        .memory()
        .query_memories(call.who.caller.request(
            call.state,
            QueryMemoriesRequest {
                resource_id: a.resource_id.clone(),
                query: a.query.clone(),
                top_k: a.top_k.unwrap_or(5).clamp(1, 50),
            },
        ))
        .await?
        .into_inner();
    let matches = views(&res.matches);
    Ok(json!({
        "status": "ok",
        "resource_id": a.resource_id,
        "query": a.query,
        "count": matches.len(),
        "matches": matches,
    }))
}

#[derive(Deserialize)]
struct ListArgs {
    #[serde(default)]
    resource_id: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default, alias = "top_k")]
    limit: Option<u32>,
    #[serde(default)]
    cursor: String,
}

async fn list_memories(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: ListArgs = args(arguments)?;
    let res = call
        .state
        .clients()
        .memory()
        .list_memories(call.who.caller.request(
            call.state,
            ListMemoriesRequest {
                page: Some(PageRequest {
                    page_size: a.limit.unwrap_or(20).clamp(1, 100),
                    page_token: a.cursor,
                }),
                resource_id: a.resource_id,
                tags: a.tags,
                owner: None,
            },
        ))
        .await
        .map_err(|s| ToolError::from(s).renamed("page.page_token", "cursor"))?
        .into_inner();
    let memories = views(&res.memories);
    Ok(json!({
        "status": "ok",
        "count": memories.len(),
        "memories": memories,
        "next_cursor": (!res.next_page_token.is_empty()).then_some(res.next_page_token),
    }))
}

async fn delete(call: &Call<'_>, arguments: JsonObject) -> ToolResult {
    let a: IdArgs = args(arguments)?;
    let res = call
        .state
        .clients()
        .memory()
        .delete_memory(call.who.caller.request(
            call.state,
            DeleteMemoryRequest {
                id: a.id.clone(),
                record_id: String::new(),
            },
        ))
        .await?
        .into_inner();
    Ok(json!({ "status": if res.deleted { "deleted" } else { "missing" }, "id": a.id }))
}

impl ToolError {
    /// A service's field name as the tool's argument is called.
    fn renamed(mut self, from: &str, to: &str) -> Self {
        if let Some(fields) = self
            .0
            .pointer_mut("/error/fields")
            .and_then(Value::as_object_mut)
            && let Some(v) = fields.remove(&format!("arguments.{from}"))
        {
            fields.insert(format!("arguments.{to}"), v);
        }
        self
    }
}
