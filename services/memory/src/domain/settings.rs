//! Memory-store limits, stored as JSON in `settings` under [`KEY`].

use codex_central_common::Principal;
use codex_central_store::audit::NewAuditEvent;
use codex_central_store::{Store, settings};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

pub const KEY: &str = "memory.settings";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemorySettings {
    /// SPEC §8: a memory's content is at most 64 KiB.
    pub max_content_bytes: u32,
    /// Per-owner quota of the sandboxed MCP file workspace.
    pub workspace_quota_bytes: u64,
    /// Whether the MCP fs_* tools (the workspace RPCs) work at all: off until an admin turns
    /// them on (issue 15: a file surface is opt-in per fleet).
    pub workspace_enabled: bool,
    /// The largest single workspace file.
    pub workspace_max_file_bytes: u64,
}

impl Default for MemorySettings {
    fn default() -> Self {
        MemorySettings {
            max_content_bytes: 64 * 1024,
            workspace_quota_bytes: 100 * 1024 * 1024,
            workspace_enabled: false,
            workspace_max_file_bytes: 1024 * 1024,
        }
    }
}

pub async fn get(store: &Store) -> Result<MemorySettings> {
    Ok(settings::get_json(store, KEY).await?)
}

/// SPEC §8's cap on one memory.
pub const MAX_CONTENT_BYTES: u32 = 64 * 1024;
const MIN_WORKSPACE_QUOTA: u64 = 1024 * 1024;
/// The per-file cap's ceiling: what `/mcp` accepts in one request body.
pub const MAX_WORKSPACE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A change of the settings: a number left at 0, or `workspace_enabled` unset, keeps its value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    pub max_content_bytes: u32,
    pub workspace_quota_bytes: u64,
    pub workspace_enabled: Option<bool>,
    pub workspace_max_file_bytes: u64,
}

/// Changes the limits; audited.
pub async fn update(
    store: &Store,
    by: &Principal,
    client_ip: &str,
    wanted: Change,
) -> Result<MemorySettings> {
    if wanted.max_content_bytes > MAX_CONTENT_BYTES {
        return Err(Error::invalid(
            "settings.max_content_bytes",
            format!("must be at most {MAX_CONTENT_BYTES}"),
        ));
    }
    if wanted.workspace_quota_bytes != 0 && wanted.workspace_quota_bytes < MIN_WORKSPACE_QUOTA {
        return Err(Error::invalid(
            "settings.workspace_quota_bytes",
            format!("must be at least {MIN_WORKSPACE_QUOTA} (1 MiB)"),
        ));
    }
    if wanted.workspace_max_file_bytes > MAX_WORKSPACE_FILE_BYTES {
        return Err(Error::invalid(
            "settings.workspace_max_file_bytes",
            format!("must be at most {MAX_WORKSPACE_FILE_BYTES} (16 MiB)"),
        ));
    }
    let change = |s: &mut MemorySettings| {
        if wanted.max_content_bytes != 0 {
            s.max_content_bytes = wanted.max_content_bytes;
        }
        if wanted.workspace_quota_bytes != 0 {
            s.workspace_quota_bytes = wanted.workspace_quota_bytes;
        }
        if let Some(enabled) = wanted.workspace_enabled {
            s.workspace_enabled = enabled;
        }
        if wanted.workspace_max_file_bytes != 0 {
            s.workspace_max_file_bytes = wanted.workspace_max_file_bytes;
        }
        Ok(())
    };
    let event = |s: &MemorySettings| {
        let details = serde_json::to_value(s).unwrap_or_default();
        Some(
            NewAuditEvent::new(by, client_ip, "memory.settings", "memory:settings")
                .details(details),
        )
    };
    Ok(settings::update_json(store, KEY, &by.audit_actor(), change, event).await?)
}
