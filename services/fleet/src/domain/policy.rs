//! Fleet-wide policy, stored as one JSON document in `settings` under [`KEY`].

use codex_central_store::{Store, settings};
use serde::{Deserialize, Serialize};

use crate::Result;

pub const KEY: &str = "fleet.policy";
/// SPEC §4 / the peer: inactivity pruning after 0 (never) to 60 days.
pub const MAX_PRUNE_INACTIVE_DAYS: u32 = 60;

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
    pub codex_version: CodexVersionPolicy,
}

impl Default for FleetPolicy {
    fn default() -> Self {
        FleetPolicy {
            api_enabled: true,
            silent_mode: false,
            prune_inactive_days: 30,
            codex_version: CodexVersionPolicy::default(),
        }
    }
}

pub async fn get(store: &Store) -> Result<FleetPolicy> {
    Ok(settings::get_json(store, KEY).await?)
}

/// Changes the policy (read-modify-write without lost updates) and audits it.
pub async fn update(
    store: &Store,
    actor: &super::hosts::Actor,
    action: &str,
    change: impl FnMut(&mut FleetPolicy) -> codex_central_store::Result<()>,
) -> Result<FleetPolicy> {
    let by = actor.principal.audit_actor();
    let event = |p: &FleetPolicy| {
        let details = serde_json::to_value(p).unwrap_or_default();
        Some(actor.event(action, "fleet:policy").details(details))
    };
    Ok(settings::update_json(store, KEY, &by, change, event).await?)
}

/// The server's installation id, baked into the peer's wrappers: a host presenting another one
/// is talking to the wrong server. Created on first use (an import sets the peer's).
pub const INSTALLATION_ID_KEY: &str = "fleet.installation_id";

pub async fn installation_id(store: &Store) -> Result<String> {
    if let Some(row) = settings::get(store, INSTALLATION_ID_KEY).await? {
        return Ok(serde_json::from_str::<String>(&row.value).unwrap_or(row.value));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let text = serde_json::to_string(&id).unwrap_or_default();
    if settings::compare_and_put(store.db(), INSTALLATION_ID_KEY, None, text, "system").await? {
        return Ok(id);
    }
    // Another replica created it first.
    let row = settings::get(store, INSTALLATION_ID_KEY).await?;
    Ok(row
        .map(|r| serde_json::from_str::<String>(&r.value).unwrap_or(r.value))
        .unwrap_or(id))
}
