//! Validation of the canonical auth.json (SPEC §7): its claims are decoded on every store and
//! daily; when a probe command is configured it also runs, in an isolated `CODEX_HOME` holding
//! the document as hosts receive it, and a newer auth.json it leaves behind is stored. It runs
//! in the background and never holds up `/auth`.
//!
//! Under custody `server` the probe gets the placeholder refresh token, like any host: it can
//! prove the access token works but can never spend the fleet's refresh token.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use codex_central_store::codex_auth_lifecycle::{self as lifecycle, Validation};
use codex_central_store::{Store, leases, now_ms};

use super::canonical::{Uploader, Vault};
use super::codex_auth::{Mode, StoreOutcome};
use super::probe::{self, ProbeConfig};
use crate::Result;

const LEASE: &str = "codex_auth.validate";
/// Output of the probe kept for the reason text.
const MAX_PROBE_OUTPUT: usize = 64 * 1024;

/// Config keys `codex_probe_command` (empty: no probe), `codex_probe_timeout_secs`,
/// `codex_probe_every_secs`.
#[derive(Debug, Clone)]
pub struct ValidationSettings {
    pub probe_command: String,
    pub probe_timeout: Duration,
    pub every: Duration,
}

#[derive(Clone)]
pub struct Validator(Arc<Inner>);

struct Inner {
    store: Store,
    vault: Vault,
    settings: ValidationSettings,
    holder: String,
    /// One validation at a time per process.
    running: AtomicBool,
    /// A store arrived during a run: run once more when it ends (once, however many arrived).
    again: AtomicBool,
}

impl Validator {
    pub fn new(store: Store, vault: Vault, settings: ValidationSettings, holder: String) -> Self {
        Validator(Arc::new(Inner {
            store,
            vault,
            settings,
            holder,
            running: AtomicBool::new(false),
            again: AtomicBool::new(false),
        }))
    }

    /// Validates daily (or every `every`) on whichever replica holds the lease.
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        leases::spawn_every(
            self.0.store.clone(),
            LEASE,
            self.0.holder.clone(),
            self.0.settings.every,
            move |_| {
                let me = me.clone();
                async move { me.validate_logged().await }
            },
        )
    }

    /// After a store: validates in the background, at most one run at a time; a store during
    /// a run makes that run go once more, so the newest document is always validated.
    pub fn after_store(&self) {
        self.0.again.store(true, Ordering::Release);
        let me = self.clone();
        tokio::spawn(async move { me.validate_logged().await });
    }

    async fn validate_logged(&self) {
        if let Err(e) = self.validate(true).await {
            tracing::warn!(error = %e, "validating the canonical auth.json failed");
        }
    }

    /// Decodes the claims and (when asked and configured) runs the probe; records and returns
    /// the result. `None` when another validation is running in this process (it then runs
    /// once more for this request).
    pub async fn validate(&self, run_probe: bool) -> Result<Option<Validation>> {
        let mut last = Ok(None);
        loop {
            if self.0.running.swap(true, Ordering::AcqRel) {
                self.0.again.store(true, Ordering::Release);
                return last;
            }
            loop {
                self.0.again.store(false, Ordering::Release);
                last = self.run_and_record(run_probe).await;
                if !self.0.again.load(Ordering::Acquire) {
                    break;
                }
            }
            self.0.running.store(false, Ordering::Release);
            // A request that came between the last check and the release runs now.
            if !self.0.again.load(Ordering::Acquire) {
                return last;
            }
        }
    }

    async fn run_and_record(&self, run_probe: bool) -> Result<Option<Validation>> {
        let v = self.run(run_probe).await?;
        lifecycle::validated(self.0.store.db(), v.clone()).await?;
        self.0.vault.invalidate();
        Ok(Some(v))
    }

    async fn run(&self, run_probe: bool) -> Result<Validation> {
        let snapshot = self.0.vault.snapshot_now().await?;
        let now = now_ms();
        let mut v = Validation {
            state: "skipped".into(),
            reason: String::new(),
            at: now,
            latency_ms: 0,
            probe_ran: false,
            applied: false,
        };
        let Some(current) = snapshot.current.as_deref() else {
            v.reason = "no canonical auth.json yet".into();
            return Ok(v);
        };
        let (served, _) = current.served(snapshot.custody);
        let c = &current.claims;
        let expired = c.access_expires_at.is_some_and(|exp| exp <= Utc::now());
        if c.mode == Mode::ChatGpt && expired {
            v.state = "failed".into();
            v.reason = "the access token has expired".into();
        } else if c.mode == Mode::Unknown {
            v.state = "failed".into();
            v.reason = "neither an API key nor ChatGPT tokens could be read".into();
        }
        let command = self.0.settings.probe_command.trim();
        if !run_probe || command.is_empty() {
            if v.reason.is_empty() {
                v.reason = "claims decoded; no probe command configured".into();
            }
            return Ok(v);
        }
        let config = ProbeConfig {
            command: command.to_string(),
            timeout: self.0.settings.probe_timeout,
            max_output: MAX_PROBE_OUTPUT,
        };
        let result = probe::run(&config, served).await;
        v.probe_ran = true;
        v.state = if result.ok { "ok" } else { "failed" }.into();
        v.reason = result.reason;
        v.latency_ms = i64::try_from(result.latency.as_millis()).unwrap_or(i64::MAX);
        if let Some(refreshed) = result.refreshed_auth_json {
            match self
                .0
                .vault
                .store(&Uploader::system("server:probe"), None, &refreshed)
                .await
            {
                Ok(answer) => v.applied = answer.outcome == StoreOutcome::Updated,
                Err(e) => {
                    tracing::warn!(error = %e, "the probe left an auth.json that was not stored")
                }
            }
        }
        Ok(v)
    }
}
