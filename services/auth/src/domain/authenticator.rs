//! Turns a presented credential into a principal. The one place every surface (gRPC, grpc-web,
//! REST via the gateway) resolves credentials, so they can never disagree.

use codex_central_common::crypto::{TokenKind, constant_time_eq, token_digest};
use codex_central_common::{Principal, PrincipalKind};
use codex_central_store::{Store, now_ms, service_tokens};

use super::service_tokens::{Scope, status};
use crate::{Error, Result};

#[derive(Clone, Debug)]
pub struct Authenticator {
    store: Store,
}

impl Authenticator {
    pub fn new(store: Store) -> Self {
        Authenticator { store }
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
            return self.service_token(credential).await;
        }
        Err(invalid())
    }

    async fn service_token(&self, credential: &str) -> Result<Principal> {
        let digest = token_digest(credential);
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
        Ok(Principal {
            kind: PrincipalKind::ServiceToken,
            id: token.id,
            name: token.name,
            role: scope.role(),
        })
    }
}

fn invalid() -> Error {
    Error::Unauthenticated("invalid or expired credential".into())
}
