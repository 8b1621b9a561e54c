//! Retention of the `/v1` request log: without it the log grows by every call forever (about
//! 7 MB per 60,000 calls on SQLite). A leased job deletes rows past the configured age and row
//! count, and the per-minute rate-limit windows nobody reads any more.

use std::time::Duration;

use codex_central_store::{Store, leases, now_ms, proxy_requests, rate_windows};

use crate::Result;

const LEASE: &str = "usage.request_log_retention";

/// How much of the request log to keep; `None` leaves a bound off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_age: Option<Duration>,
    pub max_rows: Option<u64>,
    /// How often the job looks.
    pub interval: Duration,
}

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub requests: u64,
    pub rate_windows: u64,
}

/// One pass at `now` (ms).
pub async fn prune_once(store: &Store, retention: &Retention, now: i64) -> Result<Pruned> {
    let older_than = retention
        .max_age
        .map(|age| now.saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX)));
    let keep_rows = retention.max_rows.filter(|rows| *rows > 0);
    let requests = proxy_requests::prune(store, older_than, keep_rows).await?;
    // Windows are read for a minute; ten are plenty of slack for clocks and late batches.
    let rate_windows = rate_windows::prune(store, now - 10 * rate_windows::WINDOW_MS).await?;
    Ok(Pruned {
        requests,
        rate_windows,
    })
}

/// Runs [`prune_once`] every `retention.interval` on whichever replica holds the lease.
pub fn spawn_pruner(
    store: Store,
    holder: String,
    retention: Retention,
) -> tokio::task::JoinHandle<()> {
    leases::spawn_every(
        store,
        LEASE,
        holder,
        retention.interval,
        move |store| async move {
            match prune_once(&store, &retention, now_ms()).await {
                Ok(p) if p.requests > 0 => {
                    tracing::info!(rows = p.requests, "request log rows past retention deleted");
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "request log pruning failed"),
            }
        },
    )
}
