//! The server's configuration: compiled defaults, then the TOML file (`--config`), then
//! `CODEX_CENTRAL_*` environment variables, then flags. Every key is listed once in [`KEYS`],
//! from which the README's reference table is generated (a test keeps them equal).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use codex_central_common::crypto::Secret;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config key `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
}

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        message: message.into(),
    }
}

pub const DEFAULT_CODEX_RELEASE_URL: &str =
    "https://api.github.com/repos/openai/codex/releases/latest";

/// One layer of configuration; every field optional so layers can be merged. This is also the
/// schema of the TOML file, which rejects unknown keys.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub bind: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub database_url_file: Option<PathBuf>,
    pub public_url: Option<String>,
    pub auth_mode: Option<String>,
    pub allow_open_network: Option<bool>,
    pub cookie_secure: Option<bool>,
    pub admin_requires_client_cert: Option<bool>,
    pub trusted_proxies: Option<Vec<String>>,
    pub cors_origins: Option<Vec<String>>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub client_ca: Option<PathBuf>,
    pub role: Option<String>,
    pub services_url: Option<String>,
    pub internal_secret: Option<String>,
    pub internal_secret_file: Option<PathBuf>,
    pub master_key: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub master_key_previous: Option<String>,
    pub log_format: Option<String>,
    pub log_level: Option<String>,
    pub shutdown_timeout_secs: Option<u64>,
    pub wrapper_dir: Option<PathBuf>,
    pub host_ca_file: Option<PathBuf>,
    pub codex_release_url: Option<String>,
    pub codex_release_check_secs: Option<u64>,
    pub upstream_connect_timeout_secs: Option<u64>,
    pub upstream_idle_timeout_secs: Option<u64>,
    pub oauth_providers: Option<Vec<OAuthProviderLayer>>,
}

/// A sign-in provider from the config file (`[[oauth_providers]]`), created or updated at start.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuthProviderLayer {
    pub name: String,
    /// `github`, `gitee` or `oidc`.
    pub kind: String,
    #[serde(default)]
    pub display_name: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub client_secret_file: Option<PathBuf>,
    /// OIDC issuer; for GitHub/Gitee an optional base URL.
    #[serde(default)]
    pub issuer_url: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub enabled: Option<bool>,
}

/// Documentation of one key: its TOML name, environment variable, flag, default and meaning.
pub struct KeyDoc {
    pub key: &'static str,
    pub flag: Option<&'static str>,
    pub default: &'static str,
    pub doc: &'static str,
}

impl KeyDoc {
    pub fn env(&self) -> String {
        format!("CODEX_CENTRAL_{}", self.key.to_ascii_uppercase())
    }
}

pub const KEYS: &[KeyDoc] = &[
    KeyDoc {
        key: "bind",
        flag: Some("--bind"),
        default: "127.0.0.1:8488",
        doc: "Address and port of the one listener (gRPC, grpc-web, REST, ops).",
    },
    KeyDoc {
        key: "data_dir",
        flag: Some("--data-dir"),
        default: "./data",
        doc: "Directory for the SQLite database, the master key file and other local state; created if missing.",
    },
    KeyDoc {
        key: "database_url",
        flag: Some("--database-url"),
        default: "sqlite://<data_dir>/codex-central.db",
        doc: "`sqlite://…`, `postgres://…` or `mysql://…` (MariaDB too).",
    },
    KeyDoc {
        key: "database_url_file",
        flag: None,
        default: "",
        doc: "File holding `database_url` (for URLs with passwords).",
    },
    KeyDoc {
        key: "public_url",
        flag: Some("--public-url"),
        default: "http://<bind>",
        doc: "Base URL clients use to reach this server; baked into installers and configs.",
    },
    KeyDoc {
        key: "auth_mode",
        flag: Some("--auth-mode"),
        default: "off on a loopback bind, else on",
        doc: "`on`: every surface needs credentials. `off`: single-user local mode.",
    },
    KeyDoc {
        key: "allow_open_network",
        flag: Some("--allow-open-network"),
        default: "false",
        doc: "Allow `auth_mode = off` on a non-loopback bind.",
    },
    KeyDoc {
        key: "cookie_secure",
        flag: Some("--cookie-secure"),
        default: "true with TLS, else false",
        doc: "Mark the session cookie `Secure` (set it when a TLS-terminating proxy serves this plain-HTTP server).",
    },
    KeyDoc {
        key: "admin_requires_client_cert",
        flag: Some("--admin-requires-client-cert"),
        default: "false",
        doc: "Admin access also needs a verified TLS client certificate (`client_ca`), or a trusted proxy's `X-mTLS-Present`/`X-SSL-Client-Verify` header.",
    },
    KeyDoc {
        key: "trusted_proxies",
        flag: Some("--trusted-proxies"),
        default: "(none)",
        doc: "CIDRs whose `Forwarded`/`X-Forwarded-For`/`X-Real-IP` headers are believed (comma-separated in env and flags).",
    },
    KeyDoc {
        key: "cors_origins",
        flag: Some("--cors-origins"),
        default: "(none)",
        doc: "Origins allowed to call grpc-web from a browser on another origin.",
    },
    KeyDoc {
        key: "tls_cert",
        flag: Some("--tls-cert"),
        default: "(none)",
        doc: "PEM certificate chain; with `tls_key`, serve HTTPS (HTTP/1.1 and HTTP/2 via ALPN).",
    },
    KeyDoc {
        key: "tls_key",
        flag: Some("--tls-key"),
        default: "(none)",
        doc: "PEM private key for `tls_cert`.",
    },
    KeyDoc {
        key: "client_ca",
        flag: Some("--client-ca"),
        default: "(none)",
        doc: "PEM CA bundle; client certificates signed by it are verified (optional for clients).",
    },
    KeyDoc {
        key: "role",
        flag: Some("--role"),
        default: "all",
        doc: "`all`, `services` (gRPC services only) or `gateway` (REST etc., services reached at `services_url`).",
    },
    KeyDoc {
        key: "services_url",
        flag: Some("--services-url"),
        default: "(none)",
        doc: "URL of a `--role services` process; required for `--role gateway`.",
    },
    KeyDoc {
        key: "internal_secret",
        flag: None,
        default: "random per process",
        doc: "Credential the gateway presents to the services; required (≥ 32 chars, same value) in split roles.",
    },
    KeyDoc {
        key: "internal_secret_file",
        flag: None,
        default: "",
        doc: "File holding `internal_secret`.",
    },
    KeyDoc {
        key: "master_key",
        flag: None,
        default: "(none)",
        doc: "Base64 of the 32-byte master key; when unset the key file is used.",
    },
    KeyDoc {
        key: "master_key_file",
        flag: None,
        default: "<data_dir>/master.key",
        doc: "Key file (created 0600 on first start when it is the default): first line the current key, further lines previous keys.",
    },
    KeyDoc {
        key: "master_key_previous",
        flag: None,
        default: "(none)",
        doc: "Comma-separated base64 keys still accepted for decryption (with `master_key`, during rotation).",
    },
    KeyDoc {
        key: "log_format",
        flag: Some("--log-format"),
        default: "pretty",
        doc: "`pretty` or `json`.",
    },
    KeyDoc {
        key: "log_level",
        flag: Some("--log-level"),
        default: "info",
        doc: "A tracing filter such as `info` or `codex_central=debug,info`; `RUST_LOG` overrides it.",
    },
    KeyDoc {
        key: "shutdown_timeout_secs",
        flag: None,
        default: "10",
        doc: "How long in-flight requests may finish after SIGTERM/SIGINT.",
    },
    KeyDoc {
        key: "wrapper_dir",
        flag: Some("--wrapper-dir"),
        default: "(none)",
        doc: "Directory of wrapper artifacts served by `/wrapper/download`: `cdx-<os>-<arch>` binaries (e.g. `cdx-linux-x86_64`), a legacy `cdx.sh` template, and a `VERSION` file. Admin-published releases take precedence.",
    },
    KeyDoc {
        key: "host_ca_file",
        flag: Some("--host-ca-file"),
        default: "(none)",
        doc: "PEM certificate(s) hosts should trust for this server (a private CA); installers write them beside cdx's config and use them for every call.",
    },
    KeyDoc {
        key: "upstream_connect_timeout_secs",
        flag: None,
        default: "10",
        doc: "How long the `/v1` gateway waits to connect to an upstream provider (connection failures are retried twice).",
    },
    KeyDoc {
        key: "oauth_providers",
        flag: None,
        default: "(none)",
        doc: "Config file only: `[[oauth_providers]]` tables (`name`, `kind` github/gitee/oidc, `client_id`, `client_secret` or `client_secret_file`, `issuer_url`, `scopes`, `display_name`, `enabled`), created or updated at start.",
    },
    KeyDoc {
        key: "upstream_idle_timeout_secs",
        flag: None,
        default: "300",
        doc: "Longest silence allowed between two chunks of an upstream answer before the call fails with 504.",
    },
    KeyDoc {
        key: "codex_release_url",
        flag: None,
        default: "https://api.github.com/repos/openai/codex/releases/latest",
        doc: "Where the background job reads the latest Codex version: a GitHub release (`tag_name`) or npm registry (`version`) JSON document. Empty disables the check.",
    },
    KeyDoc {
        key: "codex_release_check_secs",
        flag: None,
        default: "10800",
        doc: "How often the latest Codex version is read (one replica at a time, under a lease).",
    },
];

impl Layer {
    /// Values from `CODEX_CENTRAL_*` variables; `lookup` is `std::env::var` outside tests.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
        let get = |key: &str| lookup(&format!("CODEX_CENTRAL_{}", key.to_ascii_uppercase()));
        let bool_of = |key: &str| -> Result<Option<bool>, ConfigError> {
            get(key).map(|v| parse_bool(key, &v)).transpose()
        };
        let list_of = |key: &str| get(key).map(|v| split_list(&v));
        let path_of = |key: &str| get(key).map(PathBuf::from);
        let secs_of = |key: &str| -> Result<Option<u64>, ConfigError> {
            get(key)
                .map(|v| {
                    v.trim()
                        .parse()
                        .map_err(|_| invalid(key, "expected a whole number of seconds"))
                })
                .transpose()
        };
        Ok(Layer {
            bind: get("bind"),
            data_dir: path_of("data_dir"),
            database_url: get("database_url"),
            database_url_file: path_of("database_url_file"),
            public_url: get("public_url"),
            auth_mode: get("auth_mode"),
            allow_open_network: bool_of("allow_open_network")?,
            cookie_secure: bool_of("cookie_secure")?,
            admin_requires_client_cert: bool_of("admin_requires_client_cert")?,
            trusted_proxies: list_of("trusted_proxies"),
            cors_origins: list_of("cors_origins"),
            tls_cert: path_of("tls_cert"),
            tls_key: path_of("tls_key"),
            client_ca: path_of("client_ca"),
            role: get("role"),
            services_url: get("services_url"),
            internal_secret: get("internal_secret"),
            internal_secret_file: path_of("internal_secret_file"),
            master_key: get("master_key"),
            master_key_file: path_of("master_key_file"),
            master_key_previous: get("master_key_previous"),
            log_format: get("log_format"),
            log_level: get("log_level"),
            shutdown_timeout_secs: get("shutdown_timeout_secs")
                .map(|v| {
                    v.trim().parse().map_err(|_| {
                        invalid(
                            "shutdown_timeout_secs",
                            "expected a whole number of seconds",
                        )
                    })
                })
                .transpose()?,
            wrapper_dir: path_of("wrapper_dir"),
            upstream_connect_timeout_secs: secs_of("upstream_connect_timeout_secs")?,
            upstream_idle_timeout_secs: secs_of("upstream_idle_timeout_secs")?,
            host_ca_file: path_of("host_ca_file"),
            codex_release_url: get("codex_release_url"),
            codex_release_check_secs: get("codex_release_check_secs")
                .map(|v| {
                    v.trim().parse().map_err(|_| {
                        invalid(
                            "codex_release_check_secs",
                            "expected a whole number of seconds",
                        )
                    })
                })
                .transpose()?,
            oauth_providers: None,
        })
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

    /// `self` over `lower`: a value set here wins.
    pub fn over(self, lower: Layer) -> Layer {
        Layer {
            bind: self.bind.or(lower.bind),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            database_url_file: self.database_url_file.or(lower.database_url_file),
            public_url: self.public_url.or(lower.public_url),
            auth_mode: self.auth_mode.or(lower.auth_mode),
            allow_open_network: self.allow_open_network.or(lower.allow_open_network),
            cookie_secure: self.cookie_secure.or(lower.cookie_secure),
            admin_requires_client_cert: self
                .admin_requires_client_cert
                .or(lower.admin_requires_client_cert),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            cors_origins: self.cors_origins.or(lower.cors_origins),
            tls_cert: self.tls_cert.or(lower.tls_cert),
            tls_key: self.tls_key.or(lower.tls_key),
            client_ca: self.client_ca.or(lower.client_ca),
            role: self.role.or(lower.role),
            services_url: self.services_url.or(lower.services_url),
            internal_secret: self.internal_secret.or(lower.internal_secret),
            internal_secret_file: self.internal_secret_file.or(lower.internal_secret_file),
            master_key: self.master_key.or(lower.master_key),
            master_key_file: self.master_key_file.or(lower.master_key_file),
            master_key_previous: self.master_key_previous.or(lower.master_key_previous),
            log_format: self.log_format.or(lower.log_format),
            log_level: self.log_level.or(lower.log_level),
            shutdown_timeout_secs: self.shutdown_timeout_secs.or(lower.shutdown_timeout_secs),
            wrapper_dir: self.wrapper_dir.or(lower.wrapper_dir),
            upstream_connect_timeout_secs: self
                .upstream_connect_timeout_secs
                .or(lower.upstream_connect_timeout_secs),
            upstream_idle_timeout_secs: self
                .upstream_idle_timeout_secs
                .or(lower.upstream_idle_timeout_secs),
            oauth_providers: self.oauth_providers.or(lower.oauth_providers),
            host_ca_file: self.host_ca_file.or(lower.host_ca_file),
            codex_release_url: self.codex_release_url.or(lower.codex_release_url),
            codex_release_check_secs: self
                .codex_release_check_secs
                .or(lower.codex_release_check_secs),
        }
    }
}

fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        _ => Err(invalid(key, "expected true or false")),
    }
}

pub fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Which halves of the server this process runs (`--role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessRole {
    All,
    Services,
    Gateway,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub tls: Option<Tls>,
    pub role: ProcessRole,
    pub services_url: Option<String>,
    /// `None` in role `all`: a random one is made per process.
    pub internal_secret: Option<Secret<String>>,
    pub master_key: MasterKeyConfig,
    pub log_format: LogFormat,
    pub log_level: String,
    pub shutdown_timeout_secs: u64,
    pub wrapper_dir: Option<PathBuf>,
    /// PEM text from `host_ca_file`, checked at start.
    pub host_ca_pem: Option<String>,
    /// Empty: no release check.
    pub codex_release_url: String,
    pub codex_release_check: std::time::Duration,
    pub upstream_connect_timeout: std::time::Duration,
    pub upstream_idle_timeout: std::time::Duration,
    /// Sign-in providers from the config file, secrets read.
    pub oauth_providers: Vec<OAuthProviderConfig>,
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
    /// Validates a merged layer. Errors name the key at fault.
    pub fn resolve(layer: Layer) -> Result<Config, ConfigError> {
        let bind_text = layer.bind.unwrap_or_else(|| "127.0.0.1:8488".into());
        let bind: SocketAddr = bind_text.parse().map_err(|_| {
            invalid(
                "bind",
                format!("{bind_text:?} is not an address:port such as 127.0.0.1:8488"),
            )
        })?;
        let data_dir = layer.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = match (layer.database_url, layer.database_url_file) {
            (Some(url), _) => url,
            (None, Some(file)) => read_secret_file("database_url_file", &file)?,
            (None, None) => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("codex-central.db").display()
            ),
        };
        codex_central_store::Backend::from_url(&database_url)
            .map_err(|e| invalid("database_url", e.to_string()))?;
        let loopback = bind.ip().is_loopback();
        let auth_mode_on = match layer.auth_mode.as_deref() {
            None => !loopback,
            Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(invalid(
                    "auth_mode",
                    format!("expected on or off, not {other:?}"),
                ));
            }
        };
        if !auth_mode_on && !loopback && !layer.allow_open_network.unwrap_or(false) {
            return Err(invalid(
                "auth_mode",
                format!(
                    "auth mode off on the non-loopback address {bind} would let anyone on the network administer this server; use --auth-mode on, bind to 127.0.0.1, or pass --allow-open-network"
                ),
            ));
        }
        let trusted_proxies = layer
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|s| parse_cidr(s))
            .collect::<Result<Vec<_>, _>>()?;
        let tls = match (layer.tls_cert, layer.tls_key) {
            (Some(cert), Some(key)) => Some(Tls {
                cert,
                key,
                client_ca: layer.client_ca,
            }),
            (None, None) => {
                if layer.client_ca.is_some() {
                    return Err(invalid(
                        "client_ca",
                        "client certificates need TLS: set tls_cert and tls_key too",
                    ));
                }
                None
            }
            (Some(_), None) => {
                return Err(invalid("tls_key", "tls_cert is set but tls_key is not"));
            }
            (None, Some(_)) => {
                return Err(invalid("tls_cert", "tls_key is set but tls_cert is not"));
            }
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        let public_url = layer
            .public_url
            .unwrap_or_else(|| format!("{scheme}://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(invalid("public_url", "must start with http:// or https://"));
        }
        let role = match layer.role.as_deref().unwrap_or("all") {
            "all" => ProcessRole::All,
            "services" => ProcessRole::Services,
            "gateway" => ProcessRole::Gateway,
            other => {
                return Err(invalid(
                    "role",
                    format!("expected all, services or gateway, not {other:?}"),
                ));
            }
        };
        let services_url = layer.services_url;
        if role == ProcessRole::Gateway && services_url.is_none() {
            return Err(invalid(
                "services_url",
                "--role gateway needs --services-url",
            ));
        }
        let internal_secret = match (layer.internal_secret, layer.internal_secret_file) {
            (Some(s), _) => Some(s),
            (None, Some(file)) => Some(read_secret_file("internal_secret_file", &file)?),
            (None, None) => None,
        };
        if let Some(s) = &internal_secret
            && (s.len() < 32 || !s.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(invalid(
                "internal_secret",
                "must be at least 32 printable ASCII characters",
            ));
        }
        if role != ProcessRole::All && internal_secret.is_none() {
            return Err(invalid(
                "internal_secret",
                "split roles need the same internal_secret on gateway and services",
            ));
        }
        let master_key = match (layer.master_key, layer.master_key_file) {
            (Some(current), _) => MasterKeyConfig::Inline {
                current: Secret::new(current),
                previous: layer.master_key_previous.map(Secret::new),
            },
            (None, Some(path)) => MasterKeyConfig::File {
                path,
                create: false,
            },
            (None, None) => MasterKeyConfig::File {
                path: data_dir.join("master.key"),
                create: true,
            },
        };
        let log_format = match layer.log_format.as_deref().unwrap_or("pretty") {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "log_format",
                    format!("expected pretty or json, not {other:?}"),
                ));
            }
        };
        let codex_release_url = layer
            .codex_release_url
            .unwrap_or_else(|| DEFAULT_CODEX_RELEASE_URL.into())
            .trim()
            .to_string();
        if !(codex_release_url.is_empty()
            || codex_release_url.starts_with("http://")
            || codex_release_url.starts_with("https://"))
        {
            return Err(invalid(
                "codex_release_url",
                "must be empty or start with http:// or https://",
            ));
        }
        let host_ca_pem = layer
            .host_ca_file
            .as_deref()
            .map(|path| {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    invalid(
                        "host_ca_file",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                if !text.contains("-----BEGIN CERTIFICATE-----") {
                    return Err(invalid("host_ca_file", "expected PEM certificates"));
                }
                Ok(text)
            })
            .transpose()?;
        let admin_requires_client_cert = layer.admin_requires_client_cert.unwrap_or(false);
        let can_verify =
            tls.as_ref().is_some_and(|t| t.client_ca.is_some()) || !trusted_proxies.is_empty();
        if admin_requires_client_cert && !can_verify {
            return Err(invalid(
                "admin_requires_client_cert",
                "nothing could verify a client certificate: set client_ca (with TLS) or trusted_proxies (a proxy that verifies them)",
            ));
        }
        Ok(Config {
            bind,
            data_dir,
            database_url: Secret::new(database_url),
            public_url,
            auth_mode_on,
            cookie_secure: layer.cookie_secure.unwrap_or(tls.is_some()),
            admin_requires_client_cert,
            trusted_proxies,
            cors_origins: layer.cors_origins.unwrap_or_default(),
            tls,
            role,
            services_url,
            internal_secret: internal_secret.map(Secret::new),
            master_key,
            log_format,
            log_level: layer.log_level.unwrap_or_else(|| "info".into()),
            shutdown_timeout_secs: layer.shutdown_timeout_secs.unwrap_or(10),
            wrapper_dir: layer.wrapper_dir,
            host_ca_pem,
            codex_release_url,
            upstream_connect_timeout: std::time::Duration::from_secs(
                layer.upstream_connect_timeout_secs.unwrap_or(10).max(1),
            ),
            upstream_idle_timeout: std::time::Duration::from_secs(
                layer.upstream_idle_timeout_secs.unwrap_or(300).max(1),
            ),
            oauth_providers: oauth_providers(layer.oauth_providers.unwrap_or_default())?,
            codex_release_check: std::time::Duration::from_secs(
                layer.codex_release_check_secs.unwrap_or(10_800).max(60),
            ),
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

fn parse_cidr(s: &str) -> Result<IpNet, ConfigError> {
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net);
    }
    s.parse::<std::net::IpAddr>().map(IpNet::from).map_err(|_| {
        invalid(
            "trusted_proxies",
            format!("{s:?} is not a CIDR such as 10.0.0.0/8 or an IP address"),
        )
    })
}

fn read_secret_file(key: &str, path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))?;
    let value = text.trim().to_string();
    if value.is_empty() {
        return Err(invalid(key, format!("{} is empty", path.display())));
    }
    Ok(value)
}

fn oauth_providers(
    layers: Vec<OAuthProviderLayer>,
) -> Result<Vec<OAuthProviderConfig>, ConfigError> {
    layers
        .into_iter()
        .map(|p| {
            let client_secret = match (p.client_secret, p.client_secret_file) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        "oauth_providers",
                        format!(
                            "{}: set client_secret or client_secret_file, not both",
                            p.name
                        ),
                    ));
                }
                (Some(s), None) => Some(Secret::new(s)),
                (None, Some(path)) => Some(Secret::new(
                    std::fs::read_to_string(&path)
                        .map_err(|e| {
                            invalid(
                                "oauth_providers",
                                format!("{}: cannot read {}: {e}", p.name, path.display()),
                            )
                        })?
                        .trim()
                        .to_string(),
                )),
                (None, None) => None,
            };
            Ok(OAuthProviderConfig {
                name: p.name,
                kind: p.kind,
                display_name: p.display_name,
                client_id: p.client_id,
                client_secret,
                issuer_url: p.issuer_url,
                scopes: p.scopes,
                enabled: p.enabled.unwrap_or(true),
            })
        })
        .collect()
}

/// The README's configuration table, generated from [`KEYS`].
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "| key (TOML) | environment | flag | default | meaning |\n|---|---|---|---|---|\n",
    );
    for k in KEYS {
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} |\n",
            k.key,
            k.env(),
            k.flag
                .map(|f| format!("`{f}`"))
                .unwrap_or_else(|| "–".into()),
            if k.default.is_empty() {
                "–".to_string()
            } else {
                k.default.to_string()
            },
            k.doc
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_parse() {
        let c = Config::resolve(Layer::default()).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8488");
        assert!(!c.auth_mode_on);
        assert_eq!(c.role, ProcessRole::All);
        assert!(c.database_url.expose().starts_with("sqlite://"));
        assert_eq!(c.public_url, "http://127.0.0.1:8488");
    }

    #[test]
    fn every_key_is_documented_and_real() {
        let fields = serde_json::to_value(Layer::default()).unwrap();
        let fields: Vec<&String> = fields.as_object().unwrap().keys().collect();
        let documented: Vec<&str> = KEYS.iter().map(|k| k.key).collect();
        for f in &fields {
            assert!(documented.contains(&f.as_str()), "{f} is not in KEYS");
        }
        assert_eq!(fields.len(), KEYS.len());
    }

    #[test]
    fn precedence_and_unknown_keys() {
        let file: Layer = toml::from_str("bind = \"127.0.0.1:1\"\nlog_level = \"debug\"").unwrap();
        let env = Layer::from_env(env(&[("CODEX_CENTRAL_BIND", "127.0.0.1:2")])).unwrap();
        let flags = Layer {
            bind: Some("127.0.0.1:3".into()),
            ..Default::default()
        };
        let c = Config::resolve(flags.clone().over(env.clone().over(file.clone()))).unwrap();
        assert_eq!(c.bind.port(), 3);
        assert_eq!(c.log_level, "debug");
        let c = Config::resolve(env.over(file)).unwrap();
        assert_eq!(c.bind.port(), 2);
        let err = toml::from_str::<Layer>("bnid = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bnid"), "{err}");
    }

    #[test]
    fn auth_mode_rules() {
        let open = Layer {
            bind: Some("0.0.0.0:8488".into()),
            ..Default::default()
        };
        assert!(Config::resolve(open.clone()).unwrap().auth_mode_on);
        let off = Layer {
            auth_mode: Some("off".into()),
            ..open.clone()
        };
        let err = Config::resolve(off.clone()).unwrap_err().to_string();
        assert!(err.contains("auth_mode"), "{err}");
        let allowed = Layer {
            allow_open_network: Some(true),
            ..off
        };
        assert!(!Config::resolve(allowed).unwrap().auth_mode_on);
    }

    #[test]
    fn admin_client_certs_need_something_to_verify_them() {
        let wanted = Layer {
            admin_requires_client_cert: Some(true),
            ..Default::default()
        };
        let err = Config::resolve(wanted.clone()).unwrap_err().to_string();
        assert!(err.contains("admin_requires_client_cert"), "{err}");
        let behind_proxy = Layer {
            trusted_proxies: Some(vec!["10.0.0.0/8".into()]),
            ..wanted
        };
        assert!(
            Config::resolve(behind_proxy)
                .unwrap()
                .admin_requires_client_cert
        );
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            Layer {
                bind: Some("nope".into()),
                ..Default::default()
            },
            Layer {
                trusted_proxies: Some(vec!["10.0.0.0/99".into()]),
                ..Default::default()
            },
            Layer {
                role: Some("gateway".into()),
                ..Default::default()
            },
            Layer {
                tls_cert: Some("a.pem".into()),
                ..Default::default()
            },
            Layer {
                database_url: Some("redis://x".into()),
                ..Default::default()
            },
        ];
        let keys = [
            "bind",
            "trusted_proxies",
            "services_url",
            "tls_key",
            "database_url",
        ];
        for (layer, key) in cases.into_iter().zip(keys) {
            let err = Config::resolve(layer).unwrap_err().to_string();
            assert!(err.contains(&format!("`{key}`")), "{err}");
        }
        let err =
            Layer::from_env(env(&[("CODEX_CENTRAL_ALLOW_OPEN_NETWORK", "maybe")])).unwrap_err();
        assert!(err.to_string().contains("allow_open_network"));
    }

    #[test]
    fn readme_reference_matches_the_code() {
        let readme = include_str!("../README.md");
        let start = readme
            .find("<!-- config-reference:start -->\n")
            .expect("start marker");
        let end = readme
            .find("<!-- config-reference:end -->")
            .expect("end marker");
        let table = &readme[start + "<!-- config-reference:start -->\n".len()..end];
        if table != reference_markdown() && std::env::var_os("CODEX_CENTRAL_BLESS").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
            let head = &readme[..start + "<!-- config-reference:start -->\n".len()];
            std::fs::write(
                path,
                format!("{head}{}{}", reference_markdown(), &readme[end..]),
            )
            .unwrap();
            return;
        }
        assert_eq!(
            table,
            reference_markdown(),
            "the README's configuration table is stale: run CODEX_CENTRAL_BLESS=1 cargo test -p codex-central readme"
        );
    }

    #[test]
    fn secret_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("db");
        std::fs::write(&f, "postgres://u:p@h/db\n").unwrap();
        let c = Config::resolve(Layer {
            database_url_file: Some(f),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.database_url.expose(), "postgres://u:p@h/db");
        assert!(!format!("{c:?}").contains("u:p@"));
    }
}
