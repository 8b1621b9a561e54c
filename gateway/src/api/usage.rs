//! `/api/v1/usage/...`: usage rows and ingests (keyset pages), totals per key or period, the
//! daily cost history, day/week/month summaries, and prices. Admins see everything, people
//! their own (the usage service decides). Money is in micros (`*_micros`) of `currency`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use codex_central_proto::common::v1::{PageRequest, TimeRange};
use codex_central_proto::usage::v1::*;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::{ok, ok_with};
use crate::plumbing::extract::{Json, Path};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

/// Filters every usage query takes; `since`/`until` are RFC 3339.
#[derive(Deserialize, Default)]
pub struct UsageQuery {
    host_id: Option<String>,
    user_id: Option<String>,
    token_id: Option<String>,
    model: Option<String>,
    source: Option<String>,
    since: Option<String>,
    until: Option<String>,
    page_size: Option<u32>,
    page_token: Option<String>,
    group_by: Option<String>,
    days: Option<u32>,
}

fn instant(field: &str, text: &Option<String>) -> Result<Option<prost_types::Timestamp>, ApiError> {
    let Some(text) = text.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let t = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|_| ApiError::invalid_field(field, "must be an RFC 3339 time"))?;
    Ok(Some(prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0),
    }))
}

impl UsageQuery {
    fn filter(&self) -> Result<UsageFilter, ApiError> {
        let source = match self.source.as_deref().unwrap_or("") {
            "" => UsageSource::Unspecified,
            "host" => UsageSource::Host,
            "gateway" => UsageSource::Gateway,
            "import" => UsageSource::Import,
            _ => {
                return Err(ApiError::invalid_field(
                    "source",
                    "must be host, gateway or import",
                ));
            }
        };
        Ok(UsageFilter {
            host_id: self.host_id.clone().unwrap_or_default(),
            user_id: self.user_id.clone().unwrap_or_default(),
            model: self.model.clone().unwrap_or_default(),
            range: Some(TimeRange {
                start: instant("since", &self.since)?,
                end: instant("until", &self.until)?,
            }),
            token_id: self.token_id.clone().unwrap_or_default(),
            source: source as i32,
        })
    }

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

pub(crate) fn tokens_json(t: Option<&TokenTotals>) -> Value {
    let t = t.copied().unwrap_or_default();
    json!({
        "total_tokens": t.total_tokens,
        "input_tokens": t.input_tokens,
        "cached_input_tokens": t.cached_input_tokens,
        "cache_write_input_tokens": t.cache_write_input_tokens,
        "output_tokens": t.output_tokens,
        "reasoning_output_tokens": t.reasoning_output_tokens,
    })
}

pub(crate) fn row_json(r: &UsageRow) -> Value {
    json!({
        "id": r.id,
        "ingest_id": text(&r.ingest_id),
        "source": match r.source() {
            UsageSource::Gateway => "gateway",
            UsageSource::Import => "import",
            _ => "host",
        },
        "kind": r.kind,
        "host_id": text(&r.host_id),
        "user_id": text(&r.user_id),
        "token_id": text(&r.token_id),
        "provider_id": text(&r.provider_id),
        "model": r.model,
        "recorded_at": rfc3339(r.recorded_at.as_ref()),
        "session_id": text(&r.session_id),
        "turn_id": text(&r.turn_id),
        "response_id": text(&r.response_id),
        "tokens": tokens_json(r.tokens.as_ref()),
        "cost_micros": r.cost_micros,
        "unpriced": r.pricing_missing,
        "incomplete": r.incomplete,
        "line": text(&r.line),
    })
}

pub async fn rows(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .usage()
        .list_usage_rows(caller.request(
            &state,
            ListUsageRowsRequest {
                page: Some(q.page()),
                filter: Some(q.filter()?),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "rows": res.rows.iter().map(row_json).collect::<Vec<_>>(),
        "next_page_token": text(&res.next_page_token),
        "currency": res.currency,
    })))
}

pub(crate) fn ingest_json(i: &Ingest) -> Value {
    json!({
        "id": i.id,
        "host_id": text(&i.host_id),
        "user_id": text(&i.user_id),
        "client_ip": text(&i.client_ip),
        "received_at": rfc3339(i.recorded_at.as_ref()),
        "row_count": i.row_count,
        "duplicate_count": i.duplicate_count,
        "error_count": i.error_count,
        "tokens": tokens_json(i.totals.as_ref()),
        "cost_micros": i.cost_micros,
    })
}

pub async fn ingests(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .usage()
        .list_ingests(caller.request(
            &state,
            ListIngestsRequest {
                page: Some(q.page()),
                filter: Some(q.filter()?),
                ..Default::default()
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "ingests": res.ingests.iter().map(ingest_json).collect::<Vec<_>>(),
        "next_page_token": text(&res.next_page_token),
        "currency": res.currency,
    })))
}

pub async fn aggregate(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let group_by = match q.group_by.as_deref().unwrap_or("") {
        "" => UsageGrouping::Unspecified,
        "host" => UsageGrouping::Host,
        "user" => UsageGrouping::User,
        "token" => UsageGrouping::Token,
        "model" => UsageGrouping::Model,
        "source" => UsageGrouping::Source,
        "day" => UsageGrouping::Day,
        "week" => UsageGrouping::Week,
        "month" => UsageGrouping::Month,
        _ => {
            return Err(ApiError::invalid_field(
                "group_by",
                "must be host, user, token, model, source, day, week or month",
            ));
        }
    };
    let res = state
        .clients()
        .usage()
        .aggregate_usage(caller.request(
            &state,
            AggregateUsageRequest {
                filter: Some(q.filter()?),
                group_by: group_by as i32,
            },
        ))
        .await?
        .into_inner();
    let buckets: Vec<Value> = res
        .buckets
        .iter()
        .map(|b| {
            json!({
                "key": b.key,
                "label": b.label,
                "tokens": tokens_json(b.tokens.as_ref()),
                "cost_micros": b.cost_micros,
                "row_count": b.row_count,
                "unpriced_rows": b.unpriced_rows,
            })
        })
        .collect();
    Ok(ok(json!({
        "buckets": buckets,
        "totals": tokens_json(res.totals.as_ref()),
        "cost_micros": res.cost_micros,
        "currency": res.currency,
    })))
}

pub async fn cost_history(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .usage()
        .get_cost_history(caller.request(
            &state,
            GetCostHistoryRequest {
                days: q.days.unwrap_or(0),
                filter: Some(q.filter()?),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(cost_history_json(&res)))
}

pub(crate) fn cost_history_json(res: &GetCostHistoryResponse) -> Value {
    let points: Vec<Value> = res
        .points
        .iter()
        .map(|p| {
            json!({
                "day": rfc3339(p.day.as_ref()),
                "tokens": tokens_json(p.tokens.as_ref()),
                "cost_micros": p.cost_micros,
            })
        })
        .collect();
    json!({
        "points": points,
        "currency": res.currency,
        "has_pricing": res.has_pricing,
        "since": rfc3339(res.since.as_ref()),
        "until": rfc3339(res.until.as_ref()),
    })
}

pub async fn summary(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .usage()
        .get_usage_summary(caller.request(
            &state,
            GetUsageSummaryRequest {
                host_id: q.host_id.unwrap_or_default(),
                user_id: q.user_id.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    let period = |p: Option<&UsagePeriodTotals>| {
        let p = p.cloned().unwrap_or_default();
        json!({
            "tokens": tokens_json(p.tokens.as_ref()),
            "cost_micros": p.cost_micros,
            "row_count": p.row_count,
        })
    };
    Ok(ok(json!({
        "day": period(res.day.as_ref()),
        "week": period(res.week.as_ref()),
        "month": period(res.month.as_ref()),
        "currency": res.currency,
    })))
}

#[derive(Deserialize, Default)]
pub struct PricesQuery {
    model: Option<String>,
    history: Option<bool>,
}

fn price_json(p: &PriceSnapshot) -> Value {
    json!({
        "id": p.id,
        "model": p.model,
        "input_per_million_micros": p.input_per_million_micros,
        "cached_input_per_million_micros": p.cached_input_per_million_micros,
        "output_per_million_micros": p.output_per_million_micros,
        "currency": p.currency,
        "effective_at": rfc3339(p.effective_at.as_ref()),
        "source": match p.source() {
            PriceSource::Default => "default",
            PriceSource::Admin => "admin",
            PriceSource::Pull => "pull",
            PriceSource::Import => "import",
            PriceSource::Unspecified => "unknown",
        },
        "created_at": rfc3339(p.created_at.as_ref()),
    })
}

pub async fn prices(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<PricesQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .usage()
        .list_prices(caller.request(
            &state,
            ListPricesRequest {
                model: q.model.unwrap_or_default(),
                include_history: q.history.unwrap_or(false),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "prices": res.prices.iter().map(price_json).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceBody {
    model: String,
    input_per_million_micros: i64,
    #[serde(default)]
    cached_input_per_million_micros: Option<i64>,
    output_per_million_micros: i64,
    #[serde(default)]
    currency: Option<String>,
    /// RFC 3339; default now.
    #[serde(default)]
    effective_at: Option<String>,
}

pub async fn create_price(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<PriceBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .usage()
        .create_price_snapshot(
            caller.request(
                &state,
                CreatePriceSnapshotRequest {
                    model: b.model,
                    input_per_million_micros: b.input_per_million_micros,
                    cached_input_per_million_micros: b
                        .cached_input_per_million_micros
                        .unwrap_or(b.input_per_million_micros),
                    output_per_million_micros: b.output_per_million_micros,
                    currency: b.currency.unwrap_or_default(),
                    effective_at: instant("effective_at", &b.effective_at)?,
                },
            ),
        )
        .await?
        .into_inner();
    let price = res.price.as_ref().map(price_json).unwrap_or(Value::Null);
    Ok(ok_with(StatusCode::CREATED, json!({ "price": price })))
}

pub async fn delete_price(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .clients()
        .usage()
        .delete_price_snapshot(caller.request(&state, DeletePriceSnapshotRequest { id }))
        .await?;
    Ok(ok(json!({ "deleted": true })))
}

/// `GET /api/v1/usage/export.csv`: the rows the filters select, newest first, streamed as the
/// usage service reads them (one page in memory, whatever the size).
pub async fn export_csv(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    use axum::response::IntoResponse;
    use futures::StreamExt;
    let Query(q) = query?;
    let stream = state
        .clients()
        .usage()
        .export_usage_csv(caller.request(
            &state,
            ExportUsageCsvRequest {
                filter: Some(q.filter()?),
            },
        ))
        .await?
        .into_inner();
    let body = axum::body::Body::from_stream(stream.map(|m| match m {
        Ok(m) => Ok(bytes::Bytes::from(m.chunk)),
        // The status is sent already: cut the body so the client sees a broken download.
        Err(s) => Err(std::io::Error::other(s.message().to_string())),
    }));
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"usage.csv\"",
            ),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// `POST /api/v1/usage/recompute-costs`: every stored row priced again with the snapshots in
/// force at its time.
pub async fn recompute_costs(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .usage()
        .recompute_costs(caller.request(&state, RecomputeCostsRequest {}))
        .await?
        .into_inner();
    Ok(ok(json!({
        "rows_examined": res.rows_examined,
        "rows_changed": res.rows_changed,
    })))
}

/// `POST /api/v1/usage/prices/sync`: pull `pricing_url` now.
pub async fn sync_prices(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .usage()
        .sync_pricing(caller.request(&state, SyncPricingRequest {}))
        .await?
        .into_inner();
    Ok(ok(json!({
        "added": res.added,
        "synced_at": rfc3339(res.synced_at.as_ref()),
    })))
}
