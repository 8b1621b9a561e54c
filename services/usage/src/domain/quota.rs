//! ChatGPT quota policy (peer-compatible), stored as JSON in `settings` under [`KEY`].

use codex_central_common::Principal;
use codex_central_store::audit::{self, NewAuditEvent};
use codex_central_store::{Store, settings};
use serde::{Deserialize, Serialize};

use crate::Result;

pub const KEY: &str = "usage.quota_policy";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuotaPolicy {
    /// Refuse to start Codex when the limit is reached (VIP hosts are exempt).
    pub hard_fail: bool,
    /// 50–100.
    pub limit_percent: u32,
    /// 0 (off), 5 or 7 daily allowances of the weekly window.
    pub week_partition_days: u32,
}

/// The peer's defaults: hard fail on, 100 %, no week partition.
impl Default for QuotaPolicy {
    fn default() -> Self {
        QuotaPolicy {
            hard_fail: true,
            limit_percent: 100,
            week_partition_days: 0,
        }
    }
}

pub async fn get(store: &Store) -> Result<QuotaPolicy> {
    Ok(settings::get_json(store, KEY).await?)
}

/// Validates and stores a new quota policy, with an audit row.
pub async fn set(
    store: &Store,
    admin: &Principal,
    client_ip: &str,
    policy: QuotaPolicy,
) -> Result<QuotaPolicy> {
    if !(50..=100).contains(&policy.limit_percent) {
        return Err(crate::Error::invalid_argument(
            "limit_percent must be between 50 and 100",
        ));
    }
    if !matches!(policy.week_partition_days, 0 | 5 | 7) {
        return Err(crate::Error::invalid_argument(
            "week_partition must be off (0), 5 or 7",
        ));
    }
    let txn = store.begin().await?;
    settings::put_json(&txn, KEY, &policy, &admin.audit_actor()).await?;
    let event = NewAuditEvent::new(admin, client_ip, "quota.set_policy", "usage:quota_policy")
        .details(serde_json::to_value(&policy).unwrap_or_default());
    audit::commit(txn, event).await?;
    Ok(policy)
}
