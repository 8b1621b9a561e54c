//! The `/mcp` access log writer: rows are queued and written in batches by a background task,
//! so busy MCP clients cost a few inserts a second, not one per call. The queue is bounded:
//! when the database cannot keep up, rows are dropped (and counted in the log) rather than
//! holding calls or memory. The same task keeps the table bounded by age and row count.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use codex_central_common::batching::next_batch;
use codex_central_store::entities::mcp_access_logs::Model as Row;
use codex_central_store::{Store, mcp_access_logs, now_ms};
use tokio::sync::mpsc;
use tokio::time::Instant;

const QUEUE: usize = 10_000;
const BATCH: usize = 500;
const INTERVAL: Duration = Duration::from_millis(200);

/// A full queue means every call is dropping its row; one warning a minute says so without
/// flooding the log it is complaining about.
const DROP_WARNING_EVERY_MS: i64 = 60_000;

/// The log is for recent troubleshooting and auditing of MCP use, not an archive: a month of
/// history, capped so a noisy client cannot grow the table without bound. Pruning walks the
/// primary key, but it is still a few queries, so it runs at most this often.
const RETENTION_MS: i64 = 30 * 24 * 60 * 60 * 1000;
const RETENTION_ROWS: u64 = 100_000;
const PRUNE_EVERY: Duration = Duration::from_secs(10 * 60);

#[derive(Clone)]
pub struct AccessLogWriter {
    tx: mpsc::Sender<Row>,
    drops: Arc<DropCounter>,
}

impl AccessLogWriter {
    /// Starts the writer task (needs a Tokio runtime).
    pub fn spawn(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, rx));
        AccessLogWriter {
            tx,
            drops: Arc::new(DropCounter::default()),
        }
    }

    /// Queues a row; false when the queue is full and the row was dropped.
    pub fn push(&self, row: Row) -> bool {
        if self.tx.try_send(row).is_ok() {
            return true;
        }
        if let Some(dropped) = self.drops.dropped(now_ms()) {
            tracing::warn!(
                dropped,
                "the /mcp access log queue is full; rows were dropped"
            );
        }
        false
    }
}

/// Rows dropped since the last warning, and when that warning was given.
#[derive(Default)]
struct DropCounter {
    since_warning: AtomicU64,
    warned_at: AtomicI64,
}

impl DropCounter {
    /// Counts one dropped row; `Some(n)` when a warning is due, with the rows dropped since the
    /// last one (this one included).
    fn dropped(&self, now: i64) -> Option<u64> {
        self.since_warning.fetch_add(1, Ordering::Relaxed);
        let last = self.warned_at.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < DROP_WARNING_EVERY_MS {
            return None;
        }
        // Only the caller that moves the time on warns, when several drop at once.
        self.warned_at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .ok()?;
        Some(self.since_warning.swap(0, Ordering::Relaxed))
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<Row>) {
    let mut pruned_at: Option<Instant> = None;
    while let Some(rows) = next_batch(&mut rx, BATCH, INTERVAL).await {
        let n = rows.len();
        if let Err(err) = mcp_access_logs::insert_many(&store, rows).await {
            tracing::warn!(error = %err, rows = n, "could not write /mcp access log rows");
        }
        // Pruning only after writes: an idle log has nothing new to make room for.
        if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned_at = Some(Instant::now());
            prune(&store).await;
        }
    }
}

async fn prune(store: &Store) {
    let cutoff = now_ms().saturating_sub(RETENTION_MS);
    match mcp_access_logs::prune(store, Some(cutoff), Some(RETENTION_ROWS)).await {
        Ok(0) => {}
        Ok(rows) => tracing::debug!(rows, "pruned the /mcp access log"),
        Err(err) => tracing::warn!(error = %err, "could not prune the /mcp access log"),
    }
}

#[cfg(test)]
mod tests {
    use super::{DROP_WARNING_EVERY_MS, DropCounter};

    #[test]
    fn drops_are_warned_about_at_most_once_a_minute_with_their_count() {
        let d = DropCounter::default();
        let t = 1_000_000;
        assert_eq!(d.dropped(t), Some(1), "the first drop warns");
        assert_eq!(d.dropped(t + 1), None);
        assert_eq!(d.dropped(t + DROP_WARNING_EVERY_MS - 1), None);
        assert_eq!(d.dropped(t + DROP_WARNING_EVERY_MS), Some(3));
        assert_eq!(d.dropped(t + DROP_WARNING_EVERY_MS + 5), None);
    }
}
