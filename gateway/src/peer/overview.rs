//! Peer-compatible `GET /admin/overview`: fleet totals, canonical auth state, versions, policy
//! the fleet's token use and cost today, this week and this month (UTC), and the newest ChatGPT
//! quota snapshot.

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use codex_central_common::net::PeerInfo;
use codex_central_proto::auth::v1::GetCodexAuthStatusRequest;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::fleet::v1::{GetFleetOverviewRequest, ListAuditEventsRequest};
use codex_central_proto::usage::v1::{GetQuotaPolicyRequest, GetUsageSummaryRequest};
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::views::{codex_auth_alerts, codex_auth_json, rfc3339};
use crate::{ApiError, GatewayState};

/// Active usage alerts shown at most; `usage_alerts_more` says when there are others.
const ALERTS_SHOWN: u32 = 50;

/// An active usage alert as an overview flag, beside the canonical auth's.
fn usage_alert_flag(a: &codex_central_proto::usage::v1::UsageAlert) -> Value {
    json!({
        "code": format!("usage_{}", a.metric),
        "severity": if a.threshold >= 100 { "critical" } else { "warning" },
        "message": a.message,
        "alert_id": a.id,
        "scope": a.scope,
        "subject_id": a.subject_id,
        "threshold": a.threshold,
        "percent": a.percent,
        "window_end": rfc3339(a.window_end.as_ref()),
    })
}

pub async fn get(
    State(state): State<GatewayState>,
    caller: Caller,
    parts: Parts,
) -> Result<Response, ApiError> {
    let fleet = state
        .clients()
        .fleet()
        .get_fleet_overview(caller.request(&state, GetFleetOverviewRequest {}))
        .await?
        .into_inner();
    let quota = state
        .clients()
        .usage()
        .get_quota_policy(caller.request(&state, GetQuotaPolicyRequest {}))
        .await?
        .into_inner()
        .policy
        .unwrap_or_default();
    let status = state
        .clients()
        .codex_auth()
        .get_codex_auth_status(caller.request(&state, GetCodexAuthStatusRequest {}))
        .await?
        .into_inner()
        .summary
        .unwrap_or_default();
    let latest_log = state
        .clients()
        .fleet()
        .list_audit_events(caller.request(
            &state,
            ListAuditEventsRequest {
                page: Some(PageRequest {
                    page_size: 1,
                    page_token: String::new(),
                }),
                actor: String::new(),
                action: String::new(),
                target: String::new(),
            },
        ))
        .await?
        .into_inner();
    let usage = state
        .clients()
        .usage()
        .get_usage_summary(caller.request(&state, GetUsageSummaryRequest::default()))
        .await?
        .into_inner();
    let tokens = |p: Option<&codex_central_proto::usage::v1::UsagePeriodTotals>| {
        p.and_then(|p| p.tokens).map_or(0, |t| t.total_tokens)
    };
    let cost = |p: Option<&codex_central_proto::usage::v1::UsagePeriodTotals>| {
        super::usage::money(p.map_or(0, |p| p.cost_micros))
    };
    let quota_snapshot = state
        .clients()
        .usage()
        .get_latest_quota_snapshot(caller.request(
            &state,
            codex_central_proto::usage::v1::GetLatestQuotaSnapshotRequest::default(),
        ))
        .await?
        .into_inner();
    let chatgpt_poll = state
        .clients()
        .codex_auth()
        .poll_chat_gpt_usage(caller.request(
            &state,
            codex_central_proto::auth::v1::PollChatGptUsageRequest { poll: false },
        ))
        .await?
        .into_inner();
    let raised = state
        .clients()
        .usage()
        .list_alerts(caller.request(
            &state,
            codex_central_proto::usage::v1::ListAlertsRequest {
                page: Some(PageRequest {
                    page_size: ALERTS_SHOWN,
                    page_token: String::new(),
                }),
                active_only: true,
            },
        ))
        .await?
        .into_inner();
    let mut alerts = codex_auth_alerts(&status);
    alerts.extend(raised.alerts.iter().map(usage_alert_flag));
    let policy = fleet.policy.unwrap_or_default();
    let versions = fleet.versions.unwrap_or_default();
    let pinned = policy
        .codex_version
        .as_ref()
        .filter(|v| v.pinned)
        .map(|v| v.version.clone());
    let cert = parts
        .extensions
        .get::<PeerInfo>()
        .is_some_and(|p| p.client_cert_verified);
    let has_canonical = status.present;
    let canonical = |v: &str| has_canonical.then(|| v.to_string());
    Ok(ok(json!({
        "mtls": { "required": false, "present": cert, "enforced": false },
        "totals": {
            "hosts": fleet.total_hosts,
            "active_24h": fleet.active_hosts,
            "disabled": fleet.disabled_hosts,
            "insecure_open": fleet.insecure_open_hosts,
        },
        "latest_activity_at": rfc3339(fleet.latest_activity_at.as_ref()),
        "latest_log_at": rfc3339(latest_log.events.first().and_then(|e| e.at.as_ref())),
        "last_refresh": canonical(&status.last_refresh_text),
        "canonical_digest": canonical(&status.digest),
        "has_canonical_auth": has_canonical,
        "canonical_auth": codex_auth_json(&status),
        "alerts": alerts,
        "usage_alerts_active": raised.alerts.len(),
        "usage_alerts_more": !raised.next_page_token.is_empty(),
        "seed_required": !has_canonical,
        "seed_reasons": if has_canonical { json!([]) } else { json!(["no canonical auth.json yet"]) },
        "versions": {
            "client_version": if versions.client_version.is_empty() { Value::Null } else { json!(versions.client_version) },
            "installation_id": versions.installation_id,
            "wrapper_url": versions.wrapper_url,
        },
        "quota_hard_fail": quota.hard_fail,
        "quota_limit_percent": quota.limit_percent,
        "quota_week_partition": quota.week_partition_days,
        "quota_projected_percent": quota_snapshot.status.as_ref().and_then(|q| q.weekly_projected_percent),
        "cdx_silent": policy.silent_mode,
        "api_disabled": !policy.api_enabled,
        "inactivity_window_days": policy.prune_inactive_days,
        "client_version_lock": pinned,
        "tokens": tokens(usage.month.as_ref()),
        "tokens_day": tokens(usage.day.as_ref()),
        "tokens_week": tokens(usage.week.as_ref()),
        "tokens_month": tokens(usage.month.as_ref()),
        "pricing": { "currency": usage.currency },
        "pricing_day_cost": cost(usage.day.as_ref()),
        "pricing_week_cost": cost(usage.week.as_ref()),
        "pricing_month_cost": cost(usage.month.as_ref()),
        "chatgpt_usage": crate::plumbing::views::chatgpt_usage_json(
            &quota_snapshot,
            chatgpt_poll.next_eligible_at.as_ref(),
        ),
        // The overview reads what is stored; only the refresh route calls upstream.
        "chatgpt_cached": true,
        "chatgpt_next_eligible_at": rfc3339(chatgpt_poll.next_eligible_at.as_ref()),
    })))
}
