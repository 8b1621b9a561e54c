//! The peer's REST shortcuts to memories: hosts store, retrieve, search and delete their own
//! (`/mcp/memories/*`); admins search everyone's and delete any (`/admin/mcp/memories`).

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use codex_central_proto::memory::v1::{
    DeleteMemoryRequest, MemoryOwner, MemoryOwnerKind, RetrieveMemoryRequest,
    SearchMemoriesRequest, StoreMemoryRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::content::host_call;
use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Path, Q, RawBody, lenient_json};
use crate::plumbing::views::{memory_json, written_text};
use crate::{ApiError, GatewayState};

/// The peer's aliases for a memory id.
#[derive(Deserialize, Default)]
struct IdBody {
    #[serde(default, alias = "memory_id", alias = "key")]
    id: Option<String>,
}

#[derive(Deserialize, Default)]
struct StoreBody {
    #[serde(default, alias = "memory_id", alias = "key")]
    id: Option<String>,
    #[serde(default, alias = "text")]
    content: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    metadata: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize, Default)]
struct SearchBody {
    #[serde(default, alias = "q")]
    query: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    tags: Vec<String>,
}

/// `POST /mcp/memories/store`: `created`, `updated` or `unchanged`.
pub async fn store(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let (caller, _) = host_call(&state, &parts).await?;
    let b: StoreBody = lenient_json(&raw, "Invalid JSON payload")?;
    let res = state
        .clients()
        .memory()
        .store_memory(
            caller.request(
                &state,
                StoreMemoryRequest {
                    id: b.id.unwrap_or_default(),
                    content: b.content.unwrap_or_default(),
                    title: b.title.unwrap_or_default(),
                    tags: b.tags,
                    metadata_json: b
                        .metadata
                        .map(|m| Value::Object(m).to_string())
                        .unwrap_or_default(),
                    shared: false,
                },
            ),
        )
        .await?
        .into_inner();
    let status = written_text(res.status());
    let m = res.memory.unwrap_or_default();
    Ok(ok(json!({
        "status": status,
        "id": m.id,
        "memory": memory_json(&m),
    })))
}

/// `POST /mcp/memories/retrieve`: `found` with the memory, or `missing`.
pub async fn retrieve(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let (caller, _) = host_call(&state, &parts).await?;
    let b: IdBody = lenient_json(&raw, "Invalid JSON payload")?;
    let id = b.id.unwrap_or_default();
    let res = state
        .clients()
        .memory()
        .retrieve_memory(caller.request(
            &state,
            RetrieveMemoryRequest {
                id: id.clone(),
                record_id: String::new(),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "status": if res.found { "found" } else { "missing" },
        "id": id,
        "memory": res.memory.as_ref().map(memory_json),
    })))
}

/// `POST /mcp/memories/search`: ranked matches (the most recent for an empty query).
pub async fn search(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let (caller, _) = host_call(&state, &parts).await?;
    let b: SearchBody = lenient_json(&raw, "Invalid JSON payload")?;
    let limit = b.limit.unwrap_or(20).clamp(1, 100);
    let query = b.query.unwrap_or_default();
    let res = state
        .clients()
        .memory()
        .search_memories(caller.request(
            &state,
            SearchMemoriesRequest {
                query: query.clone(),
                tags: b.tags,
                limit,
                owner: None,
            },
        ))
        .await?
        .into_inner();
    let matches: Vec<Value> = res.matches.iter().map(memory_json).collect();
    Ok(ok(json!({
        "status": "ok",
        "query": query,
        "limit": limit,
        "count": matches.len(),
        "matches": matches,
    })))
}

async fn delete_own(state: &GatewayState, parts: &Parts, id: String) -> Result<Response, ApiError> {
    let (caller, _) = host_call(state, parts).await?;
    let res = state
        .clients()
        .memory()
        .delete_memory(caller.request(
            state,
            DeleteMemoryRequest {
                id: id.clone(),
                record_id: String::new(),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "status": if res.deleted { "deleted" } else { "missing" },
        "id": id,
    })))
}

/// `POST /mcp/memories/delete` `{id}` (soft delete).
pub async fn delete_by_body(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let b: IdBody = lenient_json(&raw, "Invalid JSON payload")?;
    delete_own(&state, &parts, b.id.unwrap_or_default()).await
}

/// `DELETE /mcp/memories/{id}`.
pub async fn delete_by_path(
    State(state): State<GatewayState>,
    parts: Parts,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    delete_own(&state, &parts, id).await
}

#[derive(Deserialize)]
pub struct AdminQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    host_id: String,
    /// Comma-separated; all must be present.
    #[serde(default)]
    tags: String,
    #[serde(default)]
    limit: Option<u32>,
}

/// `GET /admin/mcp/memories?q=&host_id=&tags=&limit=` (1-200, default 50).
pub async fn admin_search(
    State(state): State<GatewayState>,
    caller: Caller,
    Q(q): Q<AdminQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let owner = (!q.host_id.trim().is_empty()).then(|| MemoryOwner {
        kind: MemoryOwnerKind::Host as i32,
        id: q.host_id.trim().to_string(),
        name: String::new(),
    });
    let res = state
        .clients()
        .memory()
        .search_memories(
            caller.request(
                &state,
                SearchMemoriesRequest {
                    query: q.q,
                    tags: q
                        .tags
                        .split(',')
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .collect(),
                    limit,
                    owner,
                },
            ),
        )
        .await?
        .into_inner();
    let matches: Vec<Value> = res.matches.iter().map(memory_json).collect();
    Ok(ok(json!({ "count": matches.len(), "matches": matches })))
}

/// `DELETE /admin/mcp/memories/{record_id}`.
pub async fn admin_delete(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(record_id): Path<String>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .memory()
        .delete_memory(caller.request(
            &state,
            DeleteMemoryRequest {
                id: String::new(),
                record_id,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({ "deleted": res.deleted })))
}
