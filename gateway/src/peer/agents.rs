//! `AGENTS.md` in the peer's shape: hosts sync it (`POST /agents/retrieve`), admins read,
//! store and clear it (`/admin/agents…`).

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use codex_central_proto::config::v1::{
    AgentsDocument, ClearAgentsDocumentRequest, ContentSyncStatus, GetAgentsDocumentRequest,
    RetrieveAgentsDocumentRequest, SaveAgentsDocumentRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::content::{host_caller, save_reply, sync_status_text};
use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Json, RawBody, lenient_json};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

/// The document's fields; `sha256`/`updated_at` null and `size_bytes` 0 when there is none.
fn fields(status: &str, d: Option<&AgentsDocument>, with_content: bool) -> Value {
    let mut v = json!({
        "status": status,
        "sha256": d.map(|d| d.sha256.as_str()),
        "updated_at": rfc3339(d.and_then(|d| d.updated_at.as_ref())),
        "size_bytes": d.map_or(0, |d| d.size_bytes),
    });
    if let Some(d) = d.filter(|_| with_content) {
        v["content"] = json!(d.content);
        v["version"] = json!(d.version);
    }
    v
}

#[derive(Deserialize, Default)]
struct RetrieveBody {
    #[serde(default)]
    sha256: Option<String>,
}

/// `POST /agents/retrieve`: `missing` (the host removes its copy), `unchanged` or `updated`
/// (+ `content`).
pub async fn host_retrieve(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let caller = host_caller(&state, &parts).await?;
    let b: RetrieveBody = lenient_json(&raw, "Invalid JSON payload")?;
    let res = state
        .clients()
        .config()
        .retrieve_agents_document(caller.request(
            &state,
            RetrieveAgentsDocumentRequest {
                known_sha256: b.sha256.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    let status = res.status();
    Ok(ok(fields(
        sync_status_text(status),
        res.document.as_ref(),
        status == ContentSyncStatus::Updated,
    )))
}

/// `GET /admin/agents`: `ok` with the document, or `missing`.
pub async fn admin_get(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_agents_document(caller.request(&state, GetAgentsDocumentRequest {}))
        .await?
        .into_inner();
    let status = if res.document.is_some() {
        "ok"
    } else {
        "missing"
    };
    let mut data = fields(status, res.document.as_ref(), true);
    if res.document.is_none() {
        data["content"] = Value::Null;
    }
    Ok(ok(data))
}

#[derive(Deserialize)]
pub struct StoreBody {
    #[serde(alias = "body")]
    content: String,
    /// The digest of the copy the editor started from (optimistic lock; 409 when stale).
    #[serde(default, alias = "expected_sha256")]
    sha256: String,
}

/// `POST /admin/agents/store`: `created`, `updated` or `unchanged`.
pub async fn admin_store(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<StoreBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .save_agents_document(caller.request(
            &state,
            SaveAgentsDocumentRequest {
                content: b.content,
                expected_sha256: b.sha256,
            },
        ))
        .await?
        .into_inner();
    let status = res.status();
    Ok(save_reply(status, fields("", res.document.as_ref(), true)))
}

/// `DELETE /admin/agents`: clear it; hosts remove their copies on their next sync.
pub async fn admin_clear(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    state
        .clients()
        .config()
        .clear_agents_document(caller.request(&state, ClearAgentsDocumentRequest {}))
        .await?;
    Ok(ok(json!({ "status": "missing" })))
}
