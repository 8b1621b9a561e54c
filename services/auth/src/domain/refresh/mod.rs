//! The server-side refresh of the canonical ChatGPT tokens (SPEC §7), exactly once across
//! replicas, without ever sending a spent refresh token by itself (docs/adr/0007).
//!
//! One attempt: claim the token (a compare-and-set on the lifecycle row), POST it to the token
//! endpoint, keep the answer (encrypted) in the lifecycle row, then write the new document and
//! clear the claim in one transaction. Whoever finds a kept answer (the same process, or another
//! replica after a crash) finishes the write; an attempt that died before its answer was kept
//! blocks its token, since only the identity provider knows whether it was spent.

mod failpoint;
pub mod idp;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use codex_central_store::audit::{self, NewAuditEvent};
use codex_central_store::canonical_auth::{self, NewCanonical};
use codex_central_store::codex_auth_lifecycle::{self as lifecycle, Failure};
use codex_central_store::entities::codex_auth_lifecycle::Model as State;
use codex_central_store::{Store, leases, now_ms};
use serde_json::json;

use super::canonical::{Uploader, Vault};
use super::codex_auth::{
    CUSTODY_PLACEHOLDER, RefreshPolicy, refresh_due, refresh_token, sha256_hex, with_new_tokens,
};
use super::oauth::http::Http;
use crate::{Error, Result};
use idp::{IdpError, TokenAnswer};

const LEASE: &str = "codex_auth.refresh";
/// The `source` of documents the server refreshed.
const SOURCE: &str = "server:refresh";
/// An attempt claimed longer ago than this is taken for dead (the call's own timeout plus grace).
const STALE_AFTER: Duration = Duration::from_secs(idp::REQUEST_TIMEOUT.as_secs() + 15);
/// Backoff after failures never waits longer than this.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// Where and when to refresh (config keys `codex_token_url`, `codex_client_id`,
/// `codex_refresh_margin_secs`, `codex_refresh_interval_secs`, `codex_refresh_check_secs`).
#[derive(Debug, Clone)]
pub struct RefreshSettings {
    pub token_url: String,
    pub client_id: String,
    pub policy: RefreshPolicy,
    pub check_every: Duration,
}

impl Default for RefreshSettings {
    fn default() -> Self {
        RefreshSettings {
            token_url: idp::CODEX_TOKEN_URL.into(),
            client_id: idp::CODEX_CLIENT_ID.into(),
            policy: RefreshPolicy::default(),
            check_every: Duration::from_secs(60),
        }
    }
}

/// What one call of [`Refresher::run`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Refreshed,
    NotDue,
    /// No canonical copy, an API-key document, or no refresh token.
    NotRefreshable,
    /// Another attempt holds the claim.
    Busy,
    BackingOff,
    /// The token was rejected or may have been spent; only a forced refresh sends it.
    Blocked,
    /// Another document replaced the one being refreshed; the answer was dropped.
    Superseded,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Refreshed => "refreshed",
            Outcome::NotDue => "not_due",
            Outcome::NotRefreshable => "not_refreshable",
            Outcome::Busy => "busy",
            Outcome::BackingOff => "backing_off",
            Outcome::Blocked => "blocked",
            Outcome::Superseded => "superseded",
            Outcome::Failed => "failed",
        }
    }
}

#[derive(Clone)]
pub struct Refresher(Arc<Inner>);

struct Inner {
    store: Store,
    vault: Vault,
    settings: RefreshSettings,
    http: reqwest::Client,
    holder: String,
}

impl Refresher {
    pub fn new(
        store: Store,
        vault: Vault,
        settings: RefreshSettings,
        holder: String,
    ) -> Result<Self> {
        // The sign-in client's settings suit the token endpoint too: no redirects, short
        // timeouts, a bounded body.
        let http = Http::new()
            .map_err(|e| Error::internal(e.0))?
            .client()
            .clone();
        Ok(Refresher(Arc::new(Inner {
            store,
            vault,
            settings,
            http,
            holder,
        })))
    }

    pub fn settings(&self) -> &RefreshSettings {
        &self.0.settings
    }

    /// Looks every `check_every` on whichever replica holds the lease.
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        leases::spawn_every(
            self.0.store.clone(),
            LEASE,
            self.0.holder.clone(),
            self.0.settings.check_every,
            move |_| {
                let me = me.clone();
                async move {
                    // Failures are logged where they are recorded.
                    match me.run(false, None).await {
                        Ok(Outcome::Refreshed) => tracing::info!("canonical auth.json refreshed"),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "canonical auth.json refresh check failed")
                        }
                    }
                }
            },
        )
    }

    /// One refresh decision and, when due (or `force`d by an admin), one attempt.
    pub async fn run(&self, force: bool, by: Option<&Uploader>) -> Result<Outcome> {
        let db = self.0.store.db();
        let mut state = lifecycle::get(db).await?;
        if !state.pending_answer_enc.is_empty() {
            return self.apply_kept_answer(&state, by).await;
        }
        if !state.in_flight_token_sha.is_empty() {
            let claimed_at = state.in_flight_at.unwrap_or_default();
            if now_ms() - claimed_at < millis(STALE_AFTER) {
                return Ok(Outcome::Busy);
            }
            self.interrupted(&state).await?;
            state = lifecycle::get(db).await?;
        }
        let Some(stored) = self.0.vault.stored().await? else {
            return Ok(Outcome::NotRefreshable);
        };
        let current = &stored.current;
        let c = &current.claims;
        let token = refresh_token(&current.text).filter(|t| t != CUSTODY_PLACEHOLDER);
        let (true, Some(token)) = (c.refreshable, token) else {
            return Ok(Outcome::NotRefreshable);
        };
        let sha = sha256_hex(&token);
        if !force {
            if refresh_due(c, current.at, Utc::now(), self.0.settings.policy).is_none() {
                return Ok(Outcome::NotDue);
            }
            if state.blocked_token_sha == sha {
                return Ok(Outcome::Blocked);
            }
            if state.next_attempt_at.is_some_and(|t| t > now_ms()) {
                return Ok(Outcome::BackingOff);
            }
        }
        if !lifecycle::claim(db, &sha, &self.0.holder, now_ms()).await? {
            return Ok(Outcome::Busy);
        }
        failpoint::hit("codex_refresh.claimed").await;
        let s = &self.0.settings;
        match idp::refresh(&self.0.http, &s.token_url, &s.client_id, &token).await {
            Ok(answer) => {
                self.keep(&sha, &answer).await?;
                failpoint::hit("codex_refresh.answer_kept").await;
                let state = lifecycle::get(db).await?;
                if state.pending_answer_enc.is_empty() {
                    // Another replica found the kept answer and finished the refresh.
                    return Ok(Outcome::Busy);
                }
                self.apply_kept_answer(&state, by).await
            }
            Err(e) => {
                self.failed(&sha, &e, state.consecutive_failures, by)
                    .await?;
                Ok(Outcome::Failed)
            }
        }
    }

    /// Keeps the answer before anything else: it holds the only live refresh token now. A
    /// database hiccup is retried for a few seconds rather than losing it.
    async fn keep(&self, sha: &str, answer: &TokenAnswer) -> Result<()> {
        let text = serde_json::to_string(answer)
            .map_err(|e| Error::internal(format!("token answer: {e}")))?;
        let enc = self.0.vault.keyring().encrypt_str(&text)?;
        let mut delay = Duration::from_millis(100);
        loop {
            match lifecycle::keep_answer(self.0.store.db(), sha, enc.clone(), now_ms()).await {
                Ok(()) => return Ok(()),
                Err(e) if delay < Duration::from_secs(4) => {
                    tracing::warn!(error = %e, "could not keep the token endpoint's answer; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Writes the document a kept answer makes, if the canonical copy still carries the token
    /// that was spent for it; otherwise the newer document wins and the answer is dropped.
    async fn apply_kept_answer(&self, state: &State, by: Option<&Uploader>) -> Result<Outcome> {
        let keyring = self.0.vault.keyring();
        let answer: Option<TokenAnswer> = keyring
            .decrypt_string(&state.pending_answer_enc)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        let Some(answer) = answer else {
            let failure = failure(
                "refresh_answer_invalid",
                "the kept token endpoint answer cannot be read".into(),
                Some(state.in_flight_token_sha.clone()),
                None,
            );
            lifecycle::failed(self.0.store.db(), failure).await?;
            return Ok(Outcome::Failed);
        };
        let tokens = answer.tokens();
        for _ in 0..4 {
            let Some(stored) = self.0.vault.stored().await? else {
                lifecycle::abandon(self.0.store.db()).await?;
                return Ok(Outcome::Superseded);
            };
            let spent = stored.current.refresh_token_sha.as_deref();
            if spent != Some(state.in_flight_token_sha.as_str()) {
                if lifecycle::get(self.0.store.db())
                    .await?
                    .pending_answer_enc
                    .is_empty()
                {
                    // Another replica applied this answer first.
                    return Ok(Outcome::Busy);
                }
                tracing::warn!(
                    "the canonical auth.json changed during a refresh; the newer copy wins"
                );
                lifecycle::abandon(self.0.store.db()).await?;
                let event = event(by, "codex_auth.refresh_superseded")
                    .details(json!({ "digest": stored.current.digest }));
                audit::append(self.0.store.db(), event).await?;
                return Ok(Outcome::Superseded);
            }
            let doc = match with_new_tokens(&stored.current.text, &tokens, Utc::now()) {
                Ok(doc) => doc,
                Err(e) => {
                    let failure = failure(
                        "refresh_answer_invalid",
                        format!("the token endpoint's answer is unusable: {e}"),
                        Some(state.in_flight_token_sha.clone()),
                        None,
                    );
                    lifecycle::failed(self.0.store.db(), failure).await?;
                    return Ok(Outcome::Failed);
                }
            };
            let txn = self.0.store.begin().await?;
            let written = canonical_auth::replace_if_digest(
                &txn,
                &stored.current.digest,
                NewCanonical {
                    body_enc: keyring.encrypt_str(&doc.text)?,
                    digest: doc.digest.clone(),
                    last_refresh: doc.last_refresh.clone(),
                    last_refresh_us: doc.last_refresh_at.timestamp_micros(),
                    source: SOURCE.into(),
                    now: now_ms(),
                },
            )
            .await?;
            if !written {
                txn.rollback()
                    .await
                    .map_err(codex_central_store::Error::from)?;
                continue;
            }
            lifecycle::succeeded(&txn, now_ms()).await?;
            let event = event(by, "codex_auth.refresh").details(json!({
                "previous_digest": stored.current.digest,
                "digest": doc.digest,
                "last_refresh": doc.last_refresh,
                "rotated_refresh_token": tokens.refresh_token.is_some(),
            }));
            audit::commit(txn, event).await?;
            self.0.vault.invalidate();
            return Ok(Outcome::Refreshed);
        }
        Err(Error::from(codex_central_store::Error::Unavailable(
            "the canonical auth.json kept changing during a refresh; retry".into(),
        )))
    }

    /// An attempt died before its answer was kept: its token may be spent, so it is blocked.
    async fn interrupted(&self, state: &State) -> Result<()> {
        tracing::warn!(holder = %state.in_flight_holder, "a refresh attempt was interrupted before its answer was kept");
        let failure = failure(
            "refresh_interrupted",
            format!(
                "an attempt by {} stopped before the token endpoint's answer was kept; its refresh \
                 token may be spent, so the server will not send it again by itself (force a \
                 refresh or upload a new auth.json)",
                state.in_flight_holder
            ),
            Some(state.in_flight_token_sha.clone()),
            None,
        );
        lifecycle::failed(self.0.store.db(), failure).await?;
        let event = event(None, "codex_auth.refresh_failed")
            .details(json!({ "code": "refresh_interrupted" }));
        audit::append(self.0.store.db(), event).await?;
        Ok(())
    }

    async fn failed(
        &self,
        sha: &str,
        e: &IdpError,
        previous_failures: i32,
        by: Option<&Uploader>,
    ) -> Result<()> {
        let failures = u32::try_from(previous_failures).unwrap_or(0) + 1;
        tracing::warn!(
            code = e.code(),
            error = e.message(),
            failures,
            "canonical auth.json refresh failed"
        );
        let (block, retry) = match e {
            IdpError::Rejected { .. } | IdpError::Unknown { .. } => (Some(sha.to_string()), None),
            IdpError::Unavailable { .. } => {
                let wait = backoff(self.0.settings.check_every, failures);
                (None, Some(now_ms() + millis(wait)))
            }
        };
        let rejected = block.is_some();
        let failure = failure(e.code(), e.message().to_string(), block, retry);
        lifecycle::failed(self.0.store.db(), failure).await?;
        self.0.vault.invalidate();
        // Every rejection is worth a row; outages only when a streak starts.
        if rejected || failures == 1 {
            let event = event(by, "codex_auth.refresh_failed")
                .details(json!({ "code": e.code(), "message": e.message(), "failures": failures }));
            audit::append(self.0.store.db(), event).await?;
        }
        Ok(())
    }
}

/// A failure to record; the message is cut to 1,000 characters.
fn failure(
    code: &str,
    message: String,
    block_token_sha: Option<String>,
    next_attempt_at: Option<i64>,
) -> Failure {
    Failure {
        code: code.to_string(),
        message: message.chars().take(1000).collect(),
        block_token_sha,
        next_attempt_at,
    }
}

/// The wait after the `failures`-th failure in a row: the check interval, doubled each time,
/// at most an hour.
pub fn backoff(base: Duration, failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    base.saturating_mul(factor).min(MAX_BACKOFF).max(base)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

fn event(by: Option<&Uploader>, action: &str) -> NewAuditEvent {
    by.cloned()
        .unwrap_or_else(|| Uploader::system(SOURCE))
        .event(action, "codex_auth:canonical")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let base = Duration::from_secs(60);
        assert_eq!(backoff(base, 1), base);
        assert_eq!(backoff(base, 2), Duration::from_secs(120));
        assert_eq!(backoff(base, 4), Duration::from_secs(480));
        assert_eq!(backoff(base, 7), MAX_BACKOFF);
        assert_eq!(backoff(base, 40), MAX_BACKOFF);
        assert_eq!(
            backoff(Duration::from_secs(7200), 1),
            Duration::from_secs(7200)
        );
    }
}
