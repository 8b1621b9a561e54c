//! Turns a presented credential into a principal. The one place every surface (gRPC, grpc-web,
//! REST via the gateway) resolves credentials, so they can never disagree.
//!
//! Resolved credentials are cached for at most [`CACHE_TTL`], so a busy client costs one
//! database lookup per second rather than one per request. Revocation through this process
//! takes effect at once; through another replica (or the CLI) within [`CACHE_TTL`].

use std::time::Duration;

use codex_central_common::crypto::{TokenKind, constant_time_eq, token_digest};
use codex_central_common::ttl_cache::TtlCache;
use codex_central_common::{Principal, PrincipalKind};
use codex_central_store::entities::personal_tokens::Model as PersonalTokenRow;
use codex_central_store::{Store, now_ms, personal_tokens, service_tokens, users};

use super::service_tokens::{Scope, status};
use crate::{Error, Result};

/// Longest time a revoked or expired credential can keep working on another replica.
pub const CACHE_TTL: Duration = Duration::from_secs(1);
/// Bound on cached credentials; the cache is emptied when full (entries live a second anyway).
const CACHE_CAPACITY: usize = 10_000;

#[derive(Clone, Debug)]
pub struct Authenticator {
    store: Store,
    /// Token digest -> principal and the token's expiry (Unix ms), re-checked on every hit.
    cache: TtlCache<String, (Principal, Option<i64>)>,
    /// Personal token digest -> its user's principal and the token row (policy, expiry).
    personal: TtlCache<String, (Principal, PersonalTokenRow)>,
}

impl Authenticator {
    pub fn new(store: Store) -> Self {
        Authenticator {
            store,
            cache: TtlCache::new(CACHE_TTL, CACHE_CAPACITY),
            personal: TtlCache::new(CACHE_TTL, CACHE_CAPACITY),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Resolves a bearer credential. Unknown, revoked and expired credentials all answer the
    /// same `Unauthenticated` so a caller cannot probe which tokens exist.
    pub async fn authenticate(&self, credential: &str) -> Result<Principal> {
        let credential = credential.trim();
        let service_prefix = format!("{}_", TokenKind::Service.prefix());
        if let Some(rest) = credential.strip_prefix(&service_prefix)
            && rest.len() == 64
            && rest.bytes().all(|b| b.is_ascii_hexdigit())
        {
            let digest = token_digest(credential);
            if let Some(principal) = self.cached(&digest) {
                return Ok(principal);
            }
            return self.service_token(digest).await;
        }
        if is_personal_token_shape(credential) {
            return Ok(self.personal_token(credential).await?.0);
        }
        Err(invalid())
    }

    /// Resolves an `m2c_` token to its user and the token (with its policy). Revoked, expired
    /// and unknown tokens, and tokens of disabled users, are all the same `Unauthenticated`.
    pub async fn personal_token(&self, credential: &str) -> Result<(Principal, PersonalTokenRow)> {
        let credential = credential.trim();
        if !is_personal_token_shape(credential) {
            return Err(invalid());
        }
        let digest = token_digest(credential);
        let now = now_ms();
        if let Some((principal, row)) = self.personal.get(&digest) {
            return if super::personal_tokens::status(&row, now) == "active" {
                Ok((principal, row))
            } else {
                Err(invalid())
            };
        }
        let Some(row) = personal_tokens::find_by_digest(&self.store, &digest).await? else {
            return Err(invalid());
        };
        if !constant_time_eq(row.token_digest.as_bytes(), digest.as_bytes())
            || super::personal_tokens::status(&row, now) != "active"
        {
            return Err(invalid());
        }
        let user = match users::get(self.store.db(), &row.user_id).await {
            Ok(u) if u.enabled => u,
            Ok(_) | Err(codex_central_store::Error::NotFound(_)) => return Err(invalid()),
            Err(e) => return Err(e.into()),
        };
        if let Err(err) = personal_tokens::touch_last_used(&self.store, &row.id, now).await {
            tracing::warn!(error = %err, "could not record personal token use");
        }
        let principal = super::sessions::principal_of(&user);
        self.personal
            .insert(digest, (principal.clone(), row.clone()));
        Ok((principal, row))
    }

    /// Drops cached credentials of a principal (after a revocation in this process).
    pub fn forget(&self, principal_id: &str) {
        self.cache.retain(|(p, _)| p.id != principal_id);
    }

    /// Drops a cached personal token (revoked or its policy changed in this process).
    pub fn forget_personal(&self, token_id: &str) {
        self.personal.retain(|(_, row)| row.id != token_id);
    }

    /// Drops every cached personal token of a user (disabled, deleted, role changed).
    pub fn forget_user(&self, user_id: &str) {
        self.personal.retain(|(p, _)| p.id != user_id);
    }

    fn cached(&self, digest: &str) -> Option<Principal> {
        let (principal, expires_at) = self.cache.get(digest)?;
        expires_at.is_none_or(|e| e > now_ms()).then_some(principal)
    }

    async fn service_token(&self, digest: String) -> Result<Principal> {
        let Some(token) = service_tokens::find_by_digest(&self.store, &digest).await? else {
            return Err(invalid());
        };
        // The lookup used the digest as an index key; compare again in constant time so the
        // decision itself does not depend on how many bytes matched.
        if !constant_time_eq(token.token_digest.as_bytes(), digest.as_bytes()) {
            return Err(invalid());
        }
        let now = now_ms();
        if status(&token, now) != "active" {
            return Err(invalid());
        }
        let scope = Scope::parse(&token.scope)?;
        if let Err(err) = service_tokens::touch_last_used(&self.store, &token.id, now).await {
            tracing::warn!(error = %err, "could not record service token use");
        }
        let principal = Principal {
            kind: PrincipalKind::ServiceToken,
            id: token.id,
            name: token.name,
            role: scope.role(),
        };
        self.cache
            .insert(digest, (principal.clone(), token.expires_at));
        Ok(principal)
    }
}

/// `m2c_` followed by 64 hex characters.
pub fn is_personal_token_shape(token: &str) -> bool {
    TokenKind::Personal.shapes(token)
}

fn invalid() -> Error {
    Error::unauthenticated("invalid or expired credential")
}
