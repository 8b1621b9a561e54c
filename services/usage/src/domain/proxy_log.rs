//! The `/v1` request log writer: rows are queued and written in batches by a background task,
//! so a busy gateway costs a few inserts a second, not one per call. The queue is bounded: when
//! the database cannot keep up, rows are dropped (and counted in the log) rather than holding
//! calls or memory.

use std::time::Duration;

use codex_central_common::batching::next_batch;
use codex_central_store::entities::proxy_requests::Model as Row;
use codex_central_store::{Store, proxy_requests};
use tokio::sync::mpsc;

const QUEUE: usize = 50_000;
const BATCH: usize = 500;
const INTERVAL: Duration = Duration::from_millis(200);

#[derive(Clone)]
pub struct ProxyLogWriter {
    tx: mpsc::Sender<Row>,
}

impl ProxyLogWriter {
    /// Starts the writer task (needs a Tokio runtime).
    pub fn spawn(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, rx));
        ProxyLogWriter { tx }
    }

    /// Queues a row; false when the queue is full and the row was dropped.
    pub fn push(&self, row: Row) -> bool {
        self.tx.try_send(row).is_ok()
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<Row>) {
    while let Some(rows) = next_batch(&mut rx, BATCH, INTERVAL).await {
        let n = rows.len();
        // Tokens count against per-minute limits: one upsert per token per batch.
        let mut per_token: std::collections::HashMap<String, i64> =
            std::collections::HashMap::new();
        for r in rows.iter().filter(|r| !r.token_id.is_empty()) {
            *per_token.entry(r.token_id.clone()).or_default() += r.total_tokens;
        }
        let now = codex_central_store::now_ms();
        for (token, tokens) in per_token {
            if let Err(err) = super::limits::add_tokens(&store, &token, now, tokens).await {
                tracing::warn!(error = %err, "could not count tokens against a rate limit");
            }
        }
        if let Err(err) = proxy_requests::insert_many(&store, rows).await {
            tracing::warn!(error = %err, rows = n, "could not write /v1 request log rows");
        }
    }
}
