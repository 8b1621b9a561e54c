//! Prices pulled from `pricing_url` (the format of `prices/openai.json`, see docs/usage.md):
//! once a day by a background job, one replica at a time under a lease, and when an admin asks
//! (`SyncPricing`). A pulled price becomes a snapshot only when it differs from the one in force,
//! so a daily pull of an unchanged list adds nothing.

use std::sync::Arc;
use std::time::Duration;

use codex_central_store::entities::price_snapshots::Model as Snapshot;
use codex_central_store::{Store, leases, now_ms, price_snapshots, settings};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::pricing::{CURRENCY, PriceBook, PriceList, SOURCE_PULL, snapshots_of};
use crate::{Error, Result};

pub const KEY: &str = "usage.pricing_pull";
const LEASE: &str = "usage.pricing_pull";
const FETCH_TIMEOUT: Duration = Duration::from_secs(20);
const MAX_BODY: usize = 1024 * 1024;
const TICK: Duration = Duration::from_secs(300);
const RETRY_AFTER_FAILURE_MS: i64 = 3_600_000;

/// What the last pull did (stored in `settings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullState {
    pub last_attempt: i64,
    pub synced_at: i64,
    pub added: u32,
    pub last_error: String,
}

#[derive(Clone)]
pub struct PricingPuller {
    store: Store,
    url: String,
    interval: Duration,
    wake: Arc<Notify>,
}

impl PricingPuller {
    /// `url` empty: no pulls.
    pub fn new(store: Store, url: String, interval: Duration) -> Self {
        PricingPuller {
            store,
            url,
            interval,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn configured(&self) -> bool {
        !self.url.is_empty()
    }

    fn client() -> Result<reqwest::Client> {
        reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("codex-central/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::internal(format!("no HTTP client: {e}")))
    }

    pub fn spawn(&self, holder: String) -> Option<tokio::task::JoinHandle<()>> {
        if self.url.is_empty() {
            return None;
        }
        let client = match Self::client() {
            Ok(c) => c,
            Err(err) => {
                tracing::warn!(error = %err, "price pulls are off");
                return None;
            }
        };
        let this = self.clone();
        Some(tokio::spawn(async move {
            loop {
                if let Err(err) = this.tick(&client, &holder).await {
                    tracing::warn!(error = %err, "price pull failed");
                }
                tokio::select! {
                    () = tokio::time::sleep(TICK) => {}
                    () = this.wake.notified() => {}
                }
            }
        }))
    }

    async fn tick(&self, client: &reqwest::Client, holder: &str) -> Result<()> {
        let s: PullState = settings::get_json(&self.store, KEY).await?;
        let now = now_ms();
        let interval = i64::try_from(self.interval.as_millis()).unwrap_or(i64::MAX);
        let due = if s.last_error.is_empty() {
            now - s.synced_at >= interval
        } else {
            now - s.last_attempt >= RETRY_AFTER_FAILURE_MS
        };
        if due {
            self.pull_once(client, holder).await?;
        }
        Ok(())
    }

    /// Pulls now unless another replica is pulling (then `Ok(None)`).
    pub async fn sync_now(&self, holder: &str) -> Result<Option<PullState>> {
        if self.url.is_empty() {
            return Err(Error::failed_precondition(
                "no pricing_url is configured to pull prices from",
            ));
        }
        let client = Self::client()?;
        self.pull_once(&client, holder).await
    }

    async fn pull_once(&self, client: &reqwest::Client, holder: &str) -> Result<Option<PullState>> {
        if !leases::acquire(&self.store, LEASE, holder, FETCH_TIMEOUT * 4).await? {
            return Ok(None);
        }
        let now = now_ms();
        let result = match fetch(client, &self.url).await {
            Ok(list) => match snapshots_of(&list, CURRENCY, SOURCE_PULL, now, now) {
                Ok(pulled) => add_changed(&self.store, pulled).await,
                Err(e) => Err(e.message().to_string()),
            },
            Err(message) => Err(message),
        };
        let state = settings::update_json(
            &self.store,
            KEY,
            "system:pricing-pull",
            |s: &mut PullState| {
                s.last_attempt = now_ms();
                match &result {
                    Ok(added) => {
                        s.synced_at = s.last_attempt;
                        s.added = *added;
                        s.last_error.clear();
                    }
                    Err(message) => s.last_error = message.clone(),
                }
                Ok(())
            },
            |_| None,
        )
        .await?;
        leases::release(&self.store, LEASE, holder).await?;
        match &result {
            Ok(added) => tracing::info!(added, "prices pulled"),
            Err(message) => tracing::warn!(%message, "could not pull prices"),
        }
        Ok(Some(state))
    }
}

/// Stores the pulled prices that differ from the ones in force at their instant.
async fn add_changed(store: &Store, pulled: Vec<Snapshot>) -> std::result::Result<u32, String> {
    let models: Vec<String> = pulled.iter().map(|s| s.model.clone()).collect();
    let book = PriceBook::of(
        price_snapshots::list(store, &models)
            .await
            .map_err(|e| e.to_string())?,
    );
    let fresh: Vec<Snapshot> = pulled
        .into_iter()
        .filter(|p| {
            book.at(&p.model, p.effective_at).is_none_or(|c| {
                c.model != p.model
                    || (
                        c.input_per_million_micros,
                        c.cached_input_per_million_micros,
                        c.output_per_million_micros,
                    ) != (
                        p.input_per_million_micros,
                        p.cached_input_per_million_micros,
                        p.output_per_million_micros,
                    )
            })
        })
        .collect();
    let added = price_snapshots::insert_missing(store, fresh)
        .await
        .map_err(|e| e.to_string())?;
    Ok(u32::try_from(added).unwrap_or(u32::MAX))
}

async fn fetch(client: &reqwest::Client, url: &str) -> std::result::Result<PriceList, String> {
    let response = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the price list answered HTTP {}", status.as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err("the price list is too large".into());
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading the price list failed: {e}"))?;
    if body.len() > MAX_BODY {
        return Err("the price list is too large".into());
    }
    serde_json::from_slice(&body).map_err(|e| format!("the price list is not valid: {e}"))
}
