//! `cdx --update`: replaces this binary with the build the server publishes for this platform,
//! then brings Codex to the fleet's target version with npm (upgrade or downgrade).
//!
//! The new binary is written beside the running one, must match the sha256 of the server's
//! metadata and of the download header, and must answer `--version` before it is renamed over
//! the old file, so a failed or tampered download never replaces a working cdx.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::api::{Api, ApiError};
use crate::error::CdxError;
use crate::files;

/// `linux` / `darwin` and the machine name, as the installer's `uname -s` / `uname -m`.
pub fn platform_query() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    format!("os={os}&arch={}", std::env::consts::ARCH)
}

/// What the server publishes for this platform (`GET /wrapper`).
#[derive(Debug, PartialEq)]
pub struct Offered {
    pub version: String,
    pub sha256: String,
    pub size_bytes: u64,
}

pub fn offered_of(data: &Value) -> Result<Offered, CdxError> {
    let s = |k: &str| data.get(k).and_then(Value::as_str).unwrap_or_default();
    if s("kind") == "script" {
        return Err(CdxError::Other(
            "cdx: the server publishes only the legacy shell wrapper for this platform; \
             not replacing cdx with it"
                .into(),
        ));
    }
    let sha256 = s("sha256").to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CdxError::Other(
            "cdx: the server's wrapper metadata has no valid sha256; not updating".into(),
        ));
    }
    Ok(Offered {
        version: s("version").to_string(),
        sha256,
        size_bytes: data.get("size_bytes").and_then(Value::as_u64).unwrap_or(0),
    })
}

pub enum Outcome {
    UpToDate(String),
    Updated { from: String, to: String },
}

pub async fn self_update(api: &Api, exe: &Path) -> Result<Outcome, CdxError> {
    let query = platform_query();
    let meta = api
        .call(reqwest::Method::GET, &format!("/wrapper?{query}"), None)
        .await
        .map_err(|e| match e {
            ApiError::Other(m) if m.contains(" 404 ") => CdxError::Other(format!(
                "cdx: the server publishes no cdx build for this platform ({m})"
            )),
            other => other.into(),
        })?;
    let offered = offered_of(&meta)?;
    let current = std::fs::read(exe)
        .map_err(|e| CdxError::Other(format!("cannot read {}: {e}", exe.display())))?;
    if hex::encode(Sha256::digest(&current)) == offered.sha256 {
        return Ok(Outcome::UpToDate(offered.version));
    }
    let (headers, body) = api
        .download(&format!("/wrapper/download?{query}"))
        .await
        .map_err(CdxError::from)?;
    let header_sha = headers
        .get("x-sha256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let have = hex::encode(Sha256::digest(&body));
    if header_sha != offered.sha256 || have != offered.sha256 {
        return Err(CdxError::Checksum(format!(
            "cdx: checksum mismatch for the downloaded cdx (expected {}, got {have}); not installed",
            offered.sha256
        )));
    }
    install_beside(exe, &body).await?;
    Ok(Outcome::Updated {
        from: env!("CARGO_PKG_VERSION").to_string(),
        to: offered.version,
    })
}

/// Writes `bytes` next to `exe`, checks it runs, then renames it over `exe`.
async fn install_beside(exe: &Path, bytes: &[u8]) -> Result<(), CdxError> {
    let candidate = sibling(exe, "new");
    files::write_atomic(&candidate, bytes, 0o755)?;
    let probe = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::process::Command::new(&candidate)
            .arg("--version")
            .env_remove("CDX_CONFIG")
            .output(),
    )
    .await;
    let runs = matches!(&probe, Ok(Ok(out)) if out.status.success()
        && String::from_utf8_lossy(&out.stdout).starts_with("cdx "));
    if !runs {
        let _ = files::remove(&candidate);
        return Err(CdxError::Other(
            "cdx: the downloaded cdx does not run on this machine; not installed".into(),
        ));
    }
    std::fs::rename(&candidate, exe).map_err(|e| {
        let _ = files::remove(&candidate);
        CdxError::Other(format!("cannot replace {}: {e}", exe.display()))
    })
}

fn sibling(exe: &Path, tag: &str) -> PathBuf {
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cdx".into());
    exe.with_file_name(format!(".{name}.{tag}-{}", std::process::id()))
}

/// The Codex version the fleet wants on this host: the host's pin, else the fleet's.
pub fn codex_target(host_pin: Option<&str>, versions: Option<&Value>) -> Option<String> {
    let valid = |v: &str| {
        !v.is_empty()
            && v.len() <= 64
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
    };
    host_pin
        .filter(|v| valid(v))
        .map(str::to_string)
        .or_else(|| {
            versions
                .and_then(|v| v.get("client_version"))
                .and_then(Value::as_str)
                .filter(|v| valid(v))
                .map(str::to_string)
        })
}

/// The version `codex --version` prints (`codex-cli 0.169.0` → `0.169.0`).
pub async fn installed_codex(bin: &std::ffi::OsStr) -> Option<String> {
    let out = tokio::process::Command::new(bin)
        .arg("--version")
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .last()
        .filter(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(str::to_string)
}

/// Installs `@openai/codex@<version>` with npm (`$CDX_NPM`, default `npm`).
pub async fn install_codex(version: &str) -> Result<(), CdxError> {
    let npm = std::env::var_os("CDX_NPM")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "npm".into());
    let status = tokio::process::Command::new(&npm)
        .args(["install", "-g", &format!("@openai/codex@{version}")])
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .map_err(|e| {
            CdxError::Other(format!(
                "cdx: cannot run {} to install Codex {version}: {e}",
                npm.to_string_lossy()
            ))
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(CdxError::Other(format!(
            "cdx: `npm install -g @openai/codex@{version}` failed ({status})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn metadata_is_checked() {
        let sha = "ab".repeat(32);
        let o = offered_of(&json!({"version":"1.2.0","kind":"binary","sha256":sha,"size_bytes":5}))
            .unwrap();
        assert_eq!(o.version, "1.2.0");
        assert_eq!(o.size_bytes, 5);
        assert!(offered_of(&json!({"version":"1","kind":"script","sha256":sha})).is_err());
        assert!(offered_of(&json!({"version":"1","sha256":"xyz"})).is_err());
    }

    #[test]
    fn target_prefers_the_host_pin() {
        let v = json!({"client_version": "0.169.0"});
        assert_eq!(
            codex_target(Some("0.160.0"), Some(&v)).as_deref(),
            Some("0.160.0")
        );
        assert_eq!(codex_target(Some(""), Some(&v)).as_deref(), Some("0.169.0"));
        assert_eq!(
            codex_target(None, Some(&json!({"client_version": "; rm -rf"}))),
            None
        );
        assert_eq!(codex_target(None, None), None);
    }
}
