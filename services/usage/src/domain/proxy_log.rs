//! The `/v1` request log writer: rows are queued and written in batches by a background task,
//! so a busy gateway costs a few inserts a second, not one per call. The queue is bounded: when
//! the database cannot keep up, rows are dropped (and counted in the log) rather than holding
//! calls or memory. A call that carried usage also becomes a usage record (source `gateway`),
//! priced and summed like what hosts report, keyed by the upstream's response id so that a host
//! reporting the same response does not count it twice.

use std::time::Duration;

use codex_central_common::batching::next_batch;
use codex_central_proto::live::Changes;
use codex_central_store::entities::proxy_requests::Model as Row;
use codex_central_store::entities::usage_records::Model as Record;
use codex_central_store::{Store, proxy_requests, usage_records};
use tokio::sync::mpsc;

use super::pricing::{Counted, PriceBook, cost_micros};

const QUEUE: usize = 50_000;
const BATCH: usize = 500;
const INTERVAL: Duration = Duration::from_millis(200);

/// A logged call with what only its usage record keeps.
#[derive(Debug, Clone)]
pub struct Logged {
    pub row: Row,
    pub response_id: String,
    pub incomplete: bool,
}

#[derive(Clone)]
pub struct ProxyLogWriter {
    tx: mpsc::Sender<Logged>,
}

impl ProxyLogWriter {
    /// Starts the writer task (needs a Tokio runtime).
    /// `changes` is poked after each batch, so live usage views see gateway calls.
    pub fn spawn(store: Store, changes: Changes) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, rx, changes));
        ProxyLogWriter { tx }
    }

    /// Queues a row; false when the queue is full and the row was dropped.
    pub fn push(&self, call: Logged) -> bool {
        self.tx.try_send(call).is_ok()
    }
}

async fn write_batches(store: Store, mut rx: mpsc::Receiver<Logged>, changes: Changes) {
    while let Some(calls) = next_batch(&mut rx, BATCH, INTERVAL).await {
        match record_usage(&store, &calls).await {
            Ok(true) => changes.poke(),
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "could not write the usage of /v1 calls"),
        }
        let rows: Vec<Row> = calls.into_iter().map(|c| c.row).collect();
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

/// The usage records of the calls that carried usage (or were cut off after starting); true
/// when there were any.
async fn record_usage(store: &Store, calls: &[Logged]) -> crate::Result<bool> {
    let used: Vec<&Logged> = calls
        .iter()
        .filter(|c| {
            let r = &c.row;
            r.total_tokens > 0
                || r.input_tokens > 0
                || r.output_tokens > 0
                || (c.incomplete && (200..300).contains(&r.status_code))
        })
        .collect();
    if used.is_empty() {
        return Ok(false);
    }
    let book = PriceBook::load(store, used.iter().map(|c| billed_model(&c.row))).await?;
    let now = codex_central_store::now_ms();
    let records: Vec<Record> = used.iter().map(|c| record(c, &book, now)).collect();
    usage_records::insert(store, None, &records).await?;
    Ok(true)
}

/// What the upstream billed: the model it was asked for after mapping.
fn billed_model(r: &Row) -> &str {
    if r.upstream_model.is_empty() {
        &r.requested_model
    } else {
        &r.upstream_model
    }
}

fn record(c: &Logged, book: &PriceBook, now: i64) -> Record {
    let r = &c.row;
    let model = billed_model(r).to_string();
    let (cost, unpriced) = match book.at(&model, r.at) {
        Some(price) => (
            cost_micros(
                Counted {
                    input: r.input_tokens,
                    cached: r.cached_input_tokens,
                    output: r.output_tokens,
                },
                price,
            ),
            false,
        ),
        None => (0, true),
    };
    Record {
        id: 0,
        ingest_id: String::new(),
        source: "gateway".into(),
        kind: "gateway".into(),
        host_id: r.host_id,
        user_id: r.user_id.chars().take(36).collect(),
        token_id: r.token_id.chars().take(36).collect(),
        provider_id: r.provider_id.clone(),
        model,
        recorded_at: r.at,
        ingested_at: now,
        session_id: String::new(),
        turn_id: String::new(),
        response_id: c.response_id.clone(),
        dedupe_key: (!c.response_id.is_empty()).then(|| format!("r:{}", c.response_id)),
        total_tokens: r.total_tokens,
        input_tokens: r.input_tokens,
        cached_input_tokens: r.cached_input_tokens,
        cache_write_input_tokens: 0,
        output_tokens: r.output_tokens,
        reasoning_output_tokens: r.reasoning_output_tokens,
        cost_micros: cost,
        unpriced,
        incomplete: c.incomplete,
        line: String::new(),
        client_ip: r.client_ip.clone(),
    }
}
