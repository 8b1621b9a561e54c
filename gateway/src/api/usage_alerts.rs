//! `/api/v1/usage/alerts`: alerts raised on budgets and quota (newest first, `active=true` for
//! the raised flags), acknowledging one, and the webhook delivery log.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::usage::v1::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::Path;
use crate::plumbing::flex::FlexBool;
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

#[derive(Deserialize, Default)]
pub struct AlertsQuery {
    active: Option<FlexBool>,
    alert_id: Option<String>,
    page_size: Option<u32>,
    page_token: Option<String>,
}

impl AlertsQuery {
    fn page(&self) -> PageRequest {
        PageRequest {
            page_size: self.page_size.unwrap_or(0),
            page_token: self.page_token.clone().unwrap_or_default(),
        }
    }
}

fn text(s: &str) -> Value {
    if s.is_empty() { Value::Null } else { json!(s) }
}

pub(crate) fn alert_json(a: &UsageAlert) -> Value {
    json!({
        "id": a.id,
        "scope": a.scope,
        "subject_id": text(&a.subject_id),
        "user_id": text(&a.user_id),
        "metric": a.metric,
        "threshold": a.threshold,
        "percent": a.percent,
        "message": a.message,
        "window_start": rfc3339(a.window_start.as_ref()),
        "window_end": rfc3339(a.window_end.as_ref()),
        "raised_at": rfc3339(a.raised_at.as_ref()),
        "acknowledged_at": rfc3339(a.acknowledged_at.as_ref()),
        "acknowledged_by": text(&a.acknowledged_by),
        "active": a.active,
    })
}

pub async fn list(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .usage()
        .list_alerts(caller.request(
            &state,
            ListAlertsRequest {
                page: Some(q.page()),
                active_only: q.active.is_some_and(|a| a.0),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "alerts": res.alerts.iter().map(alert_json).collect::<Vec<_>>(),
        "next_page_token": text(&res.next_page_token),
    })))
}

pub async fn acknowledge(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .usage()
        .acknowledge_alert(caller.request(&state, AcknowledgeAlertRequest { id }))
        .await?
        .into_inner();
    Ok(ok(json!({
        "alert": res.alert.as_ref().map_or(Value::Null, alert_json),
    })))
}

pub async fn deliveries(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .usage()
        .list_alert_deliveries(caller.request(
            &state,
            ListAlertDeliveriesRequest {
                page: Some(q.page()),
                alert_id: q.alert_id.clone().unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    let deliveries: Vec<Value> = res
        .deliveries
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "alert_id": d.alert_id,
                "url": d.url,
                "attempt": d.attempt,
                "status": d.status,
                "due_at": rfc3339(d.due_at.as_ref()),
                "attempted_at": rfc3339(d.attempted_at.as_ref()),
                "status_code": d.status_code,
                "error": text(&d.error),
                "duration_ms": d.duration_ms,
            })
        })
        .collect();
    Ok(ok(json!({
        "deliveries": deliveries,
        "next_page_token": text(&res.next_page_token),
    })))
}
