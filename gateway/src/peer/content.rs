//! What the peer's content routes (prompts, skills, `AGENTS.md`) share: the calling host, the
//! contract's status words and how a write is answered.

use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use codex_central_proto::config::v1::{ContentSyncStatus, ContentWriteStatus};
use codex_central_proto::fleet::v1::{Host, HostCallKind};
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::{ok, ok_with};
use crate::plumbing::host_caller::{Reported, authenticate};
use crate::{ApiError, GatewayState};

/// The calling host, as the principal of the config service calls.
pub async fn host_caller(state: &GatewayState, parts: &Parts) -> Result<Caller, ApiError> {
    Ok(host_call(state, parts).await?.0)
}

/// The calling host's principal and its record, for a plain host route (nothing reported).
pub async fn host_call(state: &GatewayState, parts: &Parts) -> Result<(Caller, Host), ApiError> {
    authenticate(
        state,
        parts,
        HostCallKind::General,
        false,
        Reported::default(),
    )
    .await
}

/// A host push's answer: 202 with the proposal while pushes are reviewed, else 200.
pub fn push_reply(status: ContentWriteStatus, mut data: Value, proposal_id: String) -> Response {
    data["status"] = json!(write_status_text(status));
    if status == ContentWriteStatus::Proposed {
        data["proposal_id"] = json!(proposal_id);
        return ok_with(StatusCode::ACCEPTED, data);
    }
    ok(data)
}

/// An admin save's answer: 201 when it created the item, else 200.
pub fn save_reply(status: ContentWriteStatus, mut data: Value) -> Response {
    data["status"] = json!(write_status_text(status));
    let code = if status == ContentWriteStatus::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    ok_with(code, data)
}

pub fn sync_status_text(s: ContentSyncStatus) -> &'static str {
    match s {
        ContentSyncStatus::Missing | ContentSyncStatus::Unspecified => "missing",
        ContentSyncStatus::Deleted => "deleted",
        ContentSyncStatus::Unchanged => "unchanged",
        ContentSyncStatus::Updated => "updated",
    }
}

pub fn write_status_text(s: ContentWriteStatus) -> &'static str {
    match s {
        ContentWriteStatus::Created => "created",
        ContentWriteStatus::Updated | ContentWriteStatus::Unspecified => "updated",
        ContentWriteStatus::Unchanged => "unchanged",
        ContentWriteStatus::Proposed => "pending_review",
    }
}
