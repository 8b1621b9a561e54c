//! `GET /api/v1/codex-auth`: the canonical auth.json's status for operators (claims decoded
//! from its tokens, expiry, the planned server refresh), never its tokens.

use axum::extract::State;
use axum::response::Response;
use codex_central_proto::auth::v1::GetCodexAuthStatusRequest;

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::views::codex_auth_json;
use crate::{ApiError, GatewayState};

pub async fn status(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let summary = state
        .clients()
        .codex_auth()
        .get_codex_auth_status(caller.request(&state, GetCodexAuthStatusRequest {}))
        .await?
        .into_inner()
        .summary
        .unwrap_or_default();
    Ok(ok(codex_auth_json(&summary)))
}
