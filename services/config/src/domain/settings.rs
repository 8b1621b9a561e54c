//! Config-distribution settings, stored as JSON in `settings` under [`KEY`].

use codex_central_store::{Store, settings};
use serde::{Deserialize, Serialize};

use crate::Result;

pub const KEY: &str = "config.settings";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigSettings {
    /// Bake `[mcp_servers.cdx]` pointing at this server into every host's config (SPEC §5).
    pub managed_mcp_enabled: bool,
    /// Profile `cdx` selects when the user names none; empty = the base config.
    pub default_profile: String,
}

impl Default for ConfigSettings {
    fn default() -> Self {
        ConfigSettings {
            managed_mcp_enabled: true,
            default_profile: String::new(),
        }
    }
}

pub async fn get(store: &Store) -> Result<ConfigSettings> {
    Ok(settings::get_json(store, KEY).await?)
}
