//! The server's configuration: compiled defaults, then the TOML file (`--config`), then
//! `CODEX_CENTRAL_*` environment variables, then flags. Every key is declared once, in
//! [`keys`]; the layers, the README table and `--help` come from that declaration, and the
//! validation of each section lives in [`sections`].

mod alerts;
mod keys;
mod reference;
mod sections;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use codex_central_common::crypto::Secret;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

pub use keys::{ConfigValue, DEFAULT_CODEX_RELEASE_URL, KEYS, KeyDoc, Layer, OAuthProviderLayer};
pub use reference::{Flags, reference_markdown};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
}

pub(crate) fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

/// Whether every surface needs credentials (`on`) or one implicit local admin is everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    On,
    Off,
}

/// Which halves of the server this process runs (`--role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessRole {
    All,
    Services,
    Gateway,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum MasterKeyConfig {
    /// From `master_key` (env or file config), plus keys still accepted for decryption.
    Inline {
        current: Secret<String>,
        previous: Option<Secret<String>>,
    },
    /// A key file; created on first start only when it is the default path.
    File { path: PathBuf, create: bool },
}

#[derive(Debug, Clone)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

/// The resolved, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: Secret<String>,
    pub public_url: String,
    pub auth_mode_on: bool,
    /// The session cookie carries `Secure`.
    pub cookie_secure: bool,
    /// Admin principals count as admins only on connections with a verified client certificate.
    pub admin_requires_client_cert: bool,
    pub trusted_proxies: Vec<IpNet>,
    pub cors_origins: Vec<String>,
    pub mcp_allowed_origins: Vec<String>,
    pub mcp_allowed_hosts: Vec<String>,
    pub memory_search_language: String,
    pub tls: Option<Tls>,
    pub role: ProcessRole,
    pub services_url: Option<String>,
    /// `None` in role `all`: a random one is made per process.
    pub internal_secret: Option<Secret<String>>,
    pub master_key: MasterKeyConfig,
    pub log_format: LogFormat,
    pub log_level: String,
    pub shutdown_timeout_secs: u64,
    /// The longest a request waits on the database.
    pub database_timeout: std::time::Duration,
    pub wrapper_dir: Option<PathBuf>,
    /// PEM text from `host_ca_file`, checked at start.
    pub host_ca_pem: Option<String>,
    /// Empty: no release check.
    pub codex_release_url: String,
    pub codex_release_check: std::time::Duration,
    /// A price list pulled daily; empty: none.
    pub pricing_url: String,
    pub upstream_connect_timeout: std::time::Duration,
    pub upstream_idle_timeout: std::time::Duration,
    /// Sign-in providers from the config file, secrets read.
    pub oauth_providers: Vec<OAuthProviderConfig>,
    pub host_cache_capacity: usize,
    pub request_log: sections::RequestLog,
    pub codex_refresh: sections::CodexRefresh,
    pub codex_probe: sections::CodexProbe,
    pub chatgpt_usage: sections::ChatGptUsage,
    pub alerts: alerts::Alerts,
}

/// A config-file sign-in provider with its secret loaded.
#[derive(Debug, Clone)]
pub struct OAuthProviderConfig {
    pub name: String,
    pub kind: String,
    pub display_name: String,
    pub client_id: String,
    pub client_secret: Option<Secret<String>>,
    pub issuer_url: String,
    pub scopes: Vec<String>,
    pub enabled: bool,
}

impl Config {
    /// Validates a merged layer (over the compiled defaults). Errors name the key at fault.
    pub fn resolve(layer: Layer) -> Result<Config, ConfigError> {
        let layer = layer.over(Layer::defaults());
        let network = sections::network(&layer)?;
        let data_dir = layer.data_dir.clone().unwrap_or_default();
        let database_url = sections::database_url(&layer, &data_dir)?;
        let roles = sections::roles(&layer)?;
        let admin_requires_client_cert = sections::client_certs(&layer, &network)?;
        let releases = sections::releases(&layer)?;
        let host_cache_capacity = sections::host_cache_capacity(&layer)?;
        let request_log = sections::request_log(&layer);
        let codex_refresh = sections::codex_refresh(&layer)?;
        let codex_probe = sections::codex_probe(&layer);
        let chatgpt_usage = sections::chatgpt_usage(&layer)?;
        let alerts = alerts::alerts(&layer)?;
        Ok(Config {
            bind: network.bind,
            master_key: sections::master_key(&layer, &data_dir),
            data_dir,
            database_url: Secret::new(database_url),
            public_url: network.public_url,
            auth_mode_on: network.auth_mode == AuthMode::On,
            cookie_secure: layer.cookie_secure.unwrap_or(network.tls.is_some()),
            admin_requires_client_cert,
            trusted_proxies: network.trusted_proxies,
            cors_origins: layer.cors_origins.unwrap_or_default(),
            mcp_allowed_origins: layer.mcp_allowed_origins.unwrap_or_default(),
            mcp_allowed_hosts: layer.mcp_allowed_hosts.unwrap_or_default(),
            memory_search_language: layer.memory_search_language.unwrap_or_default(),
            tls: network.tls,
            role: roles.role,
            services_url: roles.services_url,
            internal_secret: roles.internal_secret.map(Secret::new),
            log_format: layer.log_format.unwrap_or(LogFormat::Pretty),
            log_level: layer.log_level.unwrap_or_default(),
            shutdown_timeout_secs: layer.shutdown_timeout_secs.unwrap_or_default(),
            database_timeout: sections::at_least_a_second(layer.database_timeout_secs),
            wrapper_dir: layer.wrapper_dir,
            host_ca_pem: releases.host_ca_pem,
            codex_release_url: releases.codex_release_url,
            pricing_url: releases.pricing_url,
            codex_release_check: releases.codex_release_check,
            upstream_connect_timeout: sections::at_least_a_second(
                layer.upstream_connect_timeout_secs,
            ),
            upstream_idle_timeout: sections::at_least_a_second(layer.upstream_idle_timeout_secs),
            oauth_providers: sections::oauth_providers(layer.oauth_providers.unwrap_or_default())?,
            host_cache_capacity,
            request_log,
            codex_refresh,
            codex_probe,
            chatgpt_usage,
            alerts,
        })
    }

    /// Merges file, env and flags (highest last) and resolves.
    pub fn load(
        config_file: Option<&Path>,
        env: Layer,
        flags: Layer,
    ) -> Result<Config, ConfigError> {
        let file = match config_file {
            Some(path) => Layer::from_file(path)?,
            None => Layer::default(),
        };
        Config::resolve(flags.over(env.over(file)))
    }
}

impl Layer {
    /// Values from `CODEX_CENTRAL_*` variables; `lookup` is `std::env::var` outside tests.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
        Layer::from_lookup(|doc| doc.env.then(|| lookup(&doc.env_var())).flatten())
    }

    pub fn from_file(path: &Path) -> Result<Layer, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }
}
