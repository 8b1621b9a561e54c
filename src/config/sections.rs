//! Validation, one small function per section of the configuration. Each reads the merged
//! layer (defaults applied) and names the key at fault.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use codex_central_common::crypto::Secret;
use ipnet::IpNet;

use super::{
    AuthMode, ConfigError, Layer, MasterKeyConfig, OAuthProviderConfig, OAuthProviderLayer,
    ProcessRole, Tls, invalid,
};

/// Where the server listens and who may reach it.
pub struct Network {
    pub bind: SocketAddr,
    pub auth_mode: AuthMode,
    pub trusted_proxies: Vec<IpNet>,
    pub tls: Option<Tls>,
    pub public_url: String,
}

pub fn network(layer: &Layer) -> Result<Network, ConfigError> {
    let bind_text = layer.bind.clone().unwrap_or_default();
    let bind: SocketAddr = bind_text.parse().map_err(|_| {
        invalid(
            "bind",
            format!("{bind_text:?} is not an address:port such as 127.0.0.1:8488"),
        )
    })?;
    let loopback = bind.ip().is_loopback();
    let auth_mode = layer.auth_mode.unwrap_or(if loopback {
        AuthMode::Off
    } else {
        AuthMode::On
    });
    if auth_mode == AuthMode::Off && !loopback && !layer.allow_open_network.unwrap_or(false) {
        return Err(invalid(
            "auth_mode",
            format!(
                "auth mode off on the non-loopback address {bind} would let anyone on the network administer this server; use --auth-mode on, bind to 127.0.0.1, or pass --allow-open-network"
            ),
        ));
    }
    let trusted_proxies = layer
        .trusted_proxies
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|s| parse_cidr(s))
        .collect::<Result<Vec<_>, _>>()?;
    let tls = tls(layer)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public_url = layer
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{bind}"))
        .trim_end_matches('/')
        .to_string();
    if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
        return Err(invalid("public_url", "must start with http:// or https://"));
    }
    Ok(Network {
        bind,
        auth_mode,
        trusted_proxies,
        tls,
        public_url,
    })
}

fn tls(layer: &Layer) -> Result<Option<Tls>, ConfigError> {
    match (&layer.tls_cert, &layer.tls_key) {
        (Some(cert), Some(key)) => Ok(Some(Tls {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: layer.client_ca.clone(),
        })),
        (None, None) if layer.client_ca.is_some() => Err(invalid(
            "client_ca",
            "client certificates need TLS: set tls_cert and tls_key too",
        )),
        (None, None) => Ok(None),
        (Some(_), None) => Err(invalid("tls_key", "tls_cert is set but tls_key is not")),
        (None, Some(_)) => Err(invalid("tls_cert", "tls_key is set but tls_cert is not")),
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

/// Admin over client certificates needs something that can verify them.
pub fn client_certs(layer: &Layer, network: &Network) -> Result<bool, ConfigError> {
    let wanted = layer.admin_requires_client_cert.unwrap_or(false);
    let can_verify = network.tls.as_ref().is_some_and(|t| t.client_ca.is_some())
        || !network.trusted_proxies.is_empty();
    if wanted && !can_verify {
        return Err(invalid(
            "admin_requires_client_cert",
            "nothing could verify a client certificate: set client_ca (with TLS) or trusted_proxies (a proxy that verifies them)",
        ));
    }
    Ok(wanted)
}

pub fn database_url(layer: &Layer, data_dir: &Path) -> Result<String, ConfigError> {
    let url = match (&layer.database_url, &layer.database_url_file) {
        (Some(url), _) => url.clone(),
        (None, Some(file)) => read_secret_file("database_url_file", file)?,
        (None, None) => format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("codex-central.db").display()
        ),
    };
    codex_central_store::Backend::from_url(&url)
        .map_err(|e| invalid("database_url", e.to_string()))?;
    Ok(url)
}

/// Which halves run here, and the credential that joins them.
pub struct Roles {
    pub role: ProcessRole,
    pub services_url: Option<String>,
    pub internal_secret: Option<String>,
}

pub fn roles(layer: &Layer) -> Result<Roles, ConfigError> {
    let role = layer.role.unwrap_or(ProcessRole::All);
    if role == ProcessRole::Gateway && layer.services_url.is_none() {
        return Err(invalid(
            "services_url",
            "--role gateway needs --services-url",
        ));
    }
    let internal_secret = match (&layer.internal_secret, &layer.internal_secret_file) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(file)) => Some(read_secret_file("internal_secret_file", file)?),
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
    Ok(Roles {
        role,
        services_url: layer.services_url.clone(),
        internal_secret,
    })
}

pub fn master_key(layer: &Layer, data_dir: &Path) -> MasterKeyConfig {
    match (&layer.master_key, &layer.master_key_file) {
        (Some(current), _) => MasterKeyConfig::Inline {
            current: Secret::new(current.clone()),
            previous: layer.master_key_previous.clone().map(Secret::new),
        },
        (None, Some(path)) => MasterKeyConfig::File {
            path: path.clone(),
            create: false,
        },
        (None, None) => MasterKeyConfig::File {
            path: data_dir.join("master.key"),
            create: true,
        },
    }
}

/// What hosts are told about Codex releases and this server's CA.
pub struct Releases {
    pub codex_release_url: String,
    pub pricing_url: String,
    pub codex_release_check: Duration,
    pub host_ca_pem: Option<String>,
}

pub fn releases(layer: &Layer) -> Result<Releases, ConfigError> {
    let codex_release_url = layer
        .codex_release_url
        .clone()
        .unwrap_or_default()
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
    let pricing_url = layer
        .pricing_url
        .clone()
        .unwrap_or_default()
        .trim()
        .to_string();
    if !(pricing_url.is_empty()
        || pricing_url.starts_with("http://")
        || pricing_url.starts_with("https://"))
    {
        return Err(invalid(
            "pricing_url",
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
    Ok(Releases {
        codex_release_url,
        pricing_url,
        codex_release_check: Duration::from_secs(
            layer.codex_release_check_secs.unwrap_or_default().max(60),
        ),
        host_ca_pem,
    })
}

/// How much of the `/v1` request log is kept, and how often that is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLog {
    /// `None`: kept regardless of age.
    pub max_age: Option<Duration>,
    /// `None`: no row limit.
    pub max_rows: Option<u64>,
    pub prune_every: Duration,
}

pub fn request_log(layer: &Layer) -> RequestLog {
    let days = layer.request_log_retention_days.unwrap_or_default();
    RequestLog {
        max_age: (days > 0).then(|| Duration::from_secs(days.saturating_mul(86_400))),
        max_rows: layer.request_log_max_rows.filter(|rows| *rows > 0),
        prune_every: at_least_a_second(layer.request_log_prune_secs),
    }
}

pub fn host_cache_capacity(layer: &Layer) -> Result<usize, ConfigError> {
    match layer.host_cache_capacity.unwrap_or_default() {
        0 => Err(invalid("host_cache_capacity", "must be at least 1")),
        n => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
    }
}

pub fn at_least_a_second(secs: Option<u64>) -> Duration {
    Duration::from_secs(secs.unwrap_or_default().max(1))
}

pub fn oauth_providers(
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

pub(super) fn read_secret_file(key: &str, path: &PathBuf) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| invalid(key, format!("cannot read {}: {e}", path.display())))?;
    let value = text.trim().to_string();
    if value.is_empty() {
        return Err(invalid(key, format!("{} is empty", path.display())));
    }
    Ok(value)
}

/// The server-side refresh of the canonical ChatGPT tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodexRefresh {
    pub token_url: String,
    pub client_id: String,
    pub margin: Duration,
    pub interval: Duration,
    pub check_every: Duration,
}

/// The validation probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodexProbe {
    pub command: String,
    pub timeout: Duration,
    pub every: Duration,
}

pub fn codex_probe(layer: &Layer) -> CodexProbe {
    CodexProbe {
        command: layer.codex_probe_command.clone().unwrap_or_default(),
        timeout: Duration::from_secs(layer.codex_probe_timeout_secs.unwrap_or_default().max(1)),
        every: Duration::from_secs(layer.codex_probe_every_secs.unwrap_or_default().max(60)),
    }
}

/// Codex refreshes by itself about 5 minutes before expiry; the server must come first.
const MIN_REFRESH_MARGIN_SECS: u64 = 360;

pub fn codex_refresh(layer: &Layer) -> Result<CodexRefresh, ConfigError> {
    let token_url = layer
        .codex_token_url
        .clone()
        .unwrap_or_default()
        .trim()
        .to_string();
    if !(token_url.starts_with("http://") || token_url.starts_with("https://")) {
        return Err(invalid(
            "codex_token_url",
            "must start with http:// or https://",
        ));
    }
    let client_id = layer
        .codex_client_id
        .clone()
        .unwrap_or_default()
        .trim()
        .to_string();
    if client_id.is_empty() {
        return Err(invalid("codex_client_id", "must not be empty"));
    }
    let margin = layer.codex_refresh_margin_secs.unwrap_or_default();
    if margin < MIN_REFRESH_MARGIN_SECS {
        return Err(invalid(
            "codex_refresh_margin_secs",
            format!(
                "must be at least {MIN_REFRESH_MARGIN_SECS}: Codex refreshes by itself about 5 \
                 minutes before expiry, and the server must refresh first"
            ),
        ));
    }
    let interval = layer.codex_refresh_interval_secs.unwrap_or_default();
    if interval < 3600 {
        return Err(invalid(
            "codex_refresh_interval_secs",
            "must be at least 3600 (an hour)",
        ));
    }
    Ok(CodexRefresh {
        token_url,
        client_id,
        margin: Duration::from_secs(margin),
        interval: Duration::from_secs(interval),
        check_every: Duration::from_secs(layer.codex_refresh_check_secs.unwrap_or_default().max(1)),
    })
}

/// The server's poll of the ChatGPT usage endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatGptUsage {
    /// Without a trailing `/`.
    pub base_url: String,
    /// `None`: no background poll.
    pub poll_every: Option<Duration>,
}

/// The usage endpoint answers for a 5-minute cooldown; polling faster would only be refused.
const MIN_CHATGPT_POLL_SECS: u64 = 300;

pub fn chatgpt_usage(layer: &Layer) -> Result<ChatGptUsage, ConfigError> {
    let base_url = layer
        .chatgpt_base_url
        .clone()
        .unwrap_or_default()
        .trim()
        .trim_end_matches('/')
        .to_string();
    let host = base_url
        .strip_prefix("https://")
        .or_else(|| base_url.strip_prefix("http://"))
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .unwrap_or_default();
    if host.is_empty() || base_url.contains(['?', '#']) || base_url.contains(char::is_whitespace) {
        return Err(invalid(
            "chatgpt_base_url",
            "must be an http:// or https:// URL with a host and no query, such as https://chatgpt.com/backend-api",
        ));
    }
    let secs = layer.chatgpt_usage_poll_secs.unwrap_or_default();
    if secs != 0 && secs < MIN_CHATGPT_POLL_SECS {
        return Err(invalid(
            "chatgpt_usage_poll_secs",
            format!(
                "must be 0 (no background poll) or at least {MIN_CHATGPT_POLL_SECS}: the usage \
                 endpoint is called at most once per 5 minutes"
            ),
        ));
    }
    Ok(ChatGptUsage {
        base_url,
        poll_every: (secs > 0).then(|| Duration::from_secs(secs)),
    })
}
