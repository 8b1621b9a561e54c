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
use crate::usage_batch::{Candidates, settle};
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
    crate::canonical_auth::lost_race(err)
        || matches!(
            err.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        )
}

async fn try_insert(store: &Store, reports: &[Report]) -> Result<Vec<Stored>> {
    if store.backend() == Backend::Postgres {
        return crate::usage_insert_pg::insert_reports(store, reports).await;
    }
    let txn = store.begin_write().await?;
    // MySQL cannot say which rows an insert skipped, so stored keys are looked up first (and a
    // key stored meanwhile fails the insert, which is then retried); SQLite's insert answers
    // the keys it took.
    let before = match store.backend() {
        Backend::MySql => stored_keys(&txn, reports).await?,
        _ => HashSet::new(),
    };
    let candidates = Candidates::new(reports, &before);
    let taken = insert_rows(&txn, store.backend(), &candidates.records(reports)).await?;
    let settled = settle(reports, candidates, |r| match (&taken, &r.dedupe_key) {
        (Some(taken), Some(key)) => taken.contains(key),
        _ => true,
    });
    let envelopes: Vec<usage_ingests::ActiveModel> =
        settled.envelopes.into_iter().map(Into::into).collect();
    crate::batch::insert_in_fixed_chunks(&txn, envelopes).await?;
    // Last: the sums are the rows every concurrent report updates, so they are held the
    // shortest time.
    crate::usage_sums::add_records(&txn, store.backend(), &settled.kept).await?;
    txn.commit().await?;
    Ok(settled.outcomes)
}

/// The dedupe keys of `reports` that are stored already.
async fn stored_keys(txn: &DatabaseTransaction, reports: &[Report]) -> Result<HashSet<String>> {
    let keys: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.records.iter())
        .filter_map(|r| r.dedupe_key.as_deref())
        .collect();
    let mut stored = HashSet::new();
    for chunk in keys.chunks(500) {
        let found: Vec<Option<String>> = Entity::find()
            .select_only()
            .column(Column::DedupeKey)
            .filter(Column::DedupeKey.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(txn)
            .await?;
        stored.extend(found.into_iter().flatten());
    }
    Ok(stored)
}

/// The record columns an insert writes (all but the id), in the order of [`values`].
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

fn values(r: &Model, out: &mut Vec<Value>) {
    out.extend([
        Value::from(r.ingest_id.as_str()),
        Value::from(r.source.as_str()),
        Value::from(r.kind.as_str()),
        Value::from(r.host_id),
        Value::from(r.user_id.as_str()),
        Value::from(r.token_id.as_str()),
        Value::from(r.provider_id.as_str()),
        Value::from(r.model.as_str()),
        Value::from(r.recorded_at),
        Value::from(r.ingested_at),
        Value::from(r.session_id.as_str()),
        Value::from(r.turn_id.as_str()),
        Value::from(r.response_id.as_str()),
        Value::from(r.dedupe_key.as_deref()),
        Value::from(r.total_tokens),
        Value::from(r.input_tokens),
        Value::from(r.cached_input_tokens),
        Value::from(r.cache_write_input_tokens),
        Value::from(r.output_tokens),
        Value::from(r.reasoning_output_tokens),
        Value::from(r.cost_micros),
        Value::from(r.unpriced),
        Value::from(r.incomplete),
        Value::from(r.line.as_str()),
        Value::from(r.client_ip.as_str()),
    ]);
}

/// Inserts `rows` (SQLite or MySQL), [`ROW_CHUNKS`] at a time. On SQLite a row whose key is
/// stored already is skipped and the keys taken are answered, which spares the one writer a
/// lookup of every key first; on MySQL every row is inserted (None).
async fn insert_rows(
    txn: &DatabaseTransaction,
    backend: Backend,
    rows: &[&Model],
) -> Result<Option<HashSet<String>>> {
    let mut taken = (backend == Backend::Sqlite).then(HashSet::new);
    let mut left = rows;
    for size in ROW_CHUNKS {
        while left.len() >= size {
            let (chunk, rest) = left.split_at(size);
            left = rest;
            let mut vals = Vec::with_capacity(size * COLUMNS.len());
            for r in chunk {
                values(r, &mut vals);
            }
            let stmt = Statement::from_sql_and_values(
                txn.get_database_backend(),
                insert_sql(backend, size),
                vals,
            );
            match &mut taken {
                Some(taken) => {
                    for row in txn.query_all_raw(stmt).await? {
                        if let Some(key) = row.try_get::<Option<String>>("", "dedupe_key")? {
                            taken.insert(key);
                        }
                    }
                }
                None => {
                    txn.execute_raw(stmt).await?;
                }
            }
        }
    }
    Ok(taken)
}

/// Rows per insert statement, largest first (a few statement texts, see `batch`). Each statement
/// is a round trip to SQLite's worker thread and back to the writer task.
const ROW_CHUNKS: [usize; 5] = [256, 64, 16, 4, 1];

/// `INSERT` of `rows` records; on SQLite, skipping stored keys and answering those it took.
fn insert_sql(backend: Backend, rows: usize) -> String {
    let one = format!("({})", vec!["?"; COLUMNS.len()].join(","));
    let mut sql = format!(
        "INSERT INTO usage_records ({}) VALUES {}",
        COLUMNS.join(", "),
        vec![one; rows].join(",")
    );
    if backend == Backend::Sqlite {
        sql.push_str(" ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key");
    }
    sql
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
