//! The latest Codex release, read by a background job under a lease (never on a request path):
//! hosts following "latest" are told this version in `versions.client_version`.

use std::sync::Arc;
use std::time::Duration;

use codex_central_store::{Store, leases, now_ms, settings};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::Result;

pub const KEY: &str = "fleet.codex_release";
const LEASE: &str = "fleet.codex_release_check";
/// How often each replica looks at whether a check is due (and at admin requests).
const TICK: Duration = Duration::from_secs(30);
/// After a failed fetch, wait this long before trying again.
const RETRY_AFTER_FAILURE_MS: i64 = 15 * 60 * 1000;
const FETCH_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_BODY: usize = 2 * 1024 * 1024;

/// What the job last learned, stored as one JSON setting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReleaseState {
    /// Latest version seen (`0.169.0`), empty until a check succeeded.
    pub version: String,
    /// When `version` was last confirmed (ms).
    pub checked_at: i64,
    pub source: String,
    /// The last failure, cleared on success.
    pub last_error: String,
    pub last_attempt: i64,
    /// An admin asked for a check at this time (ms); the lease holder does it on its next tick.
    pub requested_at: i64,
}

impl ReleaseState {
    /// `github`-style freshness word for `versions.client_version_source`.
    pub fn freshness(&self, interval: Duration, now: i64) -> &'static str {
        if self.version.is_empty() {
            "unknown"
        } else if now - self.checked_at <= millis(interval) * 2 {
            "cache"
        } else {
            "cache_stale"
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub async fn state(store: &Store) -> Result<ReleaseState> {
    Ok(settings::get_json(store, KEY).await?)
}

/// `rust-v0.169.0`, `codex-0.169.0`, `v0.169.0` → `0.169.0`; `None` unless it is a version.
pub fn normalize_version(text: &str) -> Option<String> {
    super::host_settings::parse_version_selection("version", text)
        .ok()
        .flatten()
}

/// Records an admin's request for a check; the lease holder runs it within [`TICK`].
pub async fn request_check(store: &Store, by: &str) -> Result<ReleaseState> {
    Ok(settings::update_json(
        store,
        KEY,
        by,
        |s: &mut ReleaseState| {
            s.requested_at = now_ms();
            Ok(())
        },
        |_| None,
    )
    .await?)
}

#[derive(Clone)]
pub struct ReleaseChecker {
    store: Store,
    url: String,
    interval: Duration,
    wake: Arc<Notify>,
}

impl ReleaseChecker {
    /// `url` empty disables fetching (the state stays as it is).
    pub fn new(store: Store, url: String, interval: Duration) -> Self {
        ReleaseChecker {
            store,
            url,
            interval,
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Makes this process's job look now (after [`request_check`]).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn spawn(&self, holder: String) -> Option<tokio::task::JoinHandle<()>> {
        if self.url.is_empty() {
            return None;
        }
        let client = match reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("codex-central/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(c) => c,
            Err(err) => {
                tracing::warn!(error = %err, "Codex release checks are off: no HTTP client");
                return None;
            }
        };
        let this = self.clone();
        Some(tokio::spawn(async move {
            loop {
                if let Err(err) = this.tick(&client, &holder).await {
                    tracing::warn!(error = %err, "Codex release check failed");
                }
                tokio::select! {
                    () = tokio::time::sleep(TICK) => {}
                    () = this.wake.notified() => {}
                }
            }
        }))
    }

    async fn tick(&self, client: &reqwest::Client, holder: &str) -> Result<()> {
        let s = state(&self.store).await?;
        let now = now_ms();
        let due = s.requested_at > s.last_attempt
            || (s.last_error.is_empty() && now - s.checked_at >= millis(self.interval))
            || (!s.last_error.is_empty() && now - s.last_attempt >= RETRY_AFTER_FAILURE_MS);
        if !due || !leases::acquire(&self.store, LEASE, holder, FETCH_TIMEOUT * 4).await? {
            return Ok(());
        }
        let result = fetch(client, &self.url).await;
        let url = self.url.clone();
        settings::update_json(
            &self.store,
            KEY,
            "system:release-check",
            |s: &mut ReleaseState| {
                s.last_attempt = now_ms();
                match &result {
                    Ok(version) => {
                        s.version = version.clone();
                        s.checked_at = s.last_attempt;
                        s.source = url.clone();
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
        match result {
            Ok(version) => tracing::info!(%version, "latest Codex release checked"),
            Err(message) => tracing::warn!(%message, "could not read the latest Codex release"),
        }
        Ok(())
    }
}

/// Reads a GitHub release (`tag_name`) or npm registry (`version`) document.
async fn fetch(client: &reqwest::Client, url: &str) -> std::result::Result<String, String> {
    let response = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the source answered HTTP {}", status.as_u16()));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err("the source's answer is too large".into());
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading the answer failed: {e}"))?;
    if body.len() > MAX_BODY {
        return Err("the source's answer is too large".into());
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| "the source's answer is not JSON".to_string())?;
    let text = doc
        .get("tag_name")
        .or_else(|| doc.get("version"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| "the answer has neither tag_name nor version".to_string())?;
    normalize_version(text).ok_or_else(|| format!("{text:?} is not a version"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_normalized() {
        assert_eq!(
            normalize_version("rust-v0.169.0").as_deref(),
            Some("0.169.0")
        );
        assert_eq!(normalize_version("codex-0.2.1").as_deref(), Some("0.2.1"));
        assert_eq!(
            normalize_version("v1.2.3-alpha.1").as_deref(),
            Some("1.2.3-alpha.1")
        );
        assert_eq!(normalize_version("latest"), None);
        assert_eq!(normalize_version("global"), None);
        assert_eq!(normalize_version("1.2.3; rm -rf"), None);
    }
}
