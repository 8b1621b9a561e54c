//! cdx's own configuration (written by the installer) and the directories it works in.
//!
//! The file is looked up in `$CDX_CONFIG`, else `$XDG_CONFIG_HOME/cdx/config.toml` (default
//! `~/.config/cdx/config.toml`), else `/etc/cdx/config.toml`. Codex's home is `$CODEX_HOME` or
//! `~/.codex`; cdx's state lives in `$XDG_STATE_HOME/cdx` (default `~/.local/state/cdx`).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::CdxError;

/// What the installer writes. `api_key` is the host key (`host_key` is accepted too).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    base_url: Option<String>,
    #[serde(alias = "host_key")]
    api_key: Option<String>,
    fqdn: Option<String>,
    ca_file: Option<PathBuf>,
    #[serde(default)]
    force_ipv4: bool,
    #[serde(default)]
    curl_insecure: bool,
    /// The host's secure flag when it was installed (the server's answers take over later).
    secure: Option<bool>,
}

/// The validated configuration. `Debug` never shows the host key.
#[derive(Clone)]
pub struct CdxConfig {
    /// Where it was read from, for messages.
    pub path: PathBuf,
    /// Without a trailing `/`.
    pub base_url: String,
    pub host_key: HostKey,
    pub fqdn: String,
    pub ca_file: Option<PathBuf>,
    pub force_ipv4: bool,
    /// Accept any server certificate (the host's `curl_insecure` setting).
    pub tls_insecure: bool,
    /// The secure flag the installer wrote (None: not written).
    pub secure: Option<bool>,
}

/// The host key. Only [`HostKey::expose`] reveals it, for the request header.
#[derive(Clone)]
pub struct HostKey(String);

impl HostKey {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HostKey(<redacted>)")
    }
}

impl fmt::Debug for CdxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CdxConfig")
            .field("path", &self.path)
            .field("base_url", &self.base_url)
            .field("host_key", &self.host_key)
            .field("fqdn", &self.fqdn)
            .field("ca_file", &self.ca_file)
            .field("force_ipv4", &self.force_ipv4)
            .field("tls_insecure", &self.tls_insecure)
            .field("secure", &self.secure)
            .finish()
    }
}

/// The environment cdx reads paths from (a seam for tests).
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

fn home(env: &dyn Env) -> Result<PathBuf, CdxError> {
    env.var("HOME")
        .map(PathBuf::from)
        .ok_or_else(|| CdxError::Config("HOME is not set".into()))
}

/// The config file candidates, in lookup order.
pub fn config_candidates(env: &dyn Env) -> Vec<PathBuf> {
    if let Some(p) = env.var("CDX_CONFIG") {
        return vec![PathBuf::from(p)];
    }
    let mut out = Vec::new();
    if let Some(x) = env.var("XDG_CONFIG_HOME") {
        out.push(Path::new(&x).join("cdx/config.toml"));
    } else if let Ok(h) = home(env) {
        out.push(h.join(".config/cdx/config.toml"));
    }
    out.push(PathBuf::from("/etc/cdx/config.toml"));
    out
}

/// Reads the first existing candidate.
pub fn load(env: &dyn Env) -> Result<CdxConfig, CdxError> {
    let candidates = config_candidates(env);
    let path = candidates.iter().find(|p| p.exists()).ok_or_else(|| {
        let list: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        CdxError::Config(format!(
            "no configuration found (looked in {}); run the installer from your fleet admin",
            list.join(", ")
        ))
    })?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| CdxError::Config(format!("cannot read {}: {e}", path.display())))?;
    parse(&text, path)
}

/// Parses and validates a config file's text; errors name the file and the key.
pub fn parse(text: &str, path: &Path) -> Result<CdxConfig, CdxError> {
    let at = path.display();
    // toml's messages quote the offending line, which may hold the key: keep only the reason.
    let file: ConfigFile = toml::from_str(text).map_err(|e| {
        let reason = e.message().to_string();
        let place = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!(" (line {line})")
            })
            .unwrap_or_default();
        CdxError::Config(format!("{at}: {reason}{place}"))
    })?;
    let need = |v: Option<String>, key: &str| {
        v.map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| CdxError::Config(format!("{at}: `{key}` is missing or empty")))
    };
    let base_url = need(file.base_url, "base_url")?
        .trim_end_matches('/')
        .to_string();
    if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
        return Err(CdxError::Config(format!(
            "{at}: `base_url` must start with https:// or http://"
        )));
    }
    let key = need(file.api_key, "api_key")?;
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CdxError::Config(format!(
            "{at}: `api_key` holds whitespace or control characters"
        )));
    }
    let fqdn = file.fqdn.unwrap_or_default().trim().to_string();
    let ca_file = file.ca_file.map(|p| {
        if p.is_relative() {
            path.parent().unwrap_or(Path::new(".")).join(p)
        } else {
            p
        }
    });
    Ok(CdxConfig {
        path: path.to_path_buf(),
        base_url,
        host_key: HostKey(key),
        fqdn,
        ca_file,
        force_ipv4: file.force_ipv4,
        tls_insecure: file.curl_insecure,
        secure: file.secure,
    })
}

#[cfg(unix)]
fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(not(unix))]
fn running_as_root() -> bool {
    false
}

/// The directories cdx reads and writes.
#[derive(Debug, Clone)]
pub struct Paths {
    pub codex_home: PathBuf,
    pub state_dir: PathBuf,
    /// Codex's system directory (`/etc/codex`, or `$CDX_SYSTEM_DIR`) when cdx runs as root:
    /// the fleet's enforced requirements.toml goes there. None for other users.
    pub system_dir: Option<PathBuf>,
}

impl Paths {
    pub fn from_env(env: &dyn Env) -> Result<Paths, CdxError> {
        let codex_home = match env.var("CODEX_HOME") {
            Some(p) => PathBuf::from(p),
            None => home(env)?.join(".codex"),
        };
        let state_dir = match env.var("XDG_STATE_HOME") {
            Some(p) => Path::new(&p).join("cdx"),
            None => home(env)?.join(".local/state/cdx"),
        };
        let system_dir = running_as_root().then(|| {
            env.var("CDX_SYSTEM_DIR")
                .map_or_else(|| PathBuf::from("/etc/codex"), PathBuf::from)
        });
        Ok(Paths {
            codex_home,
            state_dir,
            system_dir,
        })
    }

    /// Where the fleet's requirements.toml goes (root only).
    pub fn requirements_toml(&self) -> Option<PathBuf> {
        self.system_dir
            .as_ref()
            .map(|d| d.join("requirements.toml"))
    }

    pub fn auth_json(&self) -> PathBuf {
        self.codex_home.join("auth.json")
    }

    pub fn config_toml(&self) -> PathBuf {
        self.codex_home.join("config.toml")
    }

    pub fn state_file(&self) -> PathBuf {
        self.state_dir.join("state.json")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Fake(HashMap<&'static str, &'static str>);

    impl Env for Fake {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|s| s.to_string())
        }
    }

    const KEY: &str = "cch_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_the_installer_file() {
        let text = format!(
            "base_url = \"https://fleet.example.com/\"\napi_key = \"{KEY}\"\nfqdn = \"h1.example.com\"\nforce_ipv4 = false\ncurl_insecure = false\nca_file = \"ca.pem\"\n"
        );
        let c = parse(&text, Path::new("/home/u/.config/cdx/config.toml")).unwrap();
        assert_eq!(c.base_url, "https://fleet.example.com");
        assert_eq!(c.host_key.expose(), KEY);
        assert_eq!(c.fqdn, "h1.example.com");
        assert_eq!(
            c.ca_file.as_deref(),
            Some(Path::new("/home/u/.config/cdx/ca.pem"))
        );
        let debug = format!("{c:?}");
        assert!(!debug.contains(KEY), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn host_key_alias_and_errors_name_file_and_key() {
        let p = Path::new("/etc/cdx/config.toml");
        let c = parse(&format!("base_url = \"http://x\"\nhost_key = \"{KEY}\""), p).unwrap();
        assert_eq!(c.host_key.expose(), KEY);
        let e = parse("base_url = \"http://x\"\n", p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/etc/cdx/config.toml") && e.contains("api_key"),
            "{e}"
        );
        let e = parse(&format!("api_key = \"{KEY}\""), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("base_url"), "{e}");
        let e = parse(&format!("base_url = \"ftp://x\"\napi_key = \"{KEY}\""), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("https://"), "{e}");
        let e = parse(
            &format!("base_url = \"http://x\"\napi_key = \"{KEY}\"\nbogus = 1"),
            p,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("bogus") && !e.contains(KEY), "{e}");
        // A syntax error on the key's line must not echo the key.
        let e = parse(&format!("base_url = \"http://x\"\napi_key = {KEY}\n"), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && !e.contains(KEY), "{e}");
    }

    #[test]
    fn lookup_order_and_paths() {
        let env = Fake(HashMap::from([("HOME", "/home/u")]));
        assert_eq!(
            config_candidates(&env),
            vec![
                PathBuf::from("/home/u/.config/cdx/config.toml"),
                PathBuf::from("/etc/cdx/config.toml")
            ]
        );
        let p = Paths::from_env(&env).unwrap();
        assert_eq!(p.codex_home, PathBuf::from("/home/u/.codex"));
        assert_eq!(p.state_dir, PathBuf::from("/home/u/.local/state/cdx"));
        let env = Fake(HashMap::from([
            ("HOME", "/home/u"),
            ("CDX_CONFIG", "/x/c.toml"),
            ("CODEX_HOME", "/ch"),
            ("XDG_STATE_HOME", "/st"),
        ]));
        assert_eq!(config_candidates(&env), vec![PathBuf::from("/x/c.toml")]);
        let p = Paths::from_env(&env).unwrap();
        assert_eq!(p.codex_home, PathBuf::from("/ch"));
        assert_eq!(p.state_file(), PathBuf::from("/st/cdx/state.json"));
        let env = Fake(HashMap::from([("XDG_CONFIG_HOME", "/xc")]));
        assert_eq!(
            config_candidates(&env)[0],
            PathBuf::from("/xc/cdx/config.toml")
        );
    }
}
