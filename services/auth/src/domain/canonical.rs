//! The vault of the fleet's canonical Codex auth.json: retrieve and store with SPEC §4's rules.
//!
//! The decrypted current document is cached for [`CACHE_TTL`] (dropped at once when this
//! process writes), so the hot `retrieve` path costs no database round trip; other replicas see
//! a new document within that bound. Per-host sync state is written only when it changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use codex_central_common::Principal;
use codex_central_common::crypto::Keyring;
use codex_central_store::audit::{self, NewAuditEvent};
use codex_central_store::canonical_auth::{self, NewCanonical};
use codex_central_store::codex_auth_lifecycle as lifecycle;
pub use codex_central_store::entities::codex_auth_lifecycle::Model as Lifecycle;
use codex_central_store::entities::host_sync_states::Model as SyncState;
use codex_central_store::{Store, host_sync_states, now_ms, settings};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::codex_auth::{
    CUSTODY_PLACEHOLDER, CanonicalDocument, Claims, FieldError, RetrieveOutcome, StoreOutcome,
    claims, custody_view, decide_retrieve, decide_store, is_digest, parse_client_timestamp,
    refresh_token, restore_custody, sha256_hex,
};
use crate::{Error, Result};

pub const CACHE_TTL: Duration = Duration::from_secs(1);
/// Concurrent writers re-evaluate after losing a compare-and-set; this bounds the retries.
const MAX_STORE_ATTEMPTS: usize = 8;

/// The canonical document as stored, and as hosts receive it under custody.
#[derive(Debug, Clone)]
pub struct Current {
    pub text: String,
    pub digest: String,
    pub last_refresh: String,
    pub at: DateTime<Utc>,
    /// The access token's expiry (JWT `exp`), when it has one.
    pub expires_at: Option<DateTime<Utc>>,
    /// The claims of its tokens, decoded once per document (the hot path reads them).
    pub claims: Claims,
    /// SHA-256 of its refresh token, as the refresh protocol names tokens.
    pub refresh_token_sha: Option<String>,
    /// The document with its refresh token replaced by the custody placeholder (text, digest);
    /// `None` when it has no refresh token.
    pub custody: Option<(String, String)>,
}

impl Current {
    fn new(text: String, digest: String, last_refresh: String, at: DateTime<Utc>) -> Self {
        let claims = claims(&text);
        let refresh_token_sha = refresh_token(&text).map(|t| sha256_hex(&t));
        let custody = custody_view(&text).map(|view| {
            let digest = sha256_hex(&view);
            (view, digest)
        });
        Current {
            text,
            digest,
            last_refresh,
            at,
            expires_at: claims.access_expires_at,
            claims,
            refresh_token_sha,
            custody,
        }
    }

    /// The (text, digest) hosts receive and compare against under `custody`.
    pub fn served(&self, custody: Custody) -> (&str, &str) {
        match (&self.custody, custody) {
            (Some((text, digest)), Custody::Server) => (text, digest),
            _ => (&self.text, &self.digest),
        }
    }
}

/// Who holds the refresh token (fleet setting `refresh_token_custody`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Custody {
    /// Hosts receive a placeholder; only the server refreshes.
    #[default]
    Server,
    /// Hosts receive the document as stored.
    Shared,
}

/// The settings row that holds the custody mode.
const SETTINGS_KEY: &str = "codex_auth.settings";

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CodexAuthSettings {
    pub refresh_token_custody: Custody,
}

/// What the hot path reads, loaded together and cached for [`CACHE_TTL`].
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub current: Option<Arc<Current>>,
    pub custody: Custody,
    pub lifecycle: Arc<Lifecycle>,
}

impl Snapshot {
    /// The (text, digest) hosts receive, if there is a canonical copy.
    pub fn served(&self) -> Option<(&str, &str)> {
        self.current.as_ref().map(|c| c.served(self.custody))
    }
}

/// The current document and where and when it was stored, for operators.
pub struct Stored {
    pub current: Current,
    /// Who stored it (`host:<id>`, `service_token:<id>`, …; see [`Uploader`]).
    pub source: String,
    /// Unix milliseconds.
    pub stored_at: i64,
}

pub struct RetrieveAnswer {
    pub outcome: RetrieveOutcome,
    pub snapshot: Snapshot,
}

pub struct StoreAnswer {
    pub outcome: StoreOutcome,
    pub snapshot: Snapshot,
}

/// Who stored a document, for the audit row and the `source` column: an admin or a host, or
/// (no principal) the server itself: the gateway for a seed link it has just consumed, the
/// refresh job, the validation probe.
#[derive(Debug, Clone)]
pub struct Uploader {
    pub principal: Option<Principal>,
    pub client_ip: String,
    /// The actor named when there is no principal.
    pub system: &'static str,
}

impl Uploader {
    pub fn person(principal: Principal, client_ip: String) -> Self {
        Uploader {
            principal: Some(principal),
            client_ip,
            system: "",
        }
    }

    pub fn seed_link(client_ip: String) -> Self {
        Uploader {
            principal: None,
            client_ip,
            system: "seed:link",
        }
    }

    pub fn system(name: &'static str) -> Self {
        Uploader {
            principal: None,
            client_ip: String::new(),
            system: name,
        }
    }

    fn source(&self) -> String {
        self.principal
            .as_ref()
            .map_or_else(|| self.system.into(), Principal::audit_actor)
    }

    pub fn event(&self, action: &str, target: &str) -> NewAuditEvent {
        match &self.principal {
            Some(p) => NewAuditEvent::new(p, &self.client_ip, action, target),
            None => NewAuditEvent::without_principal(self.system, &self.client_ip, action, target),
        }
    }
}

/// When the snapshot was loaded, and what it was.
type Cached = Option<(Instant, Snapshot)>;

#[derive(Clone)]
pub struct Vault {
    store: Store,
    keyring: Arc<Keyring>,
    cache: Arc<Mutex<Cached>>,
    /// Last sync state written per host, so unchanged syncs write nothing.
    seen: Arc<Mutex<HashMap<i64, (String, &'static str)>>>,
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::invalid(e.field, e.message)
    }
}

impl Vault {
    pub fn new(store: Store, keyring: Arc<Keyring>) -> Self {
        Vault {
            store,
            keyring,
            cache: Arc::new(Mutex::new(None)),
            seen: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn keyring(&self) -> Arc<Keyring> {
        self.keyring.clone()
    }

    /// The current document (cached briefly).
    pub async fn current(&self) -> Result<Option<Arc<Current>>> {
        Ok(self.snapshot().await?.current)
    }

    /// The current document, custody mode and refresh state (cached briefly).
    pub async fn snapshot(&self) -> Result<Snapshot> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, snapshot)) = cache.as_ref()
            && at.elapsed() < CACHE_TTL
        {
            return Ok(snapshot.clone());
        }
        let fresh = self.load().await?;
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some((Instant::now(), fresh.clone()));
        }
        Ok(fresh)
    }

    /// The same, read now (background jobs that must see the latest write).
    pub async fn snapshot_now(&self) -> Result<Snapshot> {
        self.load().await
    }

    async fn load(&self) -> Result<Snapshot> {
        let current = match canonical_auth::get(&self.store).await? {
            Some(row) => Some(Arc::new(self.decode(row)?)),
            None => None,
        };
        Ok(Snapshot {
            current,
            custody: self.settings().await?.refresh_token_custody,
            lifecycle: Arc::new(lifecycle::get(self.store.db()).await?),
        })
    }

    /// The refresh and validation state, read now.
    pub async fn lifecycle(&self) -> Result<Lifecycle> {
        Ok(lifecycle::get(self.store.db()).await?)
    }

    pub async fn settings(&self) -> Result<CodexAuthSettings> {
        Ok(settings::get_json(&self.store, SETTINGS_KEY).await?)
    }

    /// Changes the custody mode; audited. Hosts see the new form within [`CACHE_TTL`].
    pub async fn set_settings(
        &self,
        by: &Principal,
        client_ip: &str,
        new: CodexAuthSettings,
    ) -> Result<CodexAuthSettings> {
        let txn = self.store.begin().await?;
        settings::put_json(&txn, SETTINGS_KEY, &new, &by.audit_actor()).await?;
        let event =
            NewAuditEvent::new(by, client_ip, "codex_auth.settings", "codex_auth:canonical")
                .details(json!({ "refresh_token_custody": new.refresh_token_custody }));
        audit::commit(txn, event).await?;
        self.invalidate();
        Ok(new)
    }

    /// The current document with its origin, read now (operators' views, not host syncs).
    pub async fn stored(&self) -> Result<Option<Stored>> {
        let Some(row) = canonical_auth::get(&self.store).await? else {
            return Ok(None);
        };
        let (source, stored_at) = (row.source.clone(), row.updated_at);
        Ok(Some(Stored {
            current: self.decode(row)?,
            source,
            stored_at,
        }))
    }

    fn decode(&self, row: codex_central_store::entities::canonical_auth::Model) -> Result<Current> {
        let text = self.keyring.decrypt_string(&row.body_enc)?;
        // Compare at the document's own precision (Codex writes nanoseconds); the microsecond
        // column only orders concurrent writes.
        let at = parse_client_timestamp(&row.last_refresh)
            .ok()
            .or_else(|| DateTime::from_timestamp_micros(row.last_refresh_us))
            .unwrap_or_default();
        Ok(Current::new(text, row.digest, row.last_refresh, at))
    }

    pub(crate) fn invalidate(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = None;
        }
    }

    pub async fn retrieve(
        &self,
        host_id: Option<i64>,
        digest: &str,
        last_refresh: &str,
    ) -> Result<RetrieveAnswer> {
        let digest = digest.trim().to_ascii_lowercase();
        if !is_digest(&digest) {
            return Err(Error::invalid(
                "digest",
                "digest must be 64 hexadecimal characters",
            ));
        }
        let client_at = parse_client_timestamp(last_refresh)?;
        let snapshot = self.snapshot().await?;
        let served = snapshot
            .current
            .as_ref()
            .map(|c| (c.served(snapshot.custody).1, c.at));
        let outcome = decide_retrieve(served, &digest, client_at);
        if let (Some(host_id), true) = (host_id, outcome != RetrieveOutcome::Missing) {
            self.record_sync(host_id, &digest, last_refresh, outcome.as_str())
                .await;
        }
        Ok(RetrieveAnswer { outcome, snapshot })
    }

    pub async fn store(
        &self,
        uploader: &Uploader,
        host_id: Option<i64>,
        raw: &str,
    ) -> Result<StoreAnswer> {
        let uploaded = CanonicalDocument::parse(raw, Utc::now())?;
        for _ in 0..MAX_STORE_ATTEMPTS {
            let snapshot = self.load().await?;
            let current = snapshot.current.clone();
            let doc = with_real_refresh_token(uploaded.clone(), current.as_deref())?;
            let outcome = decide_store(current.as_ref().map(|c| (c.digest.as_str(), c.at)), &doc);
            if outcome != StoreOutcome::Updated {
                if let Some(host_id) = host_id {
                    self.record_sync(
                        host_id,
                        &uploaded.digest,
                        &doc.last_refresh,
                        outcome.as_str(),
                    )
                    .await;
                }
                return Ok(StoreAnswer { outcome, snapshot });
            }
            let txn = self.store.begin().await?;
            let written = canonical_auth::put_if_newer(
                &txn,
                NewCanonical {
                    body_enc: self.keyring.encrypt_str(&doc.text)?,
                    digest: doc.digest.clone(),
                    last_refresh: doc.last_refresh.clone(),
                    last_refresh_us: doc.last_refresh_at.timestamp_micros(),
                    source: uploader.source(),
                    now: now_ms(),
                },
            )
            .await?;
            if written {
                let event = uploader
                    .event("codex_auth.store", "codex_auth:canonical")
                    .details(json!({
                        "digest": doc.digest,
                        "last_refresh": doc.last_refresh,
                        "previous_digest": current.as_ref().map(|c| c.digest.clone()),
                        "custody_placeholder_restored": doc.digest != uploaded.digest,
                    }));
                audit::commit(txn, event).await?;
                self.invalidate();
                if let Some(host_id) = host_id {
                    self.record_sync(host_id, &uploaded.digest, &doc.last_refresh, "updated")
                        .await;
                }
                let current = Arc::new(Current::new(
                    doc.text.clone(),
                    doc.digest.clone(),
                    doc.last_refresh.clone(),
                    doc.last_refresh_at,
                ));
                return Ok(StoreAnswer {
                    outcome: StoreOutcome::Updated,
                    snapshot: Snapshot {
                        current: Some(current),
                        ..snapshot
                    },
                });
            }
            txn.rollback()
                .await
                .map_err(codex_central_store::Error::from)?;
        }
        Err(Error::from(codex_central_store::Error::Unavailable(
            "too many concurrent auth.json stores; retry".into(),
        )))
    }

    /// Validates a document without storing it (the seed flow checks before burning a token).
    pub fn validate(&self, raw: &str) -> Result<CanonicalDocument> {
        Ok(CanonicalDocument::parse(raw, Utc::now())?)
    }

    /// Records that an admin saw the unmasked canonical document.
    pub async fn audit_reveal(
        &self,
        admin: &Principal,
        client_ip: &str,
        reason: &str,
        digest: &str,
    ) -> Result<()> {
        // A reveal changes no data: the row is all there is to write.
        let event = NewAuditEvent::new(
            admin,
            client_ip,
            "codex_auth.reveal",
            "codex_auth:canonical",
        )
        .details(
            json!({ "digest": digest, "reason": reason.chars().take(500).collect::<String>() }),
        );
        audit::append(self.store.db(), event).await?;
        Ok(())
    }

    /// What one host last synced.
    pub async fn sync_state(&self, host_id: i64) -> Result<Option<SyncState>> {
        Ok(host_sync_states::get(&self.store, host_id).await?)
    }

    /// What every host last synced, in host id order after `after`.
    pub async fn sync_states(&self, after: Option<i64>, limit: u64) -> Result<Vec<SyncState>> {
        Ok(host_sync_states::list(&self.store, after, limit).await?)
    }

    /// Records what a host synced; failures are logged, never fail the sync itself.
    async fn record_sync(
        &self,
        host_id: i64,
        digest: &str,
        last_refresh: &str,
        outcome: &'static str,
    ) {
        let unchanged = self
            .seen
            .lock()
            .ok()
            .and_then(|seen| seen.get(&host_id).cloned())
            .is_some_and(|(d, o)| d == digest && o == outcome);
        if unchanged {
            return;
        }
        let state = SyncState {
            host_id,
            seen_digest: digest.to_string(),
            client_last_refresh: last_refresh.chars().take(64).collect(),
            outcome: outcome.to_string(),
            seen_at: now_ms(),
        };
        match host_sync_states::upsert(&self.store, state).await {
            Ok(()) => {
                if let Ok(mut seen) = self.seen.lock() {
                    seen.insert(host_id, (digest.to_string(), outcome));
                }
            }
            Err(err) => tracing::warn!(error = %err, host_id, "could not record host sync state"),
        }
    }
}

/// An upload that carries the custody placeholder (a host sending back what it received) gets
/// the server's real refresh token back; without a real one to restore it is refused.
fn with_real_refresh_token(
    uploaded: CanonicalDocument,
    current: Option<&Current>,
) -> Result<CanonicalDocument> {
    if refresh_token(&uploaded.text).as_deref() != Some(CUSTODY_PLACEHOLDER) {
        return Ok(uploaded);
    }
    let real = current
        .and_then(|c| refresh_token(&c.text))
        .filter(|t| t != CUSTODY_PLACEHOLDER);
    let restored = real.and_then(|real| restore_custody(&uploaded.text, &real));
    let Some(text) = restored else {
        return Err(Error::invalid(
            "auth.tokens.refresh_token",
            "is the server's custody placeholder and the server holds no refresh token to put \
             back; upload the auth.json with its real refresh token",
        ));
    };
    Ok(CanonicalDocument::parse(&text, Utc::now())?)
}
