//! ChatGPT rate-limit snapshots: what hosts saw in Codex's `token_count` lines (the fleet's
//! canonical account, stored under the empty account id), and later the server's own poll.

use codex_central_store::entities::quota_snapshots::Model as Snapshot;
use codex_central_store::{Store, quota_snapshots};
use serde_json::json;

use super::parse::{RateLimits, Window};
use crate::Result;

/// The account hosts share: the canonical auth.json's.
pub const FLEET_ACCOUNT: &str = "";

fn minutes(w: &Window) -> i32 {
    i32::try_from(w.window_minutes).unwrap_or(i32::MAX)
}

/// Stores what a host reported; `at` when the report carried no time of its own. A snapshot
/// observed at the same instant as the newest stored one is that one again (a rollout file
/// sent twice) and is not stored twice.
pub async fn record_reported(
    store: &Store,
    host_id: Option<i64>,
    limits: &RateLimits,
    at: i64,
) -> Result<Snapshot> {
    let credits = if limits.has_credits.is_some()
        || limits.credits_unlimited.is_some()
        || limits.credits_balance.is_some()
    {
        json!({
            "has_credits": limits.has_credits,
            "unlimited": limits.credits_unlimited,
            "balance": limits.credits_balance,
        })
        .to_string()
    } else {
        String::new()
    };
    let snapshot = Snapshot {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: FLEET_ACCOUNT.into(),
        source: "host".into(),
        host_id,
        plan_type: limits.plan_type.chars().take(32).collect(),
        primary_used_percent: limits.primary.as_ref().map(|w| w.used_percent),
        primary_window_minutes: limits.primary.as_ref().map(minutes),
        primary_resets_at: limits.primary.as_ref().and_then(|w| w.resets_at_ms),
        secondary_used_percent: limits.secondary.as_ref().map(|w| w.used_percent),
        secondary_window_minutes: limits.secondary.as_ref().map(minutes),
        secondary_resets_at: limits.secondary.as_ref().and_then(|w| w.resets_at_ms),
        limit_reached: limits.limit_reached,
        credits_json: credits.chars().take(500).collect(),
        observed_at: limits.at_ms.unwrap_or(at),
    };
    if let Some(newest) = quota_snapshots::latest(store, FLEET_ACCOUNT).await?
        && newest.observed_at == snapshot.observed_at
    {
        return Ok(newest);
    }
    Ok(quota_snapshots::insert(store, snapshot).await?)
}
