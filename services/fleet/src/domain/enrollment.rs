//! Installer links: `curl -fsSL "<public_url>/install/<token>" | bash`. Single-use (consumed by
//! one conditional UPDATE), expiring, and robust to link scanners: inspecting a link (HEAD, an
//! HTML preview) never consumes it. The host key travels only in the script body.

use std::sync::Arc;
use std::time::Duration;

use codex_central_common::crypto::{
    Keyring, Secret, TokenKind, generate_token, token_digest, token_display_prefix,
};
use codex_central_store::audit::{self, Actor};
use codex_central_store::entities::hosts::Model as Host;
use codex_central_store::entities::installer_tokens;
use codex_central_store::{Store, enrollment, hosts, now_ms};

use super::hosts::millis;
use crate::{Error, Result};

pub const DEFAULT_INSTALLER_TTL: Duration = Duration::from_secs(30 * 60);
const MAX_INSTALLER_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Valid,
    Used,
    Expired,
}

pub struct InstallerLink {
    pub token: Secret<String>,
    pub url: String,
    pub command: String,
    pub expires_at: i64,
}

pub struct Installer {
    pub host: Host,
    pub script: String,
    pub expires_at: i64,
}

#[derive(Clone)]
pub struct Enrollment {
    store: Store,
    keyring: Arc<Keyring>,
    public_url: String,
    /// PEM certificates hosts should trust for this server (a private CA), if any.
    ca_pem: Option<Arc<str>>,
}

impl Enrollment {
    /// The base URL baked into installers and wrappers.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    pub fn new(
        store: Store,
        keyring: Arc<Keyring>,
        public_url: String,
        ca_pem: Option<String>,
    ) -> Self {
        Enrollment {
            store,
            keyring,
            public_url: public_url.trim_end_matches('/').to_string(),
            ca_pem: ca_pem.map(Arc::from),
        }
    }

    fn link(&self, token: &str) -> (String, String) {
        let url = format!("{}/install/{token}", self.public_url);
        let command = format!("curl -fsSL \"{url}\" | bash");
        (url, command)
    }

    /// Creates an installer for `host` carrying `api_key`; earlier unused ones are revoked.
    pub async fn create_installer(
        &self,
        host: &Host,
        api_key: &Secret<String>,
        ttl: Option<Duration>,
    ) -> Result<InstallerLink> {
        let ttl = ttl.unwrap_or(DEFAULT_INSTALLER_TTL);
        if ttl.is_zero() || ttl > MAX_INSTALLER_TTL {
            return Err(Error::invalid(
                "installer_ttl_seconds",
                "installer_ttl_seconds must be between 1 and 86400",
            ));
        }
        let token = generate_token(TokenKind::Installer)?;
        let now = now_ms();
        let expires_at = now + millis(ttl);
        let txn = self.store.begin().await?;
        enrollment::revoke_installers_of(&txn, host.id, now).await?;
        enrollment::insert_installer(
            &txn,
            installer_tokens::Model {
                token_digest: token_digest(token.expose()),
                host_id: host.id,
                key_enc: self.keyring.encrypt_str(api_key.expose())?,
                expires_at,
                used_at: None,
                created_at: now,
            },
        )
        .await?;
        txn.commit()
            .await
            .map_err(codex_central_store::Error::from)?;
        let (url, command) = self.link(token.expose());
        Ok(InstallerLink {
            token,
            url,
            command,
            expires_at,
        })
    }

    async fn find(&self, token: &str) -> Result<installer_tokens::Model> {
        let not_found = || {
            Error::from(codex_central_store::Error::NotFound(
                "Installer not found".into(),
            ))
        };
        if TokenKind::of_token(token) != Some(TokenKind::Installer) {
            return Err(not_found());
        }
        enrollment::installer(&self.store, &token_digest(token))
            .await?
            .ok_or_else(not_found)
    }

    fn state(row: &installer_tokens::Model, now: i64) -> TokenState {
        if row.used_at.is_some() {
            TokenState::Used
        } else if row.expires_at <= now {
            TokenState::Expired
        } else {
            TokenState::Valid
        }
    }

    /// The installer's state, host and command without consuming it.
    pub async fn inspect(&self, token: &str) -> Result<(TokenState, Host, i64, String)> {
        let row = self.find(token).await?;
        let host = hosts::get(self.store.db(), row.host_id).await?;
        let (_, command) = self.link(token);
        Ok((Self::state(&row, now_ms()), host, row.expires_at, command))
    }

    /// Consumes the installer and returns its script; exactly one caller ever gets it.
    pub async fn consume(&self, token: &str) -> Result<Installer> {
        let row = self.find(token).await?;
        let now = now_ms();
        match Self::state(&row, now) {
            TokenState::Used => return Err(Error::gone("Installer already used")),
            TokenState::Expired => return Err(Error::gone("Installer expired")),
            TokenState::Valid => {}
        }
        let key = Secret::new(self.keyring.decrypt_string(&row.key_enc)?);
        if !enrollment::consume_installer(&self.store, &row.token_digest, now).await? {
            return Err(Error::gone("Installer already used"));
        }
        let host = hosts::get(self.store.db(), row.host_id).await?;
        tracing::info!(installer = %token_display_prefix(token), host = %host.fqdn, "installer used");
        let script = install_script(
            &self.public_url,
            key.expose(),
            &host,
            self.ca_pem.as_deref(),
        );
        Ok(Installer {
            host,
            script,
            expires_at: row.expires_at,
        })
    }
}

pub const DEFAULT_SEED_TTL: Duration = Duration::from_secs(15 * 60);

pub struct SeedLink {
    pub token: Secret<String>,
    pub url: String,
    pub command: String,
    pub expires_at: i64,
}

impl Enrollment {
    fn seed_link(&self, token: &str) -> (String, String) {
        let url = format!("{}/seed/auth/{token}", self.public_url);
        let command = format!("curl -fsSL \"{url}\" | bash");
        (url, command)
    }

    /// A single-use link that uploads a trusted machine's `~/.codex/auth.json`.
    pub async fn create_seed(&self, actor: &Actor, ttl: Option<Duration>) -> Result<SeedLink> {
        let ttl = ttl.unwrap_or(DEFAULT_SEED_TTL);
        if ttl.is_zero() || ttl > MAX_INSTALLER_TTL {
            return Err(Error::invalid(
                "ttl_seconds",
                "ttl_seconds must be between 1 and 86400",
            ));
        }
        let token = generate_token(TokenKind::Seed)?;
        let now = now_ms();
        let expires_at = now + millis(ttl);
        let txn = self.store.begin().await?;
        enrollment::insert_seed(
            &txn,
            codex_central_store::entities::seed_tokens::Model {
                token_digest: token_digest(token.expose()),
                expires_at,
                used_at: None,
                created_by: actor.principal.audit_actor().chars().take(191).collect(),
                created_at: now,
            },
        )
        .await?;
        let event = actor
            .event("codex_auth.seed_link", "codex_auth:canonical")
            .details(serde_json::json!({ "expires_at": expires_at }));
        audit::commit(txn, event).await?;
        let (url, command) = self.seed_link(token.expose());
        Ok(SeedLink {
            token,
            url,
            command,
            expires_at,
        })
    }

    /// The seed link's state, expiry and upload script, without consuming it.
    pub async fn inspect_seed(&self, token: &str) -> Result<(TokenState, i64, String)> {
        let not_found = || {
            Error::from(codex_central_store::Error::NotFound(
                "Seed link not found".into(),
            ))
        };
        if TokenKind::of_token(token) != Some(TokenKind::Seed) {
            return Err(not_found());
        }
        let row = enrollment::seed(&self.store, &token_digest(token))
            .await?
            .ok_or_else(not_found)?;
        let now = now_ms();
        let state = if row.used_at.is_some() {
            TokenState::Used
        } else if row.expires_at <= now {
            TokenState::Expired
        } else {
            TokenState::Valid
        };
        let (url, _) = self.seed_link(token);
        Ok((state, row.expires_at, seed_script(&url)))
    }

    /// Burns the seed link; exactly one caller wins.
    pub async fn consume_seed(&self, token: &str) -> Result<()> {
        let (state, _, _) = self.inspect_seed(token).await?;
        match state {
            TokenState::Used => Err(Error::gone("Seed link already used")),
            TokenState::Expired => Err(Error::gone("Seed link expired")),
            TokenState::Valid => {
                if enrollment::consume_seed(&self.store, &token_digest(token), now_ms()).await? {
                    Ok(())
                } else {
                    Err(Error::gone("Seed link already used"))
                }
            }
        }
    }
}

/// Uploads the machine's auth.json to the seed link (which stays valid if the upload is bad).
fn seed_script(url: &str) -> String {
    format!(
        r#"#!/usr/bin/env bash
# codex-central: upload this machine's Codex auth.json as the fleet's canonical copy.
set -euo pipefail
file="${{CODEX_HOME:-$HOME/.codex}}/auth.json"
if [ ! -r "$file" ]; then
    echo "codex-central: $file not found; sign in with codex first" >&2
    exit 1
fi
if curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' --data-binary @"$file" {url} >/dev/null; then
    echo "codex-central: auth.json uploaded" >&2
else
    echo >&2
    echo "codex-central: upload failed (the link stays valid until it expires)" >&2
    exit 1
fi
"#,
        url = sh(url),
    )
}

/// Single-quotes a value for bash.
fn sh(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The install script: writes cdx's config (0600; `/etc/cdx` and `/usr/local/bin` as root,
/// else the XDG config dir and `~/.local/bin`), installs the cdx build the server offers for the
/// machine's platform after checking its sha256, and installs Codex at the fleet's version with
/// npm when Codex is missing (through `cdx --update`). Values are quoted; the key appears only
/// here, in the body. With a CA, the certificates are written beside the config and every call
/// trusts them.
pub fn install_script(base_url: &str, api_key: &str, host: &Host, ca_pem: Option<&str>) -> String {
    let ca = match ca_pem {
        None => String::new(),
        Some(pem) => format!(
            "ca_file=\"$config_dir/ca.pem\"\ncat >\"$ca_file\" <<'CDX_CA'\n{}\nCDX_CA\nchmod 644 \"$ca_file\"\ncurl_opts+=(--cacert \"$ca_file\")\n",
            pem.trim()
        ),
    };
    let ca_line = if ca_pem.is_some() {
        "ca_file = \"$ca_file\"\n"
    } else {
        ""
    };
    format!(
        r#"#!/usr/bin/env bash
# codex-central installer for {fqdn_comment}. Single-use: this link no longer works.
set -euo pipefail
CDX_BASE_URL={base}
CDX_API_KEY={key}
CDX_FQDN={fqdn}
CDX_FORCE_IPV4={ipv4}
CDX_CURL_INSECURE={curl_insecure}
CDX_SECURE={secure}

curl_opts=(-fsS --retry 3)
[ "$CDX_FORCE_IPV4" = 1 ] && curl_opts+=(-4)
[ "$CDX_CURL_INSECURE" = 1 ] && curl_opts+=(-k)
flag() {{ [ "$1" = 1 ] && echo true || echo false; }}

if [ "$(id -u)" = 0 ]; then
    config_dir="${{CDX_CONFIG_DIR:-/etc/cdx}}"
    bin_dir="${{CDX_BIN_DIR:-/usr/local/bin}}"
else
    config_dir="${{CDX_CONFIG_DIR:-${{XDG_CONFIG_HOME:-$HOME/.config}}/cdx}}"
    bin_dir="${{CDX_BIN_DIR:-$HOME/.local/bin}}"
fi
mkdir -p "$config_dir"
{ca}umask 077
tmp="$(mktemp "$config_dir/.config.toml.XXXXXX")"
cat >"$tmp" <<CDX_CONFIG
base_url = "$CDX_BASE_URL"
api_key = "$CDX_API_KEY"
fqdn = "$CDX_FQDN"
force_ipv4 = $(flag "$CDX_FORCE_IPV4")
curl_insecure = $(flag "$CDX_CURL_INSECURE")
secure = $(flag "$CDX_SECURE")
{ca_line}CDX_CONFIG
chmod 600 "$tmp"
mv "$tmp" "$config_dir/config.toml"
echo "cdx: configuration written to $config_dir/config.toml" >&2

mkdir -p "$bin_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status="$(curl "${{curl_opts[@]}}" -H "X-API-Key: $CDX_API_KEY" -D "$work/headers" -o "$work/cdx" -w '%{{http_code}}' "$CDX_BASE_URL/wrapper/download?os=$(uname -s)&arch=$(uname -m)" || true)"
if [ "$status" != 200 ]; then
    echo "cdx: the server has no wrapper for this platform yet (HTTP $status); configuration is in place" >&2
    exit 1
fi
want="$(tr -d '\r' <"$work/headers" | awk 'tolower($1)=="x-sha256:" {{print $2}}')"
if command -v sha256sum >/dev/null 2>&1; then
    have="$(sha256sum "$work/cdx" | cut -d' ' -f1)"
else
    have="$(shasum -a 256 "$work/cdx" | cut -d' ' -f1)"
fi
if [ -z "$want" ] || [ "$want" != "$have" ]; then
    echo "cdx: checksum mismatch for the downloaded wrapper; not installing" >&2
    exit 1
fi
install -m 0755 "$work/cdx" "$bin_dir/cdx"
echo "cdx: installed $bin_dir/cdx for $CDX_FQDN (sha256 $have)" >&2
case ":$PATH:" in *":$bin_dir:"*) ;; *) echo "cdx: add $bin_dir to your PATH" >&2 ;; esac

# Codex itself, at the fleet's version, when it is missing and npm is there. A legacy script
# wrapper (no --update) is left to its own devices.
if command -v codex >/dev/null 2>&1; then
    echo "cdx: Codex is installed ($(codex --version 2>/dev/null || echo unknown version)); \`cdx --update\` brings it to the fleet's version" >&2
elif ! head -c 2 "$bin_dir/cdx" | grep -q '#!' && command -v npm >/dev/null 2>&1; then
    CDX_CONFIG="$config_dir/config.toml" "$bin_dir/cdx" --update || echo "cdx: Codex could not be installed; run \`cdx --update\` later" >&2
else
    echo "cdx: Codex is not installed: install Node.js and npm, then run \`cdx --update\`" >&2
fi
echo "cdx: done. Run \`cdx\` to start Codex." >&2
"#,
        fqdn_comment = host.fqdn,
        base = sh(base_url),
        key = sh(api_key),
        fqdn = sh(&host.fqdn),
        ipv4 = if host.force_ipv4 { "1" } else { "0" },
        curl_insecure = if host.curl_insecure { "1" } else { "0" },
        secure = if host.secure { "1" } else { "0" },
    )
}
