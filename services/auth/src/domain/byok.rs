//! Bring-your-own upstream keys: one per user and provider, sealed with the master key and
//! never shown again (a masked suffix at most). A key that no longer decrypts (master key
//! rotated without re-encryption, corruption) is reported as "needs re-entry" and the gateway
//! falls back to the provider's shared key.

use std::sync::Arc;

use codex_central_common::crypto::{Keyring, Secret};
use codex_central_common::ttl_cache::TtlCache;
use codex_central_store::audit::{self, NewAuditEvent};
use codex_central_store::entities::byok_keys::Model;
use codex_central_store::{Store, byok_keys, now_ms, upstreams};
use serde_json::json;

use super::service_tokens::Actor;
use crate::{Error, Result};

const MAX_KEY_LEN: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Ok,
    NeedsReentry,
}

pub struct Listed {
    pub row: Model,
    pub status: KeyStatus,
}

/// A key set or deleted through another replica is seen within this long.
const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Clone)]
pub struct Byok {
    store: Store,
    keyring: Arc<Keyring>,
    /// (user, provider) -> the usable key, or `None` for "use the shared key".
    cache: TtlCache<(String, String), Option<Secret<String>>>,
}

fn masked_suffix(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

impl Byok {
    pub fn new(store: Store, keyring: Arc<Keyring>) -> Self {
        Byok {
            store,
            keyring,
            cache: TtlCache::new(CACHE_TTL, 10_000),
        }
    }

    fn event(actor: &Actor, action: &str, provider: &str) -> NewAuditEvent {
        actor
            .event(action, format!("byok:{}:{provider}", actor.principal.id))
            .details(json!({"provider": provider}))
    }

    pub async fn set(&self, actor: &Actor, provider: &str, key: &Secret<String>) -> Result<Listed> {
        let provider = provider.trim();
        if upstreams::get(&self.store, provider).await?.is_none() {
            return Err(Error::from(codex_central_store::Error::NotFound(format!(
                "no upstream provider named {provider:?}"
            ))));
        }
        let k = key.expose().trim();
        if k.is_empty()
            || k.len() > MAX_KEY_LEN
            || k.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(Error::invalid(
                "key",
                "key must be 1-4096 characters without spaces",
            ));
        }
        let now = now_ms();
        let row = Model {
            user_id: actor.principal.id.clone(),
            provider_id: provider.to_string(),
            ciphertext: self.keyring.encrypt_str(k)?,
            suffix: masked_suffix(k),
            created_at: now,
            updated_at: now,
        };
        let txn = self.store.begin().await?;
        byok_keys::upsert(&txn, row).await?;
        audit::commit(txn, Self::event(actor, "byok.set", provider)).await?;
        self.forget(&actor.principal.id, provider);
        let row = byok_keys::get(&self.store, &actor.principal.id, provider)
            .await?
            .ok_or_else(|| Error::invalid_argument("key vanished while being stored"))?;
        Ok(Listed {
            row,
            status: KeyStatus::Ok,
        })
    }

    pub async fn list(&self, user_id: &str) -> Result<Vec<Listed>> {
        Ok(byok_keys::list_for_user(&self.store, user_id)
            .await?
            .into_iter()
            .map(|row| {
                let status = if self.keyring.decrypt_string(&row.ciphertext).is_ok() {
                    KeyStatus::Ok
                } else {
                    KeyStatus::NeedsReentry
                };
                Listed { row, status }
            })
            .collect())
    }

    pub async fn delete(&self, actor: &Actor, provider: &str) -> Result<()> {
        let provider = provider.trim();
        let txn = self.store.begin().await?;
        if !byok_keys::delete(&txn, &actor.principal.id, provider).await? {
            return Err(Error::from(codex_central_store::Error::NotFound(format!(
                "you have no key for provider {provider:?}"
            ))));
        }
        audit::commit(txn, Self::event(actor, "byok.delete", provider)).await?;
        self.forget(&actor.principal.id, provider);
        Ok(())
    }

    /// The user's usable key for a provider, or `None` (none stored, or undecryptable).
    pub async fn resolve(&self, user_id: &str, provider: &str) -> Result<Option<Secret<String>>> {
        if user_id.is_empty() {
            return Ok(None);
        }
        let cache_key = (user_id.to_string(), provider.to_string());
        if let Some(hit) = self.cache.get(&cache_key) {
            return Ok(hit);
        }
        let found = match byok_keys::get(&self.store, user_id, provider).await? {
            None => None,
            Some(row) => match self.keyring.decrypt_string(&row.ciphertext) {
                Ok(key) => Some(Secret::new(key)),
                Err(e) => {
                    tracing::warn!(user = user_id, provider, error = %e, "BYOK key does not decrypt; using the shared key");
                    None
                }
            },
        };
        self.cache.insert(cache_key, found.clone());
        Ok(found)
    }

    fn forget(&self, user_id: &str, provider: &str) {
        self.cache
            .remove(&(user_id.to_string(), provider.to_string()));
    }
}
