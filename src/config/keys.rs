//! Every configuration key, declared once: its TOML name, type, default, environment variable,
//! flag and meaning. The TOML schema ([`Layer`]), the environment and flag readers, the README
//! table and `--help` are all generated from the one list at the bottom of this file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{AuthMode, ConfigError, LogFormat, ProcessRole, invalid};

/// How a key's text (from the environment or a flag) becomes its value.
pub trait ConfigValue: Sized {
    /// Whether the key is a flag without a value (`--allow-open-network`).
    const SWITCH: bool = false;
    /// Whether only the config file can set the key (structured values).
    const FILE_ONLY: bool = false;
    fn parse(key: &str, text: &str) -> Result<Self, ConfigError>;
    /// The default as the README shows it.
    fn show(&self) -> String;
}

impl ConfigValue for String {
    fn parse(_: &str, text: &str) -> Result<Self, ConfigError> {
        Ok(text.to_string())
    }
    fn show(&self) -> String {
        self.clone()
    }
}

impl ConfigValue for PathBuf {
    fn parse(_: &str, text: &str) -> Result<Self, ConfigError> {
        Ok(PathBuf::from(text))
    }
    fn show(&self) -> String {
        self.display().to_string()
    }
}

impl ConfigValue for bool {
    const SWITCH: bool = true;
    fn parse(key: &str, text: &str) -> Result<Self, ConfigError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" | "" => Ok(false),
            _ => Err(invalid(key, "expected true or false")),
        }
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

impl ConfigValue for u64 {
    fn parse(key: &str, text: &str) -> Result<Self, ConfigError> {
        text.trim()
            .parse()
            .map_err(|_| invalid(key, "expected a whole number"))
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

/// Comma-separated in the environment and in flags, a TOML array in the file.
impl ConfigValue for Vec<String> {
    fn parse(_: &str, text: &str) -> Result<Self, ConfigError> {
        Ok(text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect())
    }
    fn show(&self) -> String {
        self.join(",")
    }
}

impl ConfigValue for Vec<OAuthProviderLayer> {
    const FILE_ONLY: bool = true;
    fn parse(key: &str, _: &str) -> Result<Self, ConfigError> {
        Err(invalid(
            key,
            "only the config file can set it ([[oauth_providers]])",
        ))
    }
    fn show(&self) -> String {
        String::new()
    }
}

/// The enums of the configuration: lowercase names in every layer.
macro_rules! config_enum {
    ($ty:ident { $($variant:ident = $name:literal),+ }) => {
        impl ConfigValue for $ty {
            fn parse(key: &str, text: &str) -> Result<Self, ConfigError> {
                match text.trim() {
                    $($name => Ok($ty::$variant),)+
                    other => Err(invalid(
                        key,
                        format!(concat!("expected one of ", $($name, " ",)+ "not {:?}"), other),
                    )),
                }
            }
            fn show(&self) -> String {
                match self { $($ty::$variant => $name.to_string(),)+ }
            }
        }
    };
}

config_enum!(AuthMode { On = "on", Off = "off" });
config_enum!(ProcessRole { All = "all", Services = "services", Gateway = "gateway" });
config_enum!(LogFormat { Pretty = "pretty", Json = "json" });

/// Documentation of one key, for the README table and `--help`.
pub struct KeyDoc {
    pub key: &'static str,
    pub flag: Option<&'static str>,
    /// Read from `CODEX_CENTRAL_<KEY>` (every key but the file-only ones).
    pub env: bool,
    /// A flag without a value.
    pub switch: bool,
    /// The default when it is not a plain value (computed from other keys, or none).
    pub default_text: &'static str,
    pub doc: &'static str,
}

impl KeyDoc {
    pub fn env_var(&self) -> String {
        format!("CODEX_CENTRAL_{}", self.key.to_ascii_uppercase())
    }
}

macro_rules! config_keys {
    ($(
        $(#[doc = $doc:literal])+
        $key:ident: $ty:ty $(= $default:expr)?, shown $shown:literal $(, flag $flag:literal)?;
    )+) => {
        /// One layer of configuration; every field optional so layers can be merged. This is
        /// also the schema of the TOML file, which rejects unknown keys.
        #[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        pub struct Layer {
            $(pub $key: Option<$ty>,)+
        }

        pub const KEYS: &[KeyDoc] = &[$(KeyDoc {
            key: stringify!($key),
            flag: config_keys!(@flag $($flag)?),
            env: !<$ty as ConfigValue>::FILE_ONLY,
            switch: <$ty as ConfigValue>::SWITCH,
            default_text: $shown,
            doc: concat!($($doc),+),
        },)+];

        impl Layer {
            /// The compiled defaults (keys whose default depends on others stay unset).
            pub fn defaults() -> Layer {
                Layer { $($key: config_keys!(@default $($default)?),)+ }
            }

            /// Values named by key (`bind`), from the environment or from flags.
            pub fn from_lookup(
                lookup: impl Fn(&KeyDoc) -> Option<String>,
            ) -> Result<Layer, ConfigError> {
                let mut docs = KEYS.iter();
                Ok(Layer {$($key: match docs.next() {
                    Some(doc) => lookup(doc)
                        .map(|text| <$ty as ConfigValue>::parse(doc.key, &text))
                        .transpose()?,
                    None => None,
                },)+})
            }

            /// `self` over `lower`: a value set here wins.
            pub fn over(self, lower: Layer) -> Layer {
                Layer { $($key: self.$key.or(lower.$key),)+ }
            }

            /// The default of `key` as the README shows it.
            pub fn default_text(key: &str) -> String {
                let defaults = Layer::defaults();
                $(if key == stringify!($key) {
                    if let Some(value) = &defaults.$key {
                        return ConfigValue::show(value);
                    }
                })+
                KEYS.iter()
                    .find(|k| k.key == key)
                    .map(|k| k.default_text.to_string())
                    .unwrap_or_default()
            }
        }
    };
    (@flag) => { None };
    (@flag $flag:literal) => { Some($flag) };
    (@default) => { None };
    (@default $default:expr) => { Some($default.into()) };
}

/// Codex's token endpoint and OAuth client id (contracts/codex-cli.md "Token refresh").
pub const DEFAULT_CODEX_TOKEN_URL: &str = "https://auth.openai.com/oauth/token";
pub const DEFAULT_CODEX_CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";

/// The ChatGPT backend the peer reads usage from (`CHATGPT_BASE_URL`).
pub const DEFAULT_CHATGPT_BASE_URL: &str = "https://chatgpt.com/backend-api";

/// The default URL the release job reads.
pub const DEFAULT_CODEX_RELEASE_URL: &str =
    "https://api.github.com/repos/openai/codex/releases/latest";

config_keys! {
    /// Address and port of the one listener (gRPC, grpc-web, REST, ops).
    bind: String = "127.0.0.1:8488", shown "", flag "--bind";
    /// Directory for the SQLite database, the master key file and other local state; created if missing.
    data_dir: PathBuf = "./data", shown "", flag "--data-dir";
    /// `sqlite://…`, `postgres://…` or `mysql://…` (MariaDB too).
    database_url: String, shown "sqlite://<data_dir>/codex-central.db", flag "--database-url";
    /// File holding `database_url` (for URLs with passwords).
    database_url_file: PathBuf, shown "–";
    /// The longest any request waits on the database: for a pooled connection and (PostgreSQL) one statement; past it the answer is 503 with `Retry-After`.
    database_timeout_secs: u64 = 5u64, shown "";
    /// Base URL clients use to reach this server; baked into installers and configs.
    public_url: String, shown "http://<bind>", flag "--public-url";
    /// `on`: every surface needs credentials. `off`: single-user local mode.
    auth_mode: AuthMode, shown "off on a loopback bind, else on", flag "--auth-mode";
    /// Allow `auth_mode = off` on a non-loopback bind.
    allow_open_network: bool = false, shown "", flag "--allow-open-network";
    /// Mark the session cookie `Secure` (set it when a TLS-terminating proxy serves this plain-HTTP server).
    cookie_secure: bool, shown "true with TLS, else false", flag "--cookie-secure";
    /// Admin access also needs a verified TLS client certificate (`client_ca`), or a trusted proxy's `X-mTLS-Present`/`X-SSL-Client-Verify` header.
    admin_requires_client_cert: bool = false, shown "", flag "--admin-requires-client-cert";
    /// CIDRs whose `Forwarded`/`X-Forwarded-For`/`X-Real-IP` headers are believed (comma-separated in env and flags).
    trusted_proxies: Vec<String>, shown "(none)", flag "--trusted-proxies";
    /// Origins allowed to call grpc-web from a browser on another origin.
    cors_origins: Vec<String>, shown "(none)", flag "--cors-origins";
    /// Browser origins allowed to call `/mcp` besides the public URL's (a request without `Origin` is always allowed).
    mcp_allowed_origins: Vec<String>, shown "(none)", flag "--mcp-allowed-origins";
    /// `Host` header values `/mcp` accepts besides the public URL's host and loopback (DNS-rebinding guard).
    mcp_allowed_hosts: Vec<String>, shown "(none)", flag "--mcp-allowed-hosts";
    /// PostgreSQL text search configuration for memory search: `simple` (no stemming, as on the other backends) or one the database has (`english`, `german`, …: stemming and stopwords); its index is built at start. Ignored on SQLite and MariaDB.
    memory_search_language: String = "simple", shown "", flag "--memory-search-language";
    /// PEM certificate chain; with `tls_key`, serve HTTPS (HTTP/1.1 and HTTP/2 via ALPN).
    tls_cert: PathBuf, shown "(none)", flag "--tls-cert";
    /// PEM private key for `tls_cert`.
    tls_key: PathBuf, shown "(none)", flag "--tls-key";
    /// PEM CA bundle; client certificates signed by it are verified (optional for clients).
    client_ca: PathBuf, shown "(none)", flag "--client-ca";
    /// `all`, `services` (gRPC services only) or `gateway` (REST etc., services reached at `services_url`).
    role: ProcessRole = ProcessRole::All, shown "", flag "--role";
    /// URL of a `--role services` process; required for `--role gateway`.
    services_url: String, shown "(none)", flag "--services-url";
    /// Credential the gateway presents to the services; required (≥ 32 chars, same value) in split roles.
    internal_secret: String, shown "random per process";
    /// File holding `internal_secret`.
    internal_secret_file: PathBuf, shown "–";
    /// Base64 of the 32-byte master key; when unset the key file is used.
    master_key: String, shown "(none)";
    /// Key file (created 0600 on first start when it is the default): first line the current key, further lines previous keys.
    master_key_file: PathBuf, shown "<data_dir>/master.key";
    /// Comma-separated base64 keys still accepted for decryption (with `master_key`, during rotation).
    master_key_previous: String, shown "(none)";
    /// `pretty` or `json`.
    log_format: LogFormat = LogFormat::Pretty, shown "", flag "--log-format";
    /// A tracing filter such as `info` or `codex_central=debug,info`; `RUST_LOG` overrides it.
    log_level: String = "info", shown "", flag "--log-level";
    /// How long in-flight requests may finish after SIGTERM/SIGINT.
    shutdown_timeout_secs: u64 = 10u64, shown "";
    /// Directory of wrapper artifacts served by `/wrapper/download`: `cdx-<os>-<arch>` binaries (e.g. `cdx-linux-x86_64`), a legacy `cdx.sh` template, and a `VERSION` file. Admin-published releases take precedence.
    wrapper_dir: PathBuf, shown "(none)", flag "--wrapper-dir";
    /// PEM certificate(s) hosts should trust for this server (a private CA); installers write them beside cdx's config and use them for every call.
    host_ca_file: PathBuf, shown "(none)", flag "--host-ca-file";
    /// How long the `/v1` gateway waits to connect to an upstream provider (connection failures are retried twice).
    upstream_connect_timeout_secs: u64 = 10u64, shown "";
    /// Config file only: `[[oauth_providers]]` tables (`name`, `kind` github/gitee/oidc, `client_id`, `client_secret` or `client_secret_file`, `issuer_url`, `scopes`, `display_name`, `enabled`), created or updated at start.
    oauth_providers: Vec<OAuthProviderLayer>, shown "(none)";
    /// Longest silence allowed between two chunks of an upstream answer before the call fails with 504.
    upstream_idle_timeout_secs: u64 = 300u64, shown "";
    /// Where the background job reads the latest Codex version: a GitHub release (`tag_name`) or npm registry (`version`) JSON document. Empty disables the check.
    codex_release_url: String = DEFAULT_CODEX_RELEASE_URL, shown "";
    /// How often the latest Codex version is read (one replica at a time, under a lease).
    codex_release_check_secs: u64 = 10_800u64, shown "";
    /// A price list to pull once a day (one replica at a time, under a lease): `{"currency": "USD", "prices": [{"model", "input_per_million", "cached_input_per_million", "output_per_million", "effective_from"}]}` (docs/usage.md). A pulled price is stored only when it differs from the one in force. Empty: prices come from the shipped table and admins only.
    pricing_url: String, shown "(none)", flag "--pricing-url";
    /// Percentages of a budget or a ChatGPT quota window that raise an alert (once per threshold and window: an audit row, a flag in the overview, a webhook), comma-separated; when several are crossed at once only the highest is raised.
    alert_thresholds: String = "80,95,100", shown "";
    /// Webhooks that receive each alert as a signed JSON POST (docs/usage.md), comma-separated; retried with backoff, every attempt logged.
    alert_webhook_urls: Vec<String>, shown "(none)";
    /// The HMAC-SHA256 key webhook deliveries are signed with (at least 16 characters); required with `alert_webhook_urls`.
    alert_webhook_secret: String, shown "(none)";
    /// File holding `alert_webhook_secret`.
    alert_webhook_secret_file: PathBuf, shown "–";
    /// A monthly spend per person (USD, all their usage) whose thresholds raise alerts; empty: none.
    alert_user_monthly_budget_usd: String, shown "(none)";
    /// A monthly spend of the whole fleet (USD) whose thresholds raise alerts; empty: none.
    alert_fleet_monthly_budget_usd: String, shown "(none)";
    /// How often people's and the fleet's budgets and the ChatGPT quota are checked for alerts (one replica at a time, under a lease).
    alert_check_secs: u64 = 60u64, shown "";
    /// Hosts the `/auth` hot path keeps in memory (about 1.6 KB each, 160 MB for 100,000; plus each one's served-wrapper digest). Keep it above the fleet's size: a host not cached is read from the database on every call (on SQLite about a fifth of the cached rate). When it is full the older half is dropped.
    host_cache_capacity: u64 = 200_000u64, shown "";
    /// `/v1` request-log rows older than this many days are deleted; 0 keeps them regardless of age.
    request_log_retention_days: u64 = 30u64, shown "";
    /// The request log keeps at most this many rows (the newest); 0 sets no limit.
    request_log_max_rows: u64 = 1_000_000u64, shown "";
    /// How often the retention job runs (one replica at a time, under a lease).
    request_log_prune_secs: u64 = 300u64, shown "";
    /// The OAuth token endpoint the server refreshes the canonical ChatGPT tokens at (Codex's own by default; point tests at a stub).
    codex_token_url: String = DEFAULT_CODEX_TOKEN_URL, shown "";
    /// The OAuth client id sent with a refresh (Codex's own by default).
    codex_client_id: String = DEFAULT_CODEX_CLIENT_ID, shown "";
    /// Refresh when the canonical access token expires within this many seconds; at least 360, above Codex's own ~5 minute threshold, so the server always refreshes first.
    codex_refresh_margin_secs: u64 = 1_800u64, shown "";
    /// Also refresh when the canonical `last_refresh` is older than this many seconds (8 days, Codex's old rule).
    codex_refresh_interval_secs: u64 = 691_200u64, shown "";
    /// How often the refresh job looks (one replica at a time, under a lease); failures back off from this, doubling up to an hour.
    codex_refresh_check_secs: u64 = 60u64, shown "";
    /// Where the server reads the fleet account's ChatGPT quota: `<chatgpt_base_url>/wham/usage`, called with the canonical access token and `ChatGPT-Account-Id` (the peer's `CHATGPT_BASE_URL`; point tests at a stub).
    chatgpt_base_url: String = DEFAULT_CHATGPT_BASE_URL, shown "";
    /// How often the server polls the ChatGPT usage endpoint in the background (at least 300; one call per 5 minutes across replicas, under a lease); 0: only when an admin asks (`POST /admin/chatgpt/usage/refresh`).
    chatgpt_usage_poll_secs: u64 = 0u64, shown "";
    /// Validation probe: a shell command (`sh -c`) run with `CODEX_HOME` set to a private temporary directory holding the canonical auth.json as hosts receive it, e.g. `codex exec --skip-git-repo-check 'Reply with OK'`; exit 0 passes. Runs after each store and daily, never holding up `/auth`; a newer auth.json it leaves is stored. Empty: claims are decoded, no command runs.
    codex_probe_command: String = "", shown "(none)";
    /// The longest the probe may run before it is killed.
    codex_probe_timeout_secs: u64 = 120u64, shown "";
    /// How often the canonical auth.json is validated besides after each store (one replica at a time, under a lease).
    codex_probe_every_secs: u64 = 86_400u64, shown "";
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
