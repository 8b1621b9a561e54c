//! Group commit for usage reports: reports that arrive while one is being written are stored
//! together in the next transaction. Every report updates the same few per-day sums (today,
//! its host, its models), so one transaction per report made them wait on each other's row
//! locks and commits (2,000 rows/s at 16 connections on PostgreSQL); writers merging what is
//! queued (one on SQLite, several on a server database: see `writers`) turn that wait into
//! batching. Each report still gets its own outcome.

use std::sync::Arc;

use codex_central_store::usage_records::{Report, Stored};
use codex_central_store::{Backend, Store, usage_records};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{Error, Result};

/// Reports waiting for the writer; a full queue makes callers wait (backpressure).
const QUEUE: usize = 1024;
/// Rows merged into one transaction at most.
const MAX_ROWS: usize = 5_000;

struct Job {
    report: Report,
    /// The report goes back with its outcome: the caller answers with its records.
    reply: oneshot::Sender<(Report, std::result::Result<Stored, String>)>,
}

#[derive(Clone)]
pub struct IngestWriter {
    tx: mpsc::Sender<Job>,
}

impl IngestWriter {
    /// Starts the writer tasks (needs a Tokio runtime).
    pub fn spawn(store: Store) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers(store.backend()) {
            tokio::spawn(write(store.clone(), rx.clone()));
        }
        IngestWriter { tx }
    }

    /// Stores one report with whatever else is queued; answers the report and its outcome.
    pub async fn store(&self, report: Report) -> Result<(Report, Stored)> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { report, reply })
            .await
            .map_err(|_| Error::unavailable("the usage writer has stopped"))?;
        let (report, outcome) = answer
            .await
            .map_err(|_| Error::unavailable("the usage writer has stopped"))?;
        let stored = outcome
            .map_err(|message| Error::unavailable(format!("could not store usage: {message}")))?;
        Ok((report, stored))
    }
}

/// SQLite takes one writer at a time; a server database inserts in parallel, so while one
/// transaction waits on its commit others can be writing. Sums are locked last and in key order,
/// so writers hold them briefly and cannot deadlock on them. On PostgreSQL a third writer used
/// CPU that two left idle (scripts/bench/README.md); MySQL was not measured beyond two.
fn writers(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 3,
        Backend::MySql => 2,
    }
}

async fn write(store: Store, rx: Arc<Mutex<mpsc::Receiver<Job>>>) {
    loop {
        // One writer at a time takes what is queued; the others wait for the next batch.
        let jobs = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut rows = first.report.records.len();
            let mut jobs = vec![first];
            while rows < MAX_ROWS {
                match rx.try_recv() {
                    Ok(job) => {
                        rows += job.report.records.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            jobs
        };
        let (reports, replies): (Vec<Report>, Vec<_>) =
            jobs.into_iter().map(|j| (j.report, j.reply)).unzip();
        match usage_records::insert_reports(&store, &reports).await {
            Ok(outcomes) => {
                for ((reply, report), outcome) in replies.into_iter().zip(reports).zip(outcomes) {
                    let _ = reply.send((report, Ok(outcome)));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, reports = replies.len(), "could not store usage reports");
                let message = err.to_string();
                for (reply, report) in replies.into_iter().zip(reports) {
                    let _ = reply.send((report, Err(message.clone())));
                }
            }
        }
    }
}
