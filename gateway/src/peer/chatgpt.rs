//! The ChatGPT quota the fleet's account has left, from the newest snapshot (a host's report or
//! the server's own poll of the usage endpoint): `chatgpt_usage` in every `/auth` answer (read
//! once a few seconds per replica), and the peer's `GET /admin/chatgpt/usage[?force=1]`,
//! `POST /admin/chatgpt/usage/refresh` and `GET /admin/chatgpt/usage/history?days=`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use codex_central_common::ttl_cache::TtlCache;
use codex_central_proto::auth::v1::{PollChatGptUsageRequest, PollChatGptUsageResponse};
use codex_central_proto::common::v1::{PageRequest, TimeRange};
use codex_central_proto::usage::v1::{
    GetLatestQuotaSnapshotRequest, GetLatestQuotaSnapshotResponse, ListQuotaSnapshotsRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::flex::FlexBool;
use crate::plumbing::views::{chatgpt_usage_json, rfc3339};
use crate::{ApiError, GatewayState};

/// Hosts report snapshots as Codex runs; a few seconds of delay changes no decision.
const TTL: Duration = Duration::from_secs(5);

/// The newest snapshot of the fleet's account, and when the server may next poll the usage
/// endpoint, shared by every `/auth` answer.
#[derive(Clone)]
pub(crate) struct QuotaCache(TtlCache<(), Arc<FleetQuota>>);

#[derive(Default)]
pub(crate) struct FleetQuota {
    pub latest: GetLatestQuotaSnapshotResponse,
    pub next_eligible_at: Option<prost_types::Timestamp>,
}

impl Default for QuotaCache {
    fn default() -> Self {
        QuotaCache(TtlCache::new(TTL, 1))
    }
}

impl QuotaCache {
    /// An empty snapshot when nothing was reported yet, or it cannot be read now (the answer
    /// then says `unavailable` rather than failing the sync).
    pub(crate) async fn latest(&self, state: &GatewayState, caller: &Caller) -> Arc<FleetQuota> {
        if let Some(s) = self.0.get(&()) {
            return s;
        }
        let req = GetLatestQuotaSnapshotRequest {
            account_id: String::new(),
        };
        let latest = match state.hot().get_latest_quota_snapshot(caller, req).await {
            Ok(res) => res,
            Err(err) => {
                tracing::warn!(error = %err.message(), "could not read the ChatGPT quota snapshot");
                return Arc::new(FleetQuota::default());
            }
        };
        // The cooldown is the server's to read, not the host's: asked as the gateway.
        let reader = Caller::gateway_reader(caller.client_ip);
        let next_eligible_at = match poll(state, &reader, false).await {
            Ok(report) => report.next_eligible_at,
            Err(err) => {
                tracing::warn!(error = %err.message, "could not read the ChatGPT usage poll's cooldown");
                None
            }
        };
        let s = Arc::new(FleetQuota {
            latest,
            next_eligible_at,
        });
        self.0.insert((), s.clone());
        s
    }

    /// After a poll stored a snapshot, so this replica's next `/auth` answers show it at once.
    pub(crate) fn invalidate(&self) {
        self.0.clear();
    }
}

#[derive(Deserialize, Default)]
pub struct UsageQuery {
    force: Option<String>,
}

/// `GET /admin/chatgpt/usage[?force=1]`: the newest snapshot; with `force` the usage endpoint
/// is polled first, when its cooldown allows.
pub async fn usage(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let force = match q.force {
        None => false,
        Some(text) => {
            serde_json::from_value::<FlexBool>(Value::String(text))
                .map_err(|_| {
                    ApiError::invalid_field(
                        "force",
                        "expected a boolean (true/false, 1/0, yes/no, on/off)",
                    )
                })?
                .0
        }
    };
    answer(&state, &caller, force).await
}

/// `POST /admin/chatgpt/usage/refresh`: `GET …?force=1`.
pub async fn refresh(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    answer(&state, &caller, true).await
}

/// `{snapshot, status, cached, next_eligible_at}`, and with `force` the poll's `outcome` (plus
/// `message` when it failed or did not apply). `cached` is false only when this call polled.
async fn answer(state: &GatewayState, caller: &Caller, force: bool) -> Result<Response, ApiError> {
    let poll = poll(state, caller, force).await?;
    // Without `force` the outcome is the last attempt's, not this call's.
    let polled = force && poll.outcome == "polled";
    if polled {
        state.quota().invalidate();
    }
    let res = state
        .clients()
        .usage()
        .get_latest_quota_snapshot(caller.request(
            state,
            GetLatestQuotaSnapshotRequest {
                account_id: String::new(),
            },
        ))
        .await?
        .into_inner();
    let mut body = json!({
        "snapshot": chatgpt_usage_json(&res, poll.next_eligible_at.as_ref()),
        "status": res.status.as_ref().map(|q| json!({
            "over_limit": q.over_limit,
            "allowance_percent": q.allowance_percent,
            "reason": q.reason,
        })),
        "cached": !polled,
        "next_eligible_at": rfc3339(poll.next_eligible_at.as_ref()),
    });
    if force {
        body["outcome"] = json!(poll.outcome);
        if matches!(poll.outcome.as_str(), "failed" | "not_applicable") {
            body["message"] = json!(poll.message);
        }
    }
    Ok(ok(body))
}

async fn poll(
    state: &GatewayState,
    caller: &Caller,
    poll: bool,
) -> Result<PollChatGptUsageResponse, ApiError> {
    Ok(state
        .clients()
        .codex_auth()
        .poll_chat_gpt_usage(caller.request(state, PollChatGptUsageRequest { poll }))
        .await?
        .into_inner())
}

#[derive(Deserialize, Default)]
pub struct HistoryQuery {
    days: Option<u32>,
}

pub async fn history(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let days = q.days.unwrap_or(7);
    if !(1..=90).contains(&days) {
        return Err(ApiError::invalid_field("days", "must be between 1 and 90"));
    }
    let since = std::time::SystemTime::now() - Duration::from_secs(u64::from(days) * 86_400);
    let res = state
        .clients()
        .usage()
        .list_quota_snapshots(caller.request(
            &state,
            ListQuotaSnapshotsRequest {
                page: Some(PageRequest {
                    page_size: 500,
                    page_token: String::new(),
                }),
                account_id: String::new(),
                range: Some(TimeRange {
                    start: Some(prost_types::Timestamp::from(since)),
                    end: None,
                }),
            },
        ))
        .await?
        .into_inner();
    let history: Vec<Value> = res
        .snapshots
        .iter()
        .map(|s| {
            let window = |w: Option<&codex_central_proto::usage::v1::QuotaWindow>| {
                w.map_or(Value::Null, |w| {
                    json!({
                        "used_percent": w.used_percent,
                        "window_minutes": w.window_minutes,
                        "reset_at": rfc3339(w.resets_at.as_ref()),
                    })
                })
            };
            json!({
                "id": s.id,
                "observed_at": rfc3339(s.observed_at.as_ref()),
                "plan_type": if s.plan_type.is_empty() { Value::Null } else { json!(s.plan_type) },
                "limit_reached": s.limit_reached,
                "primary_window": window(s.primary.as_ref()),
                "secondary_window": window(s.secondary.as_ref()),
                "host_id": if s.host_id.is_empty() { Value::Null } else { json!(s.host_id) },
            })
        })
        .collect();
    Ok(ok(json!({ "history": history, "days": days })))
}
