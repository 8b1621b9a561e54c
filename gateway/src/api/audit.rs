use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::fleet::v1::ListAuditEventsRequest;
use serde::Deserialize;
use serde_json::{Value, json};

use super::rfc3339;
use crate::caller::Caller;
use crate::error::ok;
use crate::{ApiError, GatewayState};

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    page_size: u32,
    #[serde(default)]
    page_token: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
}

pub async fn list(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .fleet()
        .list_audit_events(caller.request(
            &state,
            ListAuditEventsRequest {
                page: Some(PageRequest {
                    page_size: q.page_size,
                    page_token: q.page_token,
                }),
                actor: q.actor,
                action: q.action,
                target: q.target,
            },
        ))
        .await?
        .into_inner();
    let events: Vec<Value> = res
        .events
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "at": rfc3339(e.at.as_ref()),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "client_ip": e.client_ip,
                "details": serde_json::from_str::<Value>(&e.details_json).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(ok(
        json!({ "events": events, "next_page_token": res.next_page_token }),
    ))
}
