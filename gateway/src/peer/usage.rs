//! `POST /usage` (contract §2): a host reports token usage, one entry or `{"usages": [...]}`.
//! The usage service parses and stores; the answer has the peer's shape.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::post;
use codex_central_proto::fleet::v1::HostCallKind;
use codex_central_proto::usage::v1::{IngestUsageRequest, UsageEntry, UsageRow};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::plumbing::extract::{RawBody, parse_json};
use crate::plumbing::host_caller::{Reported, authenticate};
use crate::plumbing::views::rfc3339_text;
use crate::{ApiError, GatewayState};

pub fn router() -> Router<GatewayState> {
    Router::new().route("/usage", post(report))
}

async fn report(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let (caller, host) = authenticate(
        &state,
        &parts,
        HostCallKind::General,
        false,
        Reported::default(),
    )
    .await?;
    let (entries, single) = split_entries(&body)?;
    let res = state
        .hot()
        .ingest_usage(
            &caller,
            IngestUsageRequest {
                entries: entries
                    .into_iter()
                    .map(|raw_json| UsageEntry {
                        raw_json,
                        ..Default::default()
                    })
                    .collect(),
            },
        )
        .await?;
    let usages: Vec<RowView> = res.rows.iter().map(RowView::of).collect();
    let answer = Answer {
        single: single.then(|| usages.first()).flatten().map(|row| RowView {
            cost: None,
            ..row.clone()
        }),
        host_id: &host.id,
        recorded: res.recorded > 0,
        recorded_count: res.recorded,
        usages,
        ingest_id: &res.ingest_id,
        cost: money_units(res.cost_micros),
        currency: &res.currency,
        duplicates: &res.duplicates,
        superseded: &res.superseded,
        quota_recorded: res.quota_recorded,
        errors: res
            .errors
            .iter()
            .map(|e| ErrorView {
                index: e.index,
                reason: &e.reason,
            })
            .collect(),
    };
    Ok(crate::plumbing::error::ok(answer))
}

/// The answer, written straight from the service's (a report can hold thousands of rows).
#[derive(Serialize)]
struct Answer<'a> {
    /// A single entry's row is also merged into the top level, as the peer does; its cost is
    /// the report's.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    single: Option<RowView<'a>>,
    host_id: &'a str,
    recorded: bool,
    recorded_count: u32,
    usages: Vec<RowView<'a>>,
    ingest_id: &'a str,
    cost: f64,
    currency: &'a str,
    duplicates: &'a [u32],
    superseded: &'a [u32],
    quota_recorded: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ErrorView<'a>>,
}

#[derive(Serialize, Clone)]
struct RowView<'a> {
    /// `null` when out of range.
    recorded_at: Option<String>,
    line: &'a str,
    total: u64,
    input: u64,
    output: u64,
    cached: u64,
    reasoning: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<f64>,
    unpriced: bool,
    /// `null` when the entry named none.
    model: Option<&'a str>,
    session_id: &'a str,
    response_id: &'a str,
    index: u32,
}

impl<'a> RowView<'a> {
    fn of(r: &'a UsageRow) -> Self {
        let t = r.tokens.unwrap_or_default();
        RowView {
            recorded_at: r.recorded_at.as_ref().and_then(rfc3339_text),
            line: &r.line,
            total: t.total_tokens,
            input: t.input_tokens,
            output: t.output_tokens,
            cached: t.cached_input_tokens,
            reasoning: t.reasoning_output_tokens,
            cost: Some(money_units(r.cost_micros)),
            unpriced: r.pricing_missing,
            model: (!r.model.is_empty()).then_some(r.model.as_str()),
            session_id: &r.session_id,
            response_id: &r.response_id,
            index: r.entry_index,
        }
    }
}

#[derive(Serialize)]
struct ErrorView<'a> {
    index: u32,
    reason: &'a str,
}

/// The report's entries as the JSON text of each (the usage service parses them), and whether
/// the body was one entry rather than `{"usages": [...]}`. Only the outline is parsed here.
fn split_entries(body: &[u8]) -> Result<(Vec<String>, bool), ApiError> {
    // Invalid JSON is answered as such; any other body that is not an object, as not one.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        parse_json::<Value>(body, "Invalid JSON payload")?;
        return Err(ApiError::invalid_field("body", "expected a JSON object"));
    }
    // The outline only: each member's text is borrowed, a repeated key keeps its last value.
    let mut outline: HashMap<String, &RawValue> = parse_json(body, "Invalid JSON payload")?;
    let Some(usages) = outline.remove("usages") else {
        let text =
            std::str::from_utf8(body).map_err(|_| ApiError::bad_request("Invalid JSON payload"))?;
        return Ok((vec![text.trim().to_string()], true));
    };
    let list: Vec<&RawValue> = serde_json::from_str(usages.get())
        .map_err(|_| ApiError::invalid_field("usages", "usages must be an array"))?;
    if list.is_empty() {
        return Err(ApiError::invalid_field("usages", "usages is empty"));
    }
    Ok((list.iter().map(|e| e.get().to_string()).collect(), false))
}

/// Micros as the peer's money: a number in currency units, 6 decimals.
pub(crate) fn money(micros: i64) -> Value {
    json!(money_units(micros))
}

fn money_units(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// How long a host's month-to-date tokens are reused in its `/auth` answers: hosts sync on
/// every Codex start, and the number only informs the wrapper's display.
const MONTH_USAGE_TTL: std::time::Duration = std::time::Duration::from_secs(60);
const MONTH_USAGE_HOSTS: usize = 200_000;

/// Month-to-date tokens per host, for `token_usage_month`.
#[derive(Clone)]
pub(crate) struct MonthUsageCache(codex_central_common::ttl_cache::TtlCache<String, u64>);

impl Default for MonthUsageCache {
    fn default() -> Self {
        MonthUsageCache(codex_central_common::ttl_cache::TtlCache::new(
            MONTH_USAGE_TTL,
            MONTH_USAGE_HOSTS,
        ))
    }
}

impl MonthUsageCache {
    /// The host's tokens this month (UTC); None when they cannot be read now (the answer then
    /// carries null rather than failing the sync).
    pub(crate) async fn get(
        &self,
        state: &GatewayState,
        caller: &crate::plumbing::caller::Caller,
        host_id: &str,
    ) -> Option<u64> {
        if let Some(n) = self.0.get(host_id) {
            return Some(n);
        }
        let req = codex_central_proto::usage::v1::GetUsageSummaryRequest {
            host_id: host_id.to_string(),
            user_id: String::new(),
        };
        match state.hot().get_usage_summary(caller, req).await {
            Ok(res) => {
                let n = res
                    .month
                    .and_then(|m| m.tokens)
                    .map_or(0, |t| t.total_tokens);
                self.0.insert(host_id.to_string(), n);
                Some(n)
            }
            Err(err) => {
                tracing::warn!(error = %err.message(), "could not read a host's monthly usage");
                None
            }
        }
    }
}
