//! cdx's small state file (`$XDG_STATE_HOME/cdx/state.json`, 0600): when the last sync
//! succeeded, what the server said about this host, and which files and config keys the fleet
//! wrote, so cdx removes only what it wrote itself. It never holds a token or the host key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::CdxError;
use crate::files;

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct State {
    /// The last time a sync reached the server and auth.json was settled.
    pub last_sync: Option<DateTime<Utc>>,
    /// From the last `/auth` answer's `host.secure` (None: never synced).
    pub host_secure: Option<bool>,
    /// The canonical `last_refresh` and digest the server reported last.
    pub canonical_last_refresh: Option<String>,
    pub canonical_digest: Option<String>,
    /// The digest of auth.json right after the last sync (to see whether Codex changed it).
    pub auth_digest: Option<String>,
    /// The sha256 of the fleet's baked config.toml last merged (what the server compares).
    pub config_sha256: Option<String>,
    /// Dotted key paths of config.toml the fleet wrote (removed when the fleet drops them).
    pub config_keys: Vec<Vec<String>>,
    /// Whether cdx created config.toml (then it may delete it when empty).
    pub config_created: bool,
    /// Profile name → (file name under CODEX_HOME, sha256 written).
    pub profiles: BTreeMap<String, ProfileFile>,
    /// The digest of the AGENTS.md cdx wrote (None: the file is not cdx's).
    pub agents_sha256: Option<String>,
    /// Prompt file name → digest of what cdx wrote under `prompts/`.
    pub prompts: BTreeMap<String, String>,
    /// The digest of the requirements.toml cdx installed in Codex's system directory.
    pub requirements_sha256: Option<String>,
    /// Skill slug → what cdx wrote under `skills/<slug>/`.
    pub skills: BTreeMap<String, crate::skills_sync::OwnedSkill>,
    /// The Codex version pinned for this host (`/auth` answers' `host.client_version_override`).
    pub codex_pin: Option<String>,
    /// Prompt file name → digest of the local edit last offered to the fleet.
    pub prompts_offered: BTreeMap<String, String>,
    /// The fleet's Codex version when cdx last looked, and the version installed then.
    pub codex_seen: Option<(String, Option<String>)>,
    /// The quota picture of the last `/auth` answer (for `cdx status`).
    pub quota: Option<serde_json::Value>,
    /// The last `/versions` object seen (for `cdx status`).
    pub versions: Option<serde_json::Value>,
    /// The last usage report that reached the server.
    pub last_usage_push: Option<DateTime<Utc>>,
    /// Rollout files whose usage could not be sent yet (retried on the next run).
    pub pending_usage: Vec<PathBuf>,
    /// Last sync outcome in words, for `cdx status`.
    pub last_outcome: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProfileFile {
    pub filename: String,
    pub sha256: String,
}

impl State {
    /// Reads the state; a missing or unreadable file is an empty state (a first run).
    pub fn load(path: &Path) -> State {
        files::read_optional(path)
            .ok()
            .flatten()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, path: &Path) -> Result<(), CdxError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| CdxError::Other(format!("state: {e}")))?;
        files::write_atomic(path, text.as_bytes(), files::SECRET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tolerant_load() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        assert_eq!(State::load(&p), State::default());
        let s = State {
            last_sync: Some(Utc::now()),
            host_secure: Some(true),
            config_keys: vec![vec!["mcp_servers".into(), "cdx".into()]],
            ..State::default()
        };
        s.save(&p).unwrap();
        assert_eq!(State::load(&p), s);
        std::fs::write(&p, "not json").unwrap();
        assert_eq!(State::load(&p), State::default());
    }
}
