//! Baking a host's `config.toml` and profile files: the current template, the host's override
//! block and model overrides, and the managed `[mcp_servers.cdx]` entry with the caller's own
//! key. Same inputs, same bytes.
//!
//! Host syncs run at fleet scale, mostly answering "unchanged", so the current version and the
//! settings are read at most once a second per process, a host's override once a second per
//! host, and a baked file is kept (bounded) under a digest of everything it was made from. A
//! change made through this process is seen at once; one made through another replica within
//! a second.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_central_common::ttl_cache::TtlCache;
use codex_central_store::Store;
use codex_central_store::entities::host_config_overrides::Model as OverrideRow;
use sha2::{Digest, Sha256};

use super::codex_toml::render::ManagedMcp;
use super::codex_toml::render_config;
use super::codex_toml::requirements::render_requirements;
use super::config_docs::{self, BakedFile, Version};
use super::content::{SyncStatus, sha256_hex};
use super::requirements_docs;
use super::settings::{self, ConfigSettings};
use crate::Result;

const SNAPSHOT_TTL: Duration = Duration::from_secs(1);
const BAKED_TTL: Duration = Duration::from_secs(300);
/// Baked files kept; each is one host's config.toml (a few KiB).
const BAKED_CAPACITY: usize = 4096;
const OVERRIDE_CAPACITY: usize = 100_000;

/// A host's `requirements.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementsFile {
    pub sha256: String,
    pub content: String,
}

/// A host's files.
#[derive(Debug, Clone)]
pub struct Baked {
    pub content: String,
    pub sha256: String,
    pub base_sha256: String,
    pub updated_at: i64,
    pub profiles: Arc<Vec<BakedFile>>,
    pub default_profile: String,
    /// `None` when the fleet has no requirements.toml (nor this host a block of its own).
    pub requirements: Option<RequirementsFile>,
}

/// What the host asked with.
pub struct BakeRequest<'a> {
    pub host_id: i64,
    pub bearer: &'a str,
    pub model_override: &'a str,
    pub effort_override: &'a str,
}

/// What changes rarely and every host shares: the current version, its profile files and
/// the settings.
struct Snapshot {
    version: Option<Version>,
    profiles: Arc<Vec<BakedFile>>,
    settings: ConfigSettings,
    requirements: Option<requirements_docs::Version>,
}

/// A snapshot and when it was read.
type Fetched = (Instant, Arc<Snapshot>);

#[derive(Clone)]
pub struct Baker {
    store: Store,
    mcp_url: Arc<str>,
    snapshot: Arc<Mutex<Option<Fetched>>>,
    overrides: TtlCache<i64, Option<Arc<OverrideRow>>>,
    baked: TtlCache<[u8; 32], Arc<Baked>>,
}

impl Baker {
    pub fn new(store: Store, public_url: &str) -> Self {
        Baker {
            store,
            mcp_url: format!("{}/mcp", public_url.trim_end_matches('/')).into(),
            snapshot: Arc::default(),
            overrides: TtlCache::new(SNAPSHOT_TTL, OVERRIDE_CAPACITY),
            baked: TtlCache::new(BAKED_TTL, BAKED_CAPACITY),
        }
    }

    pub fn mcp_url(&self) -> &str {
        &self.mcp_url
    }

    /// Forgets what was read (after a change made through this process).
    pub fn invalidate(&self) {
        if let Ok(mut slot) = self.snapshot.lock() {
            *slot = None;
        }
        self.overrides.clear();
    }

    async fn snapshot(&self) -> Result<Arc<Snapshot>> {
        if let Ok(slot) = self.snapshot.lock()
            && let Some((at, snap)) = slot.as_ref()
            && at.elapsed() < SNAPSHOT_TTL
        {
            return Ok(snap.clone());
        }
        let version = config_docs::current(&self.store).await?;
        let settings = settings::get(&self.store).await?;
        let profiles = match &version {
            Some(v) => config_docs::profile_files(&v.model)?,
            None => Vec::new(),
        };
        let snap = Arc::new(Snapshot {
            version,
            profiles: Arc::new(profiles),
            settings,
            requirements: requirements_docs::current(&self.store).await?,
        });
        if let Ok(mut slot) = self.snapshot.lock() {
            *slot = Some((Instant::now(), snap.clone()));
        }
        Ok(snap)
    }

    async fn host_override(&self, host_id: i64) -> Result<Option<Arc<OverrideRow>>> {
        if let Some(hit) = self.overrides.get(&host_id) {
            return Ok(hit);
        }
        let row = config_docs::host_override(&self.store, host_id)
            .await?
            .map(Arc::new);
        self.overrides.insert(host_id, row.clone());
        Ok(row)
    }

    fn requirements(
        &self,
        snap: &Snapshot,
        over: Option<&OverrideRow>,
    ) -> Result<Option<RequirementsFile>> {
        let extra = over.map_or("", |o| o.requirements_toml.as_str());
        if snap.requirements.is_none() && extra.trim().is_empty() {
            return Ok(None);
        }
        let model = snap
            .requirements
            .as_ref()
            .map(|r| r.model.clone())
            .unwrap_or_default();
        let content =
            render_requirements(&model, Some(("host_override.requirements_toml", extra)))?;
        Ok(Some(RequirementsFile {
            sha256: sha256_hex(content.as_bytes()),
            content,
        }))
    }

    /// The host's requirements.toml alone (when the fleet has no config template).
    pub async fn requirements_only(&self, host_id: i64) -> Result<Option<RequirementsFile>> {
        let snap = self.snapshot().await?;
        let over = self.host_override(host_id).await?;
        self.requirements(&snap, over.as_deref())
    }

    /// The host's files; `None` when no template was ever saved.
    pub async fn bake(&self, req: &BakeRequest<'_>) -> Result<Option<Arc<Baked>>> {
        let snap = self.snapshot().await?;
        let Some(version) = snap.version.as_ref() else {
            return Ok(None);
        };
        let over = self.host_override(req.host_id).await?;
        let managed = snap.settings.managed_mcp_enabled;
        let key = {
            let mut h = Sha256::new();
            for part in [
                version.row.version.to_string().as_str(),
                if managed { req.bearer } else { "" },
                &self.mcp_url,
                req.model_override,
                req.effort_override,
                over.as_ref().map_or("", |o| o.extra_toml.as_str()),
                over.as_ref().map_or("", |o| o.default_profile.as_str()),
                &snap.settings.default_profile,
                &snap
                    .requirements
                    .as_ref()
                    .map_or(0, |r| r.row.version)
                    .to_string(),
                over.as_ref().map_or("", |o| o.requirements_toml.as_str()),
            ] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part.as_bytes());
            }
            <[u8; 32]>::from(h.finalize())
        };
        if let Some(hit) = self.baked.get(&key) {
            return Ok(Some(hit));
        }
        let mut template = version.model.template.clone();
        if !req.model_override.is_empty() {
            template.model = req.model_override.to_string();
        }
        if !req.effort_override.is_empty() {
            template.model_reasoning_effort = req.effort_override.to_string();
        }
        let entry = ManagedMcp {
            url: &self.mcp_url,
            bearer: req.bearer,
        };
        let content = render_config(
            &template,
            over.as_ref()
                .map(|o| ("host_override.extra_toml", o.extra_toml.as_str())),
            managed.then_some(&entry),
        )?;
        let default_profile = over
            .as_ref()
            .map(|o| o.default_profile.clone())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| snap.settings.default_profile.clone());
        let requirements = self.requirements(&snap, over.as_deref())?;
        let baked = Arc::new(Baked {
            requirements,
            sha256: sha256_hex(content.as_bytes()),
            content,
            base_sha256: version.row.sha256.clone(),
            updated_at: version
                .row
                .updated_at
                .max(over.as_ref().map_or(0, |o| o.updated_at)),
            profiles: snap.profiles.clone(),
            default_profile,
        });
        self.baked.insert(key, baked.clone());
        Ok(Some(baked))
    }
}

/// A host's sync: unchanged only when its config.toml matches and, if it listed its profile
/// files, every one of them does too.
pub fn sync_status(
    baked: Option<&Baked>,
    known_sha256: &str,
    known_profiles: Option<&std::collections::HashMap<String, String>>,
) -> SyncStatus {
    let Some(b) = baked else {
        return SyncStatus::Missing;
    };
    if !b.sha256.eq_ignore_ascii_case(known_sha256.trim()) {
        return SyncStatus::Updated;
    }
    if let Some(known) = known_profiles {
        let same = known.len() == b.profiles.len()
            && b.profiles.iter().all(|p| {
                known
                    .get(&p.name)
                    .is_some_and(|s| s.eq_ignore_ascii_case(&p.sha256))
            });
        if !same {
            return SyncStatus::Updated;
        }
    }
    SyncStatus::Unchanged
}
