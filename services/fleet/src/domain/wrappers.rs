//! Wrapper artifacts (`GET /wrapper`, `/wrapper/download`): admin-published releases stored in
//! the database, plus the files of `--wrapper-dir` read once at start. A host asking for its
//! platform gets the newest binary for it, else the legacy script; the script's placeholders are
//! baked per host, so its sha256 is that of the baked bytes.

use std::path::Path;
use std::sync::Arc;

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
    pub fn load(store: Store, dir: Option<&Path>) -> std::io::Result<Self> {
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
                let version = if version.is_empty() {
                    format!("0.0.0+{}", &sha256[..12])
                } else {
                    version.clone()
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
    fn names_are_checked() {
        assert!(check_name("version", "1.2.3-rc.1+abc").is_ok());
        assert!(check_name("version", "../x").is_err());
        assert!(check_name("version", "").is_err());
        assert!(check_name("platform", "a b").is_err());
    }
}
