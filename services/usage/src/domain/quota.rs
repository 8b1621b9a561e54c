//! ChatGPT quota policy (peer-compatible), stored as JSON in `settings` under [`KEY`].

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
