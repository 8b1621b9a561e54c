//! Slash-command prompts in the peer's shape (contract §2, §3): hosts list them, fetch changed
//! ones and push their edits (`/slash-commands…`); admins list, read, upsert and retire them
//! (`/admin/slash-commands…`). The config service decides; these routes translate.

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use codex_central_proto::config::v1::{
    ContentSyncStatus, GetPromptRequest, ListPromptsRequest, Prompt, PushPromptRequest,
    RetirePromptRequest, RetrievePromptRequest, SavePromptRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::content::{host_caller, push_reply, save_reply, sync_status_text};
use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Json, Path, RawBody, lenient_json};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

/// A prompt's list entry: no body.
fn entry(p: &Prompt) -> Value {
    json!({
        "id": p.id,
        "filename": p.filename,
        "sha256": p.sha256,
        "description": p.description,
        "argument_hint": p.argument_hint,
        "updated_at": rfc3339(p.updated_at.as_ref()),
        "deleted_at": rfc3339(p.deleted_at.as_ref()),
    })
}

fn with_body(p: &Prompt) -> Value {
    let mut v = entry(p);
    v["prompt"] = json!(p.body);
    v["updated_by"] = json!(p.updated_by);
    v
}

async fn list_all(state: &GatewayState, caller: &Caller) -> Result<Vec<Prompt>, ApiError> {
    Ok(state
        .clients()
        .config()
        .list_prompts(caller.request(
            state,
            ListPromptsRequest {
                include_retired: true,
            },
        ))
        .await?
        .into_inner()
        .prompts)
}

/// `GET /slash-commands`: every prompt, retired ones included so hosts delete them.
pub async fn host_list(
    State(state): State<GatewayState>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let caller = host_caller(&state, &parts).await?;
    let prompts = list_all(&state, &caller).await?;
    Ok(ok(
        json!({ "commands": prompts.iter().map(entry).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize, Default)]
struct RetrieveBody {
    #[serde(default)]
    filename: String,
    #[serde(default)]
    sha256: Option<String>,
}

/// `POST /slash-commands/retrieve`: `missing`, `deleted`, `unchanged` or `updated` (+ `prompt`).
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
        .retrieve_prompt(caller.request(
            &state,
            RetrievePromptRequest {
                filename: b.filename.clone(),
                known_sha256: b.sha256.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    let status = res.status();
    let p = res.prompt.unwrap_or_default();
    let mut data = json!({
        "status": sync_status_text(status),
        "filename": b.filename,
        "sha256": (!p.sha256.is_empty()).then_some(&p.sha256),
        "description": p.description,
        "argument_hint": p.argument_hint,
        "updated_at": rfc3339(p.updated_at.as_ref()),
    });
    match status {
        ContentSyncStatus::Updated => data["prompt"] = json!(p.body),
        ContentSyncStatus::Deleted => data["deleted_at"] = rfc3339(p.deleted_at.as_ref()),
        _ => {}
    }
    Ok(ok(data))
}

#[derive(Deserialize, Default)]
struct StoreBody {
    #[serde(default)]
    filename: String,
    #[serde(default, alias = "content", alias = "body")]
    prompt: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    argument_hint: String,
    #[serde(default)]
    sha256: String,
}

/// `POST /slash-commands/store`: a host's new or edited prompt, as `host_content_push` allows
/// (`pending_review` with 202 while pushes are reviewed).
pub async fn host_store(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let caller = host_caller(&state, &parts).await?;
    let b: StoreBody = lenient_json(&raw, "Invalid JSON payload")?;
    let res = state
        .clients()
        .config()
        .push_prompt(caller.request(
            &state,
            PushPromptRequest {
                filename: b.filename,
                body: b.prompt,
                description: b.description,
                argument_hint: b.argument_hint,
                sha256: b.sha256,
            },
        ))
        .await?
        .into_inner();
    let status = res.status();
    let p = res.prompt.unwrap_or_default();
    let data = json!({
        "filename": p.filename,
        "sha256": p.sha256,
        "updated_at": rfc3339(p.updated_at.as_ref()),
    });
    Ok(push_reply(status, data, res.proposal_id))
}

/// `GET /admin/slash-commands`: every prompt (retired ones included), without bodies.
pub async fn admin_list(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let prompts = list_all(&state, &caller).await?;
    Ok(ok(
        json!({ "commands": prompts.iter().map(entry).collect::<Vec<_>>() }),
    ))
}

/// `GET /admin/slash-commands/{filename}`: one live prompt with its body.
pub async fn admin_get(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(filename): Path<String>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_prompt(caller.request(&state, GetPromptRequest { filename }))
        .await?
        .into_inner();
    Ok(ok(
        json!({ "command": with_body(&res.prompt.unwrap_or_default()) }),
    ))
}

#[derive(Deserialize)]
pub struct AdminStoreBody {
    filename: String,
    #[serde(alias = "content", alias = "body")]
    prompt: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    argument_hint: String,
    /// When sent, must be the SHA-256 of `prompt` (as on the host route).
    #[serde(default)]
    sha256: String,
    /// The digest of the copy the editor started from (optimistic lock; 409 when stale).
    #[serde(default)]
    expected_sha256: String,
}

/// `POST /admin/slash-commands/store`: create or edit a prompt.
pub async fn admin_store(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<AdminStoreBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .save_prompt(caller.request(
            &state,
            SavePromptRequest {
                filename: b.filename,
                body: b.prompt,
                description: b.description,
                argument_hint: b.argument_hint,
                expected_sha256: b.expected_sha256,
                sha256: b.sha256,
            },
        ))
        .await?
        .into_inner();
    Ok(save_reply(
        res.status(),
        with_body(&res.prompt.unwrap_or_default()),
    ))
}

/// `DELETE /admin/slash-commands/{filename}`: retire a prompt (404 when there is none).
pub async fn admin_retire(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(filename): Path<String>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .retire_prompt(caller.request(&state, RetirePromptRequest { filename }))
        .await?
        .into_inner();
    Ok(ok(
        json!({ "command": entry(&res.prompt.unwrap_or_default()) }),
    ))
}
