use axum::extract::State;
use axum::response::Response;
use codex_central_common::Principal;
use codex_central_proto::auth::v1::WhoAmIRequest;
use serde_json::json;

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::{ApiError, GatewayState};

pub async fn get(State(state): State<GatewayState>, caller: Caller) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .identity()
        .who_am_i(caller.request(&state, WhoAmIRequest {}))
        .await?
        .into_inner();
    let principal = match res.principal.as_ref() {
        Some(p) => Some(Principal::try_from(p)?),
        None => None,
    };
    Ok(ok(json!({
        "principal": principal.map(|p| json!({
            "kind": p.kind_name(),
            "id": p.id,
            "name": p.name,
            "role": match p.role {
                codex_central_common::Role::Admin => "admin",
                codex_central_common::Role::Member => "member",
                codex_central_common::Role::ReadOnly => "read_only",
                codex_central_common::Role::Host => "host",
            },
        })),
        "client_ip": res.client_ip,
        "auth_mode": res.auth_mode,
    })))
}
