//! Memories as MCP resources: `memory://{id}` (the id percent-encoded: older SDK clients
//! fail on a raw `:`), listed most recent first with cursors, read as `text/plain`.

use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::memory::v1::{ListMemoriesRequest, Memory, RetrieveMemoryRequest};
use codex_central_proto::status::decode;
use rmcp::ErrorData;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, ResourceContents,
};
use serde_json::{Value, json};

use super::server::Call;

const SCHEME: &str = "memory://";
const PAGE: u32 = 20;

pub fn uri_of(id: &str) -> String {
    let mut uri = String::from(SCHEME);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// The id a `memory://` URI names; `None` when it is not one.
pub fn id_of(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix(SCHEME)?.trim_end_matches('/');
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().filter(|s| !s.is_empty())
}

fn rpc_error(status: &tonic::Status) -> ErrorData {
    let err = decode(status);
    let data = json!({ "code": err.reason() });
    ErrorData::invalid_params(err.public_message().to_string(), Some(data))
}

fn resource(m: &Memory) -> Value {
    let name = if m.title.is_empty() { &m.id } else { &m.title };
    let preview: String = m.content.chars().take(160).collect();
    json!({
        "uri": uri_of(&m.id),
        "name": name,
        "title": name,
        "description": preview,
        "mimeType": "text/plain",
        "size": m.content.len(),
    })
}

pub fn templates() -> Result<ListResourceTemplatesResult, ErrorData> {
    serde_json::from_value(json!({ "resourceTemplates": [{
        "uriTemplate": "memory://{id}",
        "name": "memory_by_id",
        "title": "A memory by id",
        "description": "One of your memories (or the fleet's) by its id; ids are percent-encoded.",
        "mimeType": "text/plain",
    }] }))
    .map_err(|e| ErrorData::internal_error(e.to_string(), None))
}

/// The most recent memories, [`PAGE`] at a time; the cursor is the service's page token.
pub async fn list(
    call: &Call<'_>,
    cursor: Option<String>,
) -> Result<ListResourcesResult, ErrorData> {
    let res = call
        .state
        .clients()
        .memory()
        .list_memories(call.who.caller.request(
            call.state,
            ListMemoriesRequest {
                page: Some(PageRequest {
                    page_size: PAGE,
                    page_token: cursor.unwrap_or_default(),
                }),
                resource_id: String::new(),
                tags: Vec::new(),
                owner: None,
            },
        ))
        .await
        .map_err(|s| rpc_error(&s))?
        .into_inner();
    let resources: Vec<Value> = res.memories.iter().map(resource).collect();
    let mut body = json!({ "resources": resources });
    if !res.next_page_token.is_empty() {
        body["nextCursor"] = json!(res.next_page_token);
    }
    serde_json::from_value(body).map_err(|e| ErrorData::internal_error(e.to_string(), None))
}

pub async fn read(call: &Call<'_>, uri: &str) -> Result<ReadResourceResult, ErrorData> {
    let id = id_of(uri).ok_or_else(|| {
        ErrorData::invalid_params(
            "not a memory URI: expected memory://{id}",
            Some(json!({ "uri": uri })),
        )
    })?;
    let res = call
        .state
        .clients()
        .memory()
        .retrieve_memory(call.who.caller.request(
            call.state,
            RetrieveMemoryRequest {
                id,
                record_id: String::new(),
            },
        ))
        .await
        .map_err(|s| rpc_error(&s))?
        .into_inner();
    let Some(m) = res.memory.filter(|_| res.found) else {
        return Err(ErrorData::resource_not_found(
            "no such memory",
            Some(json!({ "uri": uri })),
        ));
    };
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(m.content, uri_of(&m.id)).with_mime_type("text/plain"),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        assert_eq!(uri_of("notes:2026-12.a_b"), "memory://notes%3A2026-12.a_b");
        assert_eq!(
            id_of("memory://notes%3A2026-12.a_b").as_deref(),
            Some("notes:2026-12.a_b")
        );
        assert_eq!(id_of("memory://notes:raw").as_deref(), Some("notes:raw"));
        assert_eq!(id_of("memory://"), None);
        assert_eq!(id_of("memory://%zz"), None);
        assert_eq!(id_of("file:///etc/passwd"), None);
    }
}
