//! The ChatGPT quota the fleet's account has left, from the newest snapshot a host reported:
//! `chatgpt_usage` in every `/auth` answer (read once a few seconds per replica), and the
//! peer's `GET /admin/chatgpt/usage` and `GET /admin/chatgpt/usage/history?days=`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use codex_central_common::ttl_cache::TtlCache;
use codex_central_proto::common::v1::{PageRequest, TimeRange};
use codex_central_proto::usage::v1::{
    GetLatestQuotaSnapshotRequest, GetLatestQuotaSnapshotResponse, ListQuotaSnapshotsRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::views::{chatgpt_usage_json, rfc3339};
use crate::{ApiError, GatewayState};

/// Hosts report snapshots as Codex runs; a few seconds of delay changes no decision.
const TTL: Duration = Duration::from_secs(5);

/// The newest snapshot of the fleet's account, shared by every `/auth` answer.
#[derive(Clone)]
pub(crate) struct QuotaCache(TtlCache<(), Arc<GetLatestQuotaSnapshotResponse>>);

impl Default for QuotaCache {
    fn default() -> Self {
        QuotaCache(TtlCache::new(TTL, 1))
    }
}

impl QuotaCache {
    /// None when nothing was reported yet, or the snapshot cannot be read now (the answer then
    /// says `unavailable` rather than failing the sync).
    pub(crate) async fn latest(
        &self,
        state: &GatewayState,
        caller: &Caller,
    ) -> Arc<GetLatestQuotaSnapshotResponse> {
        if let Some(s) = self.0.get(&()) {
            return s;
        }
        let req = GetLatestQuotaSnapshotRequest {
            account_id: String::new(),
        };
        match state.hot().get_latest_quota_snapshot(caller, req).await {
            Ok(res) => {
                let s = Arc::new(res);
                self.0.insert((), s.clone());
                s
            }
            Err(err) => {
                tracing::warn!(error = %err.message(), "could not read the ChatGPT quota snapshot");
                Arc::new(GetLatestQuotaSnapshotResponse::default())
            }
        }
    }
}

pub async fn usage(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .usage()
        .get_latest_quota_snapshot(caller.request(
            &state,
            GetLatestQuotaSnapshotRequest {
                account_id: String::new(),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "snapshot": chatgpt_usage_json(&res),
        "status": res.status.as_ref().map(|q| json!({
            "over_limit": q.over_limit,
            "allowance_percent": q.allowance_percent,
            "reason": q.reason,
        })),
        // Read from what hosts reported: nothing is fetched, so nothing waits on a cooldown.
        "cached": false,
        "next_eligible_at": Value::Null,
    })))
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
