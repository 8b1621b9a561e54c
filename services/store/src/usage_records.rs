//! Usage records, written with their envelope and their per-day and per-hour sums in one
//! transaction, so the sums every aggregate reads never disagree with the rows. A record whose
//! dedupe key is already stored (a host re-sending a rollout file, a gateway call a host
//! reports too) is skipped, and reported back as a duplicate.

use std::collections::HashSet;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    Statement, Value,
};

use crate::entities::usage_ingests;
use crate::entities::usage_records::{Column, Entity, Model};
use crate::usage_batch::{Candidates, settle, unstored};
use crate::{Backend, Error, Result, Store};

pub const DAY_MS: i64 = 86_400_000;

/// What was stored of a batch: the positions (in the batch given) of the records stored and
/// of those skipped as already stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    pub inserted: Vec<usize>,
    pub duplicates: Vec<usize>,
}

/// One report to store: its records and, when there is one, its envelope, whose row count,
/// duplicate count and totals are filled in from what was stored.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub envelope: Option<usage_ingests::Model>,
    pub records: Vec<Model>,
}

/// Stores one report (ids are assigned by the database).
pub async fn insert(
    store: &Store,
    envelope: Option<usage_ingests::Model>,
    records: &[Model],
) -> Result<Stored> {
    let report = Report {
        envelope,
        records: records.to_vec(),
    };
    let mut stored = insert_reports(store, std::slice::from_ref(&report)).await?;
    Ok(stored.pop().unwrap_or_default())
}

/// Stores several reports in one transaction (a group commit: one commit and one update of
/// each day's sums for all of them), each report's outcome in order. A key repeated across the
/// reports is stored once, for the first.
pub async fn insert_reports(store: &Store, reports: &[Report]) -> Result<Vec<Stored>> {
    let mut attempts = 0;
    loop {
        match try_insert(store, reports).await {
            // Two batches carrying one key raced (on MySQL the insert failed on it; on
            // PostgreSQL the writers waited on each other's keys): the next attempt skips the
            // winner's row.
            Err(Error::Db(err)) if attempts < 3 && retryable(&err) => attempts += 1,
            other => return other,
        }
    }
}

fn retryable(err: &sea_orm::DbErr) -> bool {
    crate::canonical_auth::lost_race(err) || is_stored_key(err)
}

async fn try_insert(store: &Store, reports: &[Report]) -> Result<Vec<Stored>> {
    if store.backend() == Backend::Postgres {
        return crate::usage_insert_pg::insert_reports(store, reports).await;
    }
    let txn = store.begin_write().await?;
    let candidates = Candidates::new(reports);
    let skipped = insert_rows(&txn, &candidates.records(reports)).await?;
    let settled = settle(reports, candidates, &skipped);
    let envelopes: Vec<usage_ingests::ActiveModel> =
        settled.envelopes.into_iter().map(Into::into).collect();
    crate::batch::insert_in_fixed_chunks(&txn, envelopes).await?;
    // Last: the sums are the rows every concurrent report updates, so they are held the
    // shortest time.
    crate::usage_sums::add_records(&txn, store.backend(), &settled.kept).await?;
    txn.commit().await?;
    Ok(settled.outcomes)
}

/// The dedupe keys of `rows` that are stored already.
async fn stored_keys(txn: &DatabaseTransaction, rows: &[&Model]) -> Result<HashSet<String>> {
    let keys = rows.iter().filter_map(|r| r.dedupe_key.as_deref());
    let found: Vec<Option<String>> = Entity::find()
        .select_only()
        .column(Column::DedupeKey)
        .filter(Column::DedupeKey.is_in(keys))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The record columns an insert writes (all but the id), in the order of [`fields`].
pub(crate) const COLUMNS: [&str; 25] = [
    "ingest_id",
    "source",
    "kind",
    "host_id",
    "user_id",
    "token_id",
    "provider_id",
    "model",
    "recorded_at",
    "ingested_at",
    "session_id",
    "turn_id",
    "response_id",
    "dedupe_key",
    "total_tokens",
    "input_tokens",
    "cached_input_tokens",
    "cache_write_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "cost_micros",
    "unpriced",
    "incomplete",
    "line",
    "client_ip",
];

/// Takes a record's columns in the order of [`COLUMNS`] (see [`fields`]).
pub(crate) trait Fields {
    fn text(&mut self, v: &str);
    fn opt_text(&mut self, v: Option<&str>);
    fn int(&mut self, v: i64);
    fn opt_int(&mut self, v: Option<i64>);
    fn flag(&mut self, v: bool);
}

/// Gives `r`'s columns to `out`, in the order of [`COLUMNS`].
pub(crate) fn fields(r: &Model, out: &mut impl Fields) {
    out.text(&r.ingest_id);
    out.text(&r.source);
    out.text(&r.kind);
    out.opt_int(r.host_id);
    out.text(&r.user_id);
    out.text(&r.token_id);
    out.text(&r.provider_id);
    out.text(&r.model);
    out.int(r.recorded_at);
    out.int(r.ingested_at);
    out.text(&r.session_id);
    out.text(&r.turn_id);
    out.text(&r.response_id);
    out.opt_text(r.dedupe_key.as_deref());
    out.int(r.total_tokens);
    out.int(r.input_tokens);
    out.int(r.cached_input_tokens);
    out.int(r.cache_write_input_tokens);
    out.int(r.output_tokens);
    out.int(r.reasoning_output_tokens);
    out.int(r.cost_micros);
    out.flag(r.unpriced);
    out.flag(r.incomplete);
    out.text(&r.line);
    out.text(&r.client_ip);
}

impl Fields for Vec<Value> {
    fn text(&mut self, v: &str) {
        self.push(Value::from(v));
    }
    fn opt_text(&mut self, v: Option<&str>) {
        self.push(Value::from(v));
    }
    fn int(&mut self, v: i64) {
        self.push(Value::from(v));
    }
    fn opt_int(&mut self, v: Option<i64>) {
        self.push(Value::from(v));
    }
    fn flag(&mut self, v: bool) {
        self.push(Value::from(v));
    }
}

/// Inserts `rows` (SQLite or MySQL), [`ROW_CHUNKS`] at a time; answers the keys of those
/// skipped as stored already. Keys are nearly always new, so each chunk is first inserted as it
/// is: asking which keys the database took (`RETURNING`, row by row) cost SQLite's one writer a
/// fifth of its throughput. A chunk that fails on a stored key is undone on its own (SQLite and
/// InnoDB roll back the statement, not the transaction) and inserted again without those keys.
async fn insert_rows(txn: &DatabaseTransaction, rows: &[&Model]) -> Result<HashSet<String>> {
    let mut skipped = HashSet::new();
    let mut left = rows;
    for size in ROW_CHUNKS {
        while left.len() >= size {
            let (chunk, rest) = left.split_at(size);
            left = rest;
            match txn.execute_raw(insert_statement(txn, chunk)).await {
                Ok(_) => {}
                Err(err) if is_stored_key(&err) => {
                    skipped.extend(insert_new(txn, chunk).await?);
                }
                Err(err) => return Err(err.into()),
            }
        }
    }
    Ok(skipped)
}

/// Whether an insert of records failed on a stored key: ids come from the database, so the
/// dedupe key is the one unique column an insert can collide on.
pub(crate) fn is_stored_key(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Inserts the rows of `chunk` whose keys are not stored; answers the keys of the others. On
/// MySQL a key another writer stores meanwhile fails the insert, and `insert_reports` tries the
/// whole batch again (SQLite has one writer).
async fn insert_new(txn: &DatabaseTransaction, chunk: &[&Model]) -> Result<HashSet<String>> {
    let stored = stored_keys(txn, chunk).await?;
    let new = unstored(chunk, &stored);
    if !new.is_empty() {
        txn.execute_raw(insert_statement(txn, &new)).await?;
    }
    Ok(stored)
}

/// Rows per insert statement, largest first (a few statement texts, see `batch`). Each statement
/// is a round trip to SQLite's worker thread and back to the writer task.
const ROW_CHUNKS: [usize; 5] = [256, 64, 16, 4, 1];

/// `INSERT` of `rows`.
fn insert_statement(txn: &DatabaseTransaction, rows: &[&Model]) -> Statement {
    let mut vals = Vec::with_capacity(rows.len() * COLUMNS.len());
    for r in rows {
        fields(r, &mut vals);
    }
    let one = format!("({})", vec!["?"; COLUMNS.len()].join(","));
    let sql = format!(
        "INSERT INTO usage_records ({}) VALUES {}",
        COLUMNS.join(", "),
        vec![one; rows.len()].join(",")
    );
    Statement::from_sql_and_values(txn.get_database_backend(), sql, vals)
}

/// Which of `sessions` already have records of Codex's `token_usage_record` lines from this
/// host (without one: this user). Only those records are in the session index (migration
/// m0025), so the kind is stated as it is written there, a literal rather than a bound value.
pub async fn sessions_with_usage_records(
    store: &Store,
    host_id: Option<i64>,
    user_id: &str,
    sessions: &[&str],
) -> Result<Vec<String>> {
    if sessions.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Entity::find()
        .select_only()
        .column(Column::SessionId)
        .distinct()
        .filter(sea_orm::sea_query::Expr::cust(
            "usage_records.kind = 'usage_record'",
        ))
        .filter(Column::SessionId.is_in(sessions.iter().copied()));
    q = match host_id {
        Some(host) => q.filter(Column::HostId.eq(host)),
        None => q.filter(crate::usage_queries::on_partial_index(
            Column::UserId,
            user_id,
        )),
    };
    Ok(q.into_tuple().all(store.db()).await?)
}

/// What repricing changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repriced {
    pub examined: u64,
    pub changed: u64,
}

const REPRICE_BATCH: u64 = 1000;

/// Gives every record the cost `price` says now (`None`: unpriced), a batch at a time by id.
/// Each batch's changed rows and the matching change of their days' sums commit together, so
/// sums stay equal to the rows while reports keep arriving.
pub async fn reprice(store: &Store, price: impl Fn(&Model) -> Option<i64>) -> Result<Repriced> {
    use sea_orm::QueryOrder;
    let mut done = Repriced::default();
    let mut after = 0i64;
    loop {
        let batch = Entity::find()
            .filter(Column::Id.gt(after))
            .order_by_asc(Column::Id)
            .limit(REPRICE_BATCH)
            .all(store.db())
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        done.examined += batch.len() as u64;
        let mut changed: Vec<(Model, Model)> = Vec::new();
        for r in batch {
            let (cost, unpriced) = match price(&r) {
                Some(c) => (c, false),
                None => (0, true),
            };
            if cost != r.cost_micros || unpriced != r.unpriced {
                let mut new = r.clone();
                new.cost_micros = cost;
                new.unpriced = unpriced;
                changed.push((r, new));
            }
        }
        if changed.is_empty() {
            continue;
        }
        let txn = store.begin_write().await?;
        for (_, new) in &changed {
            Entity::update_many()
                .col_expr(Column::CostMicros, Expr::value(new.cost_micros))
                .col_expr(Column::Unpriced, Expr::value(new.unpriced))
                .filter(Column::Id.eq(new.id))
                .exec(&txn)
                .await?;
        }
        crate::usage_sums::add_differences(&txn, store.backend(), &changed).await?;
        txn.commit().await?;
        done.changed += changed.len() as u64;
    }
    Ok(done)
}
