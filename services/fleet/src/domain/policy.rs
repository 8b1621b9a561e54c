//! Fleet-wide policy, stored as one JSON document in `settings` under [`KEY`].

use codex_central_store::{Store, settings};
use serde::{Deserialize, Serialize};

use crate::Result;

pub const KEY: &str = "fleet.policy";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostContentPush {
    Off,
    Review,
    On,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodexVersionPolicy {
    /// false: hosts follow the latest known Codex version.
    pub pinned: bool,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FleetPolicy {
    /// The kill switch: false makes every host call answer 503.
    pub api_enabled: bool,
    pub silent_mode: bool,
    /// Hosts inactive this many days are pruned; 0 = never (SPEC §4: default 30).
    pub prune_inactive_days: u32,
    pub host_content_push: HostContentPush,
    pub codex_version: CodexVersionPolicy,
}

impl Default for FleetPolicy {
    fn default() -> Self {
        FleetPolicy {
            api_enabled: true,
            silent_mode: false,
            prune_inactive_days: 30,
            host_content_push: HostContentPush::Review,
            codex_version: CodexVersionPolicy::default(),
        }
    }
}

pub async fn get(store: &Store) -> Result<FleetPolicy> {
    Ok(settings::get_json(store, KEY).await?)
}
