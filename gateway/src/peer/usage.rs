//! `POST /usage` (contract §2): a host reports token usage, one entry or `{"usages": [...]}`.
//! The usage service parses and stores; the answer has the peer's shape.

use std::collections::HashMap;

use axum::Router;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::post;
use codex_central_proto::fleet::v1::HostCallKind;
use codex_central_proto::usage::v1::{IngestUsageRequest, UsageEntry};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::plumbing::extract::{RawBody, parse_json};
use crate::plumbing::host_caller::{Reported, authenticate};
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
    let usages: Vec<Value> = res
        .rows
        .iter()
        .map(|r| {
            let t = r.tokens.unwrap_or_default();
            json!({
                "recorded_at": crate::plumbing::views::rfc3339(r.recorded_at.as_ref()),
                "line": r.line,
                "total": t.total_tokens,
                "input": t.input_tokens,
                "output": t.output_tokens,
                "cached": t.cached_input_tokens,
                "reasoning": t.reasoning_output_tokens,
                "cost": money(r.cost_micros),
                "unpriced": r.pricing_missing,
                "model": if r.model.is_empty() { Value::Null } else { json!(r.model) },
                "session_id": r.session_id,
                "response_id": r.response_id,
                "index": r.entry_index,
            })
        })
        .collect();
    let mut data = Map::new();
    if single && let Some(Value::Object(first)) = usages.first() {
        data.extend(first.clone());
    }
    data.insert("host_id".into(), json!(host.id));
    data.insert("recorded".into(), json!(res.recorded > 0));
    data.insert("recorded_count".into(), json!(res.recorded));
    data.insert("usages".into(), Value::Array(usages));
    data.insert("ingest_id".into(), json!(res.ingest_id));
    data.insert("cost".into(), money(res.cost_micros));
    data.insert("currency".into(), json!(res.currency));
    data.insert("duplicates".into(), json!(res.duplicates));
    data.insert("superseded".into(), json!(res.superseded));
    data.insert("quota_recorded".into(), json!(res.quota_recorded));
    if !res.errors.is_empty() {
        let errors: Vec<Value> = res
            .errors
            .iter()
            .map(|e| json!({ "index": e.index, "reason": e.reason }))
            .collect();
        data.insert("errors".into(), Value::Array(errors));
    }
    Ok(crate::plumbing::error::ok(Value::Object(data)))
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
    json!(micros as f64 / 1_000_000.0)
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
