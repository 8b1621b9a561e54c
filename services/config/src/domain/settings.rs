//! Config-distribution settings, stored as JSON in `settings` under [`KEY`].

use codex_central_store::audit::{self, Actor};
use codex_central_store::{Store, settings};
use serde::{Deserialize, Serialize};

use super::content::HostPush;
use crate::Result;

pub const KEY: &str = "config.settings";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigSettings {
    /// Bake `[mcp_servers.cdx]` pointing at this server into every host's config (SPEC §5).
    pub managed_mcp_enabled: bool,
    /// Profile `cdx` selects when the user names none; empty = the base config.
    pub default_profile: String,
    /// What a host's push of a prompt or skill does.
    pub host_content_push: HostPush,
}

impl Default for ConfigSettings {
    fn default() -> Self {
        ConfigSettings {
            managed_mcp_enabled: true,
            default_profile: String::new(),
            host_content_push: HostPush::On,
        }
    }
}

pub async fn get(store: &Store) -> Result<ConfigSettings> {
    Ok(settings::get_json(store, KEY).await?)
}

/// Replaces the settings and audits the change in the same transaction.
pub async fn put(store: &Store, actor: &Actor, value: &ConfigSettings) -> Result<()> {
    let txn = store.begin_write().await?;
    settings::put_json(&txn, KEY, value, &actor.principal.audit_actor()).await?;
    let details = serde_json::to_value(value).unwrap_or_default();
    audit::commit(
        txn,
        actor
            .event("config.settings", "config:settings")
            .details(details),
    )
    .await?;
    Ok(())
}
