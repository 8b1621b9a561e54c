//! Memory-store limits, stored as JSON in `settings` under [`KEY`].

use codex_central_store::{Store, settings};
use serde::{Deserialize, Serialize};

use crate::Result;

pub const KEY: &str = "memory.settings";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemorySettings {
    /// SPEC §8: a memory's content is at most 64 KiB.
    pub max_content_bytes: u32,
    /// Per-owner quota of the sandboxed MCP file workspace.
    pub workspace_quota_bytes: u64,
}

impl Default for MemorySettings {
    fn default() -> Self {
        MemorySettings {
            max_content_bytes: 64 * 1024,
            workspace_quota_bytes: 100 * 1024 * 1024,
        }
    }
}

pub async fn get(store: &Store) -> Result<MemorySettings> {
    Ok(settings::get_json(store, KEY).await?)
}
