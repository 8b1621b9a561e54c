use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::fleet::v1::ListAuditEventsRequest;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::views::rfc3339;
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

#[derive(Deserialize)]
pub struct LogsQuery {
    limit: Option<u32>,
    #[serde(default)]
    cursor: String,
    #[serde(default)]
    action: String,
}

/// Peer-compatible `GET /admin/logs?limit=` (default 50, at most 500), with a `cursor` for the
/// next page (the peer has no maximum and no cursor).
pub async fn logs(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<LogsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > 500 {
        return Err(ApiError::invalid_field(
            "limit",
            "limit must be between 1 and 500",
        ));
    }
    let res = state
        .clients()
        .fleet()
        .list_audit_events(caller.request(
            &state,
            ListAuditEventsRequest {
                page: Some(PageRequest {
                    page_size: limit,
                    page_token: q.cursor,
                }),
                actor: String::new(),
                action: q.action,
                target: String::new(),
            },
        ))
        .await?
        .into_inner();
    let logs: Vec<Value> = res
        .events
        .iter()
        .map(|e| {
            json!({
                "id": e.id.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(e.id)),
                "created_at": rfc3339(e.at.as_ref()),
                "action": e.action,
                "actor": e.actor,
                "target": e.target,
                "client_ip": e.client_ip,
                "details": serde_json::from_str::<Value>(&e.details_json).unwrap_or(Value::Null),
            })
        })
        .collect();
    let next = (!res.next_page_token.is_empty()).then_some(res.next_page_token);
    Ok(ok(json!({ "logs": logs, "next_cursor": next })))
}
