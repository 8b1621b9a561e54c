//! The peer's usage admin routes: `GET /admin/usage` and `GET /admin/tokens` (the newest usage
//! rows, under `usages` and `tokens`), `GET /admin/usage/cost-history?days=` and
//! `GET /admin/usage/ingests`. Money is a number
//! in `currency` with six decimals, as the peer shows it.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::usage::v1::{
    GetCostHistoryRequest, ListUsageRowsRequest, UsageFilter, UsageRow,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::usage::money;
use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

/// The peer's default and largest `limit`.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

#[derive(Deserialize, Default)]
pub struct LimitQuery {
    limit: Option<u32>,
    host_id: Option<String>,
    days: Option<u32>,
}

fn row(r: &UsageRow) -> Value {
    let t = r.tokens.unwrap_or_default();
    let text = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
    json!({
        "id": r.id,
        "host_id": text(&r.host_id),
        "ingest_id": text(&r.ingest_id),
        "total": t.total_tokens,
        "input_tokens": t.input_tokens,
        "output_tokens": t.output_tokens,
        "cached_tokens": t.cached_input_tokens,
        "reasoning_tokens": t.reasoning_output_tokens,
        "cost": money(r.cost_micros),
        "unpriced": r.pricing_missing,
        "model": text(&r.model),
        "line": text(&r.line),
        "created_at": rfc3339(r.recorded_at.as_ref()),
        "source": if r.source == 2 { "gateway" } else { "host" },
        "user_id": text(&r.user_id),
        "session_id": text(&r.session_id),
        "response_id": text(&r.response_id),
    })
}

async fn newest(
    state: &GatewayState,
    caller: &Caller,
    q: &LimitQuery,
) -> Result<Vec<Value>, ApiError> {
    let limit = match q.limit.unwrap_or(DEFAULT_LIMIT) {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    let res = state
        .clients()
        .usage()
        .list_usage_rows(caller.request(
            state,
            ListUsageRowsRequest {
                page: Some(PageRequest {
                    page_size: limit,
                    page_token: String::new(),
                }),
                filter: Some(UsageFilter {
                    host_id: q.host_id.clone().unwrap_or_default(),
                    ..Default::default()
                }),
            },
        ))
        .await?
        .into_inner();
    Ok(res.rows.iter().map(row).collect())
}

pub async fn usages(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    Ok(ok(json!({ "usages": newest(&state, &caller, &q).await? })))
}

pub async fn tokens(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    Ok(ok(json!({ "tokens": newest(&state, &caller, &q).await? })))
}

pub async fn cost_history(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let days = q.days.unwrap_or(30);
    if !(1..=180).contains(&days) {
        return Err(ApiError::invalid_field("days", "must be between 1 and 180"));
    }
    let res = state
        .clients()
        .usage()
        .get_cost_history(caller.request(
            &state,
            GetCostHistoryRequest {
                days,
                filter: Some(UsageFilter {
                    host_id: q.host_id.clone().unwrap_or_default(),
                    ..Default::default()
                }),
            },
        ))
        .await?
        .into_inner();
    let points: Vec<Value> = res
        .points
        .iter()
        .map(|p| {
            let t = p.tokens.unwrap_or_default();
            json!({
                "date": rfc3339(p.day.as_ref()).as_str().and_then(|d| d.get(..10)).map(str::to_string),
                "cost": money(p.cost_micros),
                "tokens": t.total_tokens,
                "input_tokens": t.input_tokens,
                "output_tokens": t.output_tokens,
                "cached_tokens": t.cached_input_tokens,
                "reasoning_tokens": t.reasoning_output_tokens,
            })
        })
        .collect();
    Ok(ok(json!({
        "points": points,
        "currency": res.currency,
        "pricing": { "currency": res.currency, "source": "snapshots" },
        "has_pricing": res.has_pricing,
        "since": rfc3339(res.since.as_ref()),
        "until": rfc3339(res.until.as_ref()),
        "days": days,
    })))
}

#[derive(Deserialize, Default)]
pub struct IngestsQuery {
    page: Option<u32>,
    per_page: Option<u32>,
    q: Option<String>,
    sort: Option<String>,
    direction: Option<String>,
    host_id: Option<String>,
}

/// `GET /admin/usage/ingests`: numbered pages of report envelopes (`page`, `per_page` ≤ 200),
/// newest first unless `sort`/`direction` say otherwise, as `{data, current_page, per_page,
/// total, last_page, currency}`.
pub async fn ingests(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<IngestsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let page = q.page.unwrap_or(1).max(1);
    let per_page = q.per_page.unwrap_or(25);
    if !(1..=200).contains(&per_page) {
        return Err(ApiError::invalid_field(
            "per_page",
            "must be between 1 and 200",
        ));
    }
    let ascending = match q.direction.as_deref().unwrap_or("desc") {
        "asc" => true,
        "desc" => false,
        _ => return Err(ApiError::invalid_field("direction", "must be asc or desc")),
    };
    let res = state
        .clients()
        .usage()
        .list_ingests(caller.request(
            &state,
            codex_central_proto::usage::v1::ListIngestsRequest {
                page: Some(PageRequest {
                    page_size: per_page,
                    page_token: String::new(),
                }),
                filter: Some(UsageFilter {
                    host_id: q.host_id.clone().unwrap_or_default(),
                    ..Default::default()
                }),
                page_number: page,
                sort: q.sort.clone().unwrap_or_default(),
                ascending,
                query: q.q.clone().unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    let data: Vec<Value> = res
        .ingests
        .iter()
        .map(|i| {
            let t = i.totals.unwrap_or_default();
            json!({
                "id": i.id,
                "host_id": if i.host_id.is_empty() { Value::Null } else { json!(i.host_id) },
                "client_ip": i.client_ip,
                "created_at": rfc3339(i.recorded_at.as_ref()),
                "row_count": i.row_count,
                "total": t.total_tokens,
                "input_tokens": t.input_tokens,
                "output_tokens": t.output_tokens,
                "cached_tokens": t.cached_input_tokens,
                "reasoning_tokens": t.reasoning_output_tokens,
                "cost": money(i.cost_micros),
                "duplicate_count": i.duplicate_count,
                "error_count": i.error_count,
            })
        })
        .collect();
    let last_page = res.total.div_ceil(u64::from(per_page)).max(1);
    Ok(ok(json!({
        "data": data,
        "current_page": page,
        "per_page": per_page,
        "total": res.total,
        "last_page": last_page,
        "currency": res.currency,
    })))
}
