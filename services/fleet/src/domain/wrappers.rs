//! Wrapper artifacts (`GET /wrapper`, `/wrapper/download`): admin-published releases stored in
//! the database, plus the files of `--wrapper-dir` read once at start. A host asking for its
//! platform gets the newest binary for it, else the legacy script; the script's placeholders are
//! baked per host, so its sha256 is that of the baked bytes.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codex_central_common::ttl_cache::TtlCache;

use codex_central_store::audit::{self, Actor};
use codex_central_store::entities::hosts::Model as Host;
use codex_central_store::entities::wrapper_releases::Model as Row;
use codex_central_store::{Store, now_ms, wrapper_releases};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The platform name of the legacy bash wrapper.
pub const SCRIPT_PLATFORM: &str = "script";
/// Upper bound for one artifact (a cdx binary is a few MiB).
pub const MAX_SIZE: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Binary,
    Script,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Binary => "binary",
            Kind::Script => "script",
        }
    }

    fn parse(s: &str) -> Kind {
        if s == "script" {
            Kind::Script
        } else {
            Kind::Binary
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Published,
    Directory,
}

#[derive(Debug, Clone)]
pub struct Release {
    pub platform: String,
    pub version: String,
    pub kind: Kind,
    /// SHA-256 of the stored bytes (the template, for scripts).
    pub sha256: String,
    pub size_bytes: u64,
    pub updated_at: i64,
    pub origin: Origin,
}

struct DirFile {
    release: Release,
    content: Arc<Vec<u8>>,
}

#[derive(Clone)]
pub struct WrapperCatalog {
    store: Store,
    dir: Arc<Vec<DirFile>>,
    /// The advertised release and the silent flag baked into it, read at most once a second
    /// (every host sync needs them).
    advertised: TtlCache<(), Advertised>,
    /// The advertised script's bytes, kept while it stays advertised.
    template: Arc<Mutex<Option<Template>>>,
    /// Digest of one host's bake inputs -> SHA-256 of its baked script.
    baked: TtlCache<[u8; 32], String>,
}

/// A script's SHA-256 and bytes.
type Template = (String, Arc<Vec<u8>>);

#[derive(Clone)]
struct Advertised {
    release: Option<Arc<Release>>,
    silent: bool,
}

/// How long a host's baked-script digest answers before it is baked again. Every input is
/// part of the key, so this only bounds how long an unused entry stays.
const BAKED_TTL: Duration = Duration::from_secs(600);
const ADVERTISED_TTL: Duration = Duration::from_secs(1);

/// What a host's served wrapper depends on besides the catalog: the host row, the key it
/// authenticated with, the server's public URL and installation id.
pub struct HostWrapper<'a> {
    pub host: &'a Host,
    pub api_key: &'a str,
    pub base_url: &'a str,
    pub installation_id: &'a str,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `linux-x86_64` from `uname -s` / `uname -m` (or a platform name given as is).
pub fn platform_of(os: &str, arch: &str) -> Option<String> {
    let os = match os.trim().to_ascii_lowercase().as_str() {
        "" => return None,
        "darwin" | "macos" => "darwin".to_string(),
        other => other.to_string(),
    };
    let arch = match arch.trim().to_ascii_lowercase().as_str() {
        "" => return None,
        "amd64" | "x86_64" | "x64" => "x86_64".to_string(),
        "arm64" | "aarch64" => "aarch64".to_string(),
        other => other.to_string(),
    };
    Some(format!("{os}-{arch}"))
}

/// Platform and version names: short, and safe in a file name and a header.
pub fn check_name(field: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{field} must be 1-64 characters of letters, digits, '.', '-', '_' or '+'"),
        ))
    }
}

impl WrapperCatalog {
    /// Reads `dir` (if any): `cdx-<platform>` binaries, `cdx.sh` (the legacy script) and
    /// `VERSION`. A missing or unreadable directory stops start-up with its path.
    /// Remembers the baked-script digests of at most `capacity` hosts.
    pub fn load(store: Store, dir: Option<&Path>, capacity: usize) -> std::io::Result<Self> {
        let mut files = Vec::new();
        if let Some(dir) = dir {
            let version = match std::fs::read_to_string(dir.join("VERSION")) {
                Ok(v) => v.trim().to_string(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(e),
            };
            let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let name = entry.file_name().to_string_lossy().into_owned();
                let (platform, kind) = if name == "cdx.sh" {
                    (SCRIPT_PLATFORM.to_string(), Kind::Script)
                } else if let Some(p) = name.strip_prefix("cdx-") {
                    (p.to_string(), Kind::Binary)
                } else {
                    continue;
                };
                if check_name("platform", &platform).is_err() || !entry.file_type()?.is_file() {
                    continue;
                }
                let content = std::fs::read(entry.path())?;
                if content.len() > MAX_SIZE {
                    return Err(std::io::Error::other(format!(
                        "{} is larger than {MAX_SIZE} bytes",
                        entry.path().display()
                    )));
                }
                let sha256 = sha256_hex(&content);
                let modified = entry
                    .metadata()?
                    .modified()
                    .ok()
                    .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
                // A script that names its own version is advertised under it: hosts compare the
                // two and would otherwise update in a loop.
                let version = match declared_version(&content).filter(|_| kind == Kind::Script) {
                    Some(declared) => declared,
                    None if version.is_empty() => format!("0.0.0+{}", &sha256[..12]),
                    None => version.clone(),
                };
                files.push(DirFile {
                    release: Release {
                        platform,
                        version,
                        kind,
                        sha256,
                        size_bytes: content.len() as u64,
                        updated_at: modified,
                        origin: Origin::Directory,
                    },
                    content: Arc::new(content),
                });
            }
        }
        Ok(WrapperCatalog {
            store,
            dir: Arc::new(files),
            advertised: TtlCache::new(ADVERTISED_TTL, 1),
            template: Arc::new(Mutex::new(None)),
            baked: TtlCache::new(BAKED_TTL, capacity),
        })
    }

    /// Every release: published ones (newest first), then the directory's.
    pub async fn releases(&self) -> Result<Vec<Release>> {
        let mut out: Vec<Release> = wrapper_releases::list(&self.store)
            .await?
            .into_iter()
            .map(|m| Release {
                platform: m.platform,
                version: m.version,
                kind: Kind::parse(&m.kind),
                sha256: m.sha256,
                size_bytes: u64::try_from(m.size_bytes).unwrap_or(0),
                updated_at: m.updated_at,
                origin: Origin::Published,
            })
            .collect();
        out.extend(self.dir.iter().map(|f| f.release.clone()));
        Ok(out)
    }

    /// What a host on `platform` installs: the newest release for it, else the legacy script.
    /// Without a platform, the legacy script.
    pub async fn pick(&self, platform: Option<&str>) -> Result<Option<Release>> {
        let all = self.releases().await?;
        let newest = |p: &str| all.iter().find(|r| r.platform == p).cloned();
        Ok(platform
            .and_then(newest)
            .or_else(|| newest(SCRIPT_PLATFORM)))
    }

    /// The release hosts are told about in `versions` (`wrapper_version`, `wrapper_sha256`).
    pub async fn advertised(&self) -> Result<Option<Release>> {
        let all = self.releases().await?;
        Ok(all
            .iter()
            .find(|r| r.kind == Kind::Script)
            .or_else(|| all.first())
            .cloned())
    }

    pub async fn content(&self, release: &Release) -> Result<Vec<u8>> {
        if release.origin == Origin::Directory
            && let Some(f) = self.dir.iter().find(|f| {
                f.release.platform == release.platform && f.release.version == release.version
            })
        {
            return Ok(f.content.as_ref().clone());
        }
        wrapper_releases::content(&self.store, &release.platform, &release.version)
            .await?
            .ok_or_else(|| Error::not_found("Wrapper not available"))
    }

    /// SHA-256 of what `/wrapper/download` serves this host with this key: the advertised
    /// legacy script baked for it, else the advertised release's own digest; empty when
    /// nothing is published. Hosts compare it with their own file to decide on an update, so
    /// it must be the baked bytes' digest, not the template's.
    pub async fn served_sha256(&self, h: &HostWrapper<'_>) -> Result<String> {
        let advertised = self.advertised_now().await?;
        let Some(release) = advertised.release else {
            return Ok(String::new());
        };
        if release.kind != Kind::Script {
            return Ok(release.sha256.clone());
        }
        let key = bake_key(&release, h, advertised.silent);
        if let Some(sha) = self.baked.get(&key) {
            return Ok(sha);
        }
        let template = self.template_of(&release).await?;
        let baked = bake(
            &template,
            &Bake {
                base_url: h.base_url,
                api_key: h.api_key,
                host: h.host,
                installation_id: h.installation_id,
                version: &release.version,
                silent: advertised.silent,
            },
        );
        let sha = sha256_hex(&baked);
        self.baked.insert(key, sha.clone());
        Ok(sha)
    }

    async fn advertised_now(&self) -> Result<Advertised> {
        if let Some(a) = self.advertised.get(&()) {
            return Ok(a);
        }
        let a = Advertised {
            release: self.advertised().await?.map(Arc::new),
            silent: super::policy::get(&self.store).await?.silent_mode,
        };
        self.advertised.insert((), a.clone());
        Ok(a)
    }

    async fn template_of(&self, release: &Release) -> Result<Arc<Vec<u8>>> {
        if let Ok(slot) = self.template.lock()
            && let Some((sha, bytes)) = slot.as_ref()
            && *sha == release.sha256
        {
            return Ok(bytes.clone());
        }
        let bytes = Arc::new(self.content(release).await?);
        if let Ok(mut slot) = self.template.lock() {
            *slot = Some((release.sha256.clone(), bytes.clone()));
        }
        Ok(bytes)
    }

    /// Forgets what was read about the advertised release (after a publish or a delete here;
    /// other replicas notice within a second).
    fn forget_advertised(&self) {
        self.advertised.clear();
    }

    /// Stores a release (replacing one with the same platform and version).
    pub async fn publish(
        &self,
        version: &str,
        platform: &str,
        kind: Kind,
        content: Vec<u8>,
        sha256: &str,
        actor: &Actor,
    ) -> Result<Release> {
        check_name("version", version)?;
        check_name("platform", platform)?;
        if content.is_empty() {
            return Err(Error::invalid("content", "content is empty"));
        }
        if content.len() > MAX_SIZE {
            return Err(Error::invalid(
                "content",
                format!("content is larger than {MAX_SIZE} bytes"),
            ));
        }
        let actual = sha256_hex(&content);
        if !sha256.is_empty() && !sha256.eq_ignore_ascii_case(&actual) {
            return Err(Error::invalid(
                "sha256",
                "sha256 does not match the content",
            ));
        }
        if (kind == Kind::Script) != (platform == SCRIPT_PLATFORM) {
            return Err(Error::invalid(
                "platform",
                "the legacy script is published with platform \"script\", binaries with their platform",
            ));
        }
        if kind == Kind::Script
            && let Some(declared) = declared_version(&content)
            && declared != version
        {
            return Err(Error::invalid(
                "version",
                format!(
                    "the script sets WRAPPER_VERSION=\"{declared}\"; publish it as version {declared} \
                     (hosts compare the two and would update in a loop)"
                ),
            ));
        }
        let now = now_ms();
        let size = content.len();
        let size_bytes = i64::try_from(size).unwrap_or(i64::MAX);
        let txn = self.store.begin().await?;
        wrapper_releases::put(
            &txn,
            Row {
                platform: platform.to_string(),
                version: version.to_string(),
                kind: kind.as_str().to_string(),
                sha256: actual.clone(),
                size_bytes,
                content,
                published_by: actor.principal.audit_actor(),
                updated_at: now,
            },
        )
        .await?;
        let event = actor
            .event("wrapper.publish", format!("wrapper:{platform}:{version}"))
            .details(serde_json::json!({"sha256": actual, "size_bytes": size_bytes}));
        audit::commit(txn, event).await?;
        self.forget_advertised();
        Ok(Release {
            platform: platform.to_string(),
            version: version.to_string(),
            kind,
            sha256: actual,
            size_bytes: size as u64,
            updated_at: now,
            origin: Origin::Published,
        })
    }

    /// Deletes a published release. Directory files are not deletable through the API.
    pub async fn delete(&self, actor: &Actor, version: &str, platform: &str) -> Result<()> {
        let txn = self.store.begin().await?;
        if wrapper_releases::delete(&txn, platform, version).await? {
            let event = actor.event("wrapper.delete", format!("wrapper:{platform}:{version}"));
            audit::commit(txn, event).await?;
            self.forget_advertised();
            return Ok(());
        }
        if self
            .dir
            .iter()
            .any(|f| f.release.platform == platform && f.release.version == version)
        {
            return Err(Error::failed_precondition(
                "this release comes from --wrapper-dir; remove the file there",
            ));
        }
        Err(Error::not_found("Wrapper not available"))
    }
}

/// Values baked into the legacy script for one host.
pub struct Bake<'a> {
    pub base_url: &'a str,
    pub api_key: &'a str,
    pub host: &'a Host,
    pub installation_id: &'a str,
    pub version: &'a str,
    pub silent: bool,
}

/// The version a legacy script sets for itself (`WRAPPER_VERSION="…"`), unless it is the
/// placeholder the bake fills in.
pub fn declared_version(script: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(script).ok()?;
    text.lines().find_map(|line| {
        let line = line.trim_start();
        let line = line.strip_prefix("readonly ").unwrap_or(line);
        let value = line.strip_prefix("WRAPPER_VERSION=")?;
        let quote = value.chars().next().filter(|c| matches!(c, '"' | '\''))?;
        let value = value[1..].split(quote).next()?;
        (!value.is_empty() && !value.contains("__WRAPPER_VERSION__")).then(|| value.to_string())
    })
}

/// One digest over everything [`bake`] reads, so a changed input (a rotated key, a new model
/// override, a republished script) never answers with an old digest.
fn bake_key(release: &Release, h: &HostWrapper<'_>, silent: bool) -> [u8; 32] {
    let host = h.host;
    let flags = [host.secure, host.force_ipv4, host.curl_insecure, silent].map(u8::from);
    let mut d = Sha256::new();
    for part in [
        release.sha256.as_str(),
        release.version.as_str(),
        h.base_url,
        h.api_key,
        h.installation_id,
        host.fqdn.as_str(),
        host.model_override.as_deref().unwrap_or(""),
        host.reasoning_effort_override.as_deref().unwrap_or(""),
    ] {
        d.update((part.len() as u64).to_le_bytes());
        d.update(part.as_bytes());
    }
    d.update(flags);
    d.finalize().into()
}

/// Replaces the peer's placeholders in the legacy script template.
pub fn bake(template: &[u8], b: &Bake<'_>) -> Vec<u8> {
    let flag = |on: bool| if on { "1" } else { "0" };
    let text = String::from_utf8_lossy(template);
    let pairs = [
        ("__CODEX_SYNC_BASE_URL__", b.base_url),
        ("__CODEX_SYNC_API_KEY__", b.api_key),
        ("__CODEX_SYNC_FQDN__", b.host.fqdn.as_str()),
        ("__CODEX_SYNC_CA_FILE__", ""),
        ("__CODEX_HOST_SECURE__", flag(b.host.secure)),
        ("__CODEX_FORCE_IPV4__", flag(b.host.force_ipv4)),
        ("__CODEX_INSTALLATION_ID__", b.installation_id),
        ("__WRAPPER_VERSION__", b.version),
        ("__CODEX_SILENT__", flag(b.silent)),
        ("__CODEX_SYNC_ALLOW_INSECURE__", flag(b.host.curl_insecure)),
        (
            "__CODEX_HOST_MODEL__",
            b.host.model_override.as_deref().unwrap_or(""),
        ),
        (
            "__CODEX_HOST_REASONING_EFFORT__",
            b.host.reasoning_effort_override.as_deref().unwrap_or(""),
        ),
    ];
    let mut out = text.into_owned();
    for (placeholder, value) in pairs {
        out = out.replace(placeholder, value);
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_are_normalized() {
        assert_eq!(
            platform_of("Linux", "x86_64").as_deref(),
            Some("linux-x86_64")
        );
        assert_eq!(
            platform_of("Darwin", "arm64").as_deref(),
            Some("darwin-aarch64")
        );
        assert_eq!(platform_of("", "arm64"), None);
    }

    #[test]
    fn a_script_names_its_version_unless_it_leaves_it_to_the_bake() {
        let literal =
            b"#!/usr/bin/env bash\nset -euo pipefail\nWRAPPER_VERSION=\"2025.12.18-06\"\n";
        assert_eq!(declared_version(literal).as_deref(), Some("2025.12.18-06"));
        assert_eq!(
            declared_version(b"readonly WRAPPER_VERSION='1.2.3'\n").as_deref(),
            Some("1.2.3")
        );
        assert_eq!(
            declared_version(b"WRAPPER_VERSION=\"__WRAPPER_VERSION__\"\n"),
            None
        );
        assert_eq!(declared_version(b"echo $WRAPPER_VERSION\n"), None);
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("version", "1.2.3-rc.1+abc").is_ok());
        assert!(check_name("version", "../x").is_err());
        assert!(check_name("version", "").is_err());
        assert!(check_name("platform", "a b").is_err());
    }
}
