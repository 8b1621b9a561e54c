//! Service tokens for tooling: `cct_<64 hex>`, shown once, stored as SHA-256.

use std::time::Duration;

use codex_central_common::Role;
use codex_central_common::crypto::{
    Secret, TokenKind, generate_token, token_digest, token_display_prefix,
};
use codex_central_store::audit;
use codex_central_store::entities::service_tokens::Model;
use codex_central_store::{Store, now_ms, service_tokens};
use serde_json::json;

use crate::{Error, Result};

/// The longest expiry accepted (ten years); longer is almost certainly a unit mistake.
const MAX_EXPIRY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "read" => Ok(Scope::Read),
            "admin" => Ok(Scope::Admin),
            other => Err(Error::invalid_argument(format!(
                "scope must be \"admin\" or \"read\", not {other:?}"
            ))),
        }
    }

    pub fn role(self) -> Role {
        match self {
            Scope::Read => Role::ReadOnly,
            Scope::Admin => Role::Admin,
        }
    }
}

pub use codex_central_store::audit::Actor;

pub struct CreatedToken {
    pub token: Model,
    pub secret: Secret<String>,
}

pub async fn create(
    store: &Store,
    actor: &Actor,
    name: &str,
    scope: Scope,
    expires_in: Option<Duration>,
) -> Result<CreatedToken> {
    let name = validate_name(name)?;
    if let Some(ttl) = expires_in
        && (ttl.is_zero() || ttl > MAX_EXPIRY)
    {
        return Err(Error::invalid_argument(
            "expires_in must be between 1 second and 10 years",
        ));
    }
    let secret = generate_token(TokenKind::Service)?;
    let now = now_ms();
    let expires_at = expires_in.map(|d| now + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2));
    let model = Model {
        id: uuid::Uuid::now_v7().to_string(),
        name: name.clone(),
        scope: scope.as_str().into(),
        token_digest: token_digest(secret.expose()),
        prefix: token_display_prefix(secret.expose()),
        created_by: actor.principal.audit_actor(),
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    let txn = store.begin().await?;
    let token = service_tokens::insert(&txn, model).await?;
    let event = actor
        .event("service_token.create", format!("service_token:{}", token.id))
        .details(json!({ "name": name, "scope": scope.as_str(), "prefix": token.prefix, "expires_at": expires_at }));
    audit::commit(txn, event).await?;
    Ok(CreatedToken { token, secret })
}

pub async fn revoke(store: &Store, actor: &Actor, id: &str) -> Result<Model> {
    if id.trim().is_empty() {
        return Err(Error::invalid_argument("id is required"));
    }
    let txn = store.begin().await?;
    let token = service_tokens::revoke(&txn, id, now_ms()).await?;
    let event = actor
        .event(
            "service_token.revoke",
            format!("service_token:{}", token.id),
        )
        .details(json!({ "name": token.name, "prefix": token.prefix }));
    audit::commit(txn, event).await?;
    Ok(token)
}

pub async fn list(
    store: &Store,
    include_revoked: bool,
    before_id: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>> {
    Ok(service_tokens::list(store, include_revoked, before_id, limit).await?)
}

fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid_argument("name is required"));
    }
    if name.chars().count() > 128 {
        return Err(Error::invalid_argument(
            "name must be at most 128 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid_argument(
            "name must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

/// Human status of a token at `now`: "active", "expired" or "revoked".
pub fn status(token: &Model, now: i64) -> &'static str {
    if token.revoked_at.is_some() {
        "revoked"
    } else if token.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    }
}
