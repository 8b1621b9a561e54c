//! Host registration and administration.

use std::time::Duration;

use codex_central_common::crypto::{
    Secret, TokenKind, generate_token, token_digest, token_display_prefix,
};
use codex_central_store::audit;
use codex_central_store::entities::hosts::Model;
use codex_central_store::{Store, hosts, now_ms};
use serde_json::json;

use crate::{Error, Result};

/// Temporary hosts live this long after registration and after each use (SPEC §4).
pub const TEMPORARY_TTL: Duration = Duration::from_secs(2 * 3600);
/// Default insecure window, and the window a newly registered insecure host gets.
pub const DEFAULT_INSECURE_WINDOW_MINUTES: i32 = 10;
const REGISTER_INSECURE_WINDOW: Duration = Duration::from_secs(30 * 60);

pub use codex_central_store::audit::Actor;

#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub fqdn: String,
    pub secure: bool,
    pub vip: bool,
    pub temporary: bool,
    pub curl_insecure: bool,
    pub rotate: bool,
}

pub struct Registered {
    pub host: Model,
    pub api_key: Secret<String>,
    pub created: bool,
}

/// Lower-cased, validated host name (RFC 1123 labels; 1–191 characters to fit the index).
pub fn normalize_fqdn(raw: &str) -> Result<String> {
    let fqdn = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if fqdn.is_empty() {
        return Err(Error::invalid("fqdn", "fqdn is required"));
    }
    if fqdn.len() > 191 {
        return Err(Error::invalid(
            "fqdn",
            "fqdn must be at most 191 characters",
        ));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !fqdn.split('.').all(label_ok) {
        return Err(Error::invalid(
            "fqdn",
            "fqdn must be a host name: letters, digits, '-' and '_' in dot-separated labels",
        ));
    }
    Ok(fqdn)
}

fn new_key() -> Result<(Secret<String>, String, String)> {
    let key = generate_token(TokenKind::Host)?;
    let digest = token_digest(key.expose());
    let prefix = token_display_prefix(key.expose());
    Ok((key, digest, prefix))
}

/// Registers a host, or rotates the key of an existing one when `rotate` is set.
pub async fn register(store: &Store, actor: &Actor, reg: Registration) -> Result<Registered> {
    let fqdn = normalize_fqdn(&reg.fqdn)?;
    let now = now_ms();
    let (api_key, digest, prefix) = new_key()?;
    if let Some(existing) = hosts::find_by_fqdn(store, &fqdn).await? {
        if !reg.rotate {
            return Err(Error::already_exists(format!(
                "host {fqdn} is already registered; pass rotate=true to rotate its key"
            )));
        }
        let txn = store.begin().await?;
        hosts::set_key(&txn, existing.id, &digest, &prefix, now).await?;
        let event = actor
            .event("host.rotate_key", format!("host:{}", existing.id))
            .details(json!({ "fqdn": fqdn, "key_prefix": prefix }));
        audit::commit(txn, event).await?;
        let host = hosts::get(store.db(), existing.id).await?;
        return Ok(Registered {
            host,
            api_key,
            created: false,
        });
    }
    let host = Model {
        id: 0,
        fqdn: fqdn.clone(),
        key_digest: digest,
        key_prefix: prefix.clone(),
        status: "active".into(),
        secure: reg.secure,
        vip: reg.vip,
        allow_roaming: false,
        force_ipv4: false,
        curl_insecure: reg.curl_insecure,
        ip: None,
        insecure_enabled_until: (!reg.secure).then(|| now + millis(REGISTER_INSECURE_WINDOW)),
        insecure_grace_until: None,
        insecure_window_minutes: DEFAULT_INSECURE_WINDOW_MINUTES,
        expires_at: reg.temporary.then(|| now + millis(TEMPORARY_TTL)),
        client_version: None,
        client_version_override: None,
        wrapper_version: None,
        model_override: None,
        reasoning_effort_override: None,
        api_calls: 0,
        last_seen_at: None,
        provisioned_at: None,
        created_at: now,
        updated_at: now,
    };
    let txn = store.begin().await?;
    let host = hosts::insert(&txn, host).await.map_err(|e| match e {
        codex_central_store::Error::Conflict(_) => Error::already_exists(format!(
            "host {fqdn} is already registered; pass rotate=true to rotate its key"
        )),
        other => other.into(),
    })?;
    let event = actor
        .event("host.register", format!("host:{}", host.id))
        .details(json!({ "fqdn": fqdn, "secure": reg.secure, "vip": reg.vip, "temporary": reg.temporary, "key_prefix": prefix }));
    audit::commit(txn, event).await?;
    Ok(Registered {
        host,
        api_key,
        created: true,
    })
}

pub fn parse_id(id: &str) -> Result<i64> {
    id.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| codex_central_store::Error::NotFound("Host not found".into()).into())
}

pub async fn delete(store: &Store, actor: &Actor, id: i64) -> Result<Model> {
    let txn = store.begin().await?;
    let host = hosts::get(&txn, id).await?;
    hosts::delete(&txn, id).await?;
    let event = actor
        .event("host.delete", format!("host:{id}"))
        .details(json!({ "fqdn": host.fqdn }));
    audit::commit(txn, event).await?;
    Ok(host)
}

pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}
