//! Usage records, written with their envelope and their per-day sums in one transaction, so
//! the sums every aggregate reads never disagree with the rows. A record whose dedupe key is
//! already stored (a host re-sending a rollout file, a gateway call a host reports too) is
//! skipped, and reported back as a duplicate.

use std::collections::{BTreeMap, HashSet};

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::entities::usage_daily;
use crate::entities::usage_ingests;
use crate::entities::usage_records::{ActiveModel, Column, Entity, Model};
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
            // Two batches carrying one key raced: the next attempt finds the winner's row.
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
    let txn = store.begin_write().await?;
    // The key lookup's generic plan, made while the table was small, scanned it whole.
    crate::connect::plan_each_run(&txn, store.backend()).await?;
    let keys: Vec<&str> = reports
        .iter()
        .flat_map(|r| r.records.iter())
        .filter_map(|r| r.dedupe_key.as_deref())
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    for chunk in keys.chunks(500) {
        let found: Vec<Option<String>> = Entity::find()
            .select_only()
            .column(Column::DedupeKey)
            .filter(Column::DedupeKey.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(&txn)
            .await?;
        seen.extend(found.into_iter().flatten());
    }
    let mut outcomes = Vec::with_capacity(reports.len());
    let mut fresh: Vec<ActiveModel> = Vec::new();
    let mut kept_all: Vec<&Model> = Vec::new();
    let mut envelopes: Vec<usage_ingests::ActiveModel> = Vec::new();
    for report in reports {
        let mut stored = Stored::default();
        for (i, r) in report.records.iter().enumerate() {
            if let Some(key) = &r.dedupe_key
                && !seen.insert(key.clone())
            {
                stored.duplicates.push(i);
                continue;
            }
            stored.inserted.push(i);
            fresh.push(active(r));
        }
        let kept: Vec<&Model> = stored
            .inserted
            .iter()
            .map(|&i| &report.records[i])
            .collect();
        if let Some(mut envelope) = report.envelope.clone() {
            envelope.row_count = i32::try_from(kept.len()).unwrap_or(i32::MAX);
            envelope.duplicate_count = i32::try_from(stored.duplicates.len()).unwrap_or(i32::MAX);
            for r in &kept {
                envelope.total_tokens += r.total_tokens;
                envelope.input_tokens += r.input_tokens;
                envelope.cached_input_tokens += r.cached_input_tokens;
                envelope.output_tokens += r.output_tokens;
                envelope.reasoning_output_tokens += r.reasoning_output_tokens;
                envelope.cost_micros += r.cost_micros;
            }
            envelopes.push(envelope.into());
        }
        kept_all.extend(kept);
        outcomes.push(stored);
    }
    crate::batch::insert_in_fixed_chunks(&txn, fresh).await?;
    crate::batch::insert_in_fixed_chunks(&txn, envelopes).await?;
    // Last: the sums are the rows every concurrent report updates, so they are held the
    // shortest time.
    add_to_daily(&txn, store.backend(), &kept_all).await?;
    txn.commit().await?;
    Ok(outcomes)
}

fn active(r: &Model) -> ActiveModel {
    ActiveModel {
        id: sea_orm::NotSet,
        ingest_id: Set(r.ingest_id.clone()),
        source: Set(r.source.clone()),
        kind: Set(r.kind.clone()),
        host_id: Set(r.host_id),
        user_id: Set(r.user_id.clone()),
        token_id: Set(r.token_id.clone()),
        provider_id: Set(r.provider_id.clone()),
        model: Set(r.model.clone()),
        recorded_at: Set(r.recorded_at),
        ingested_at: Set(r.ingested_at),
        session_id: Set(r.session_id.clone()),
        turn_id: Set(r.turn_id.clone()),
        response_id: Set(r.response_id.clone()),
        dedupe_key: Set(r.dedupe_key.clone()),
        total_tokens: Set(r.total_tokens),
        input_tokens: Set(r.input_tokens),
        cached_input_tokens: Set(r.cached_input_tokens),
        cache_write_input_tokens: Set(r.cache_write_input_tokens),
        output_tokens: Set(r.output_tokens),
        reasoning_output_tokens: Set(r.reasoning_output_tokens),
        cost_micros: Set(r.cost_micros),
        unpriced: Set(r.unpriced),
        incomplete: Set(r.incomplete),
        line: Set(r.line.clone()),
        client_ip: Set(r.client_ip.clone()),
    }
}

/// The key of a record's per-day sum.
type DayKey = (i64, i64, String, String, String, String);

fn day_key(r: &Model) -> DayKey {
    (
        r.recorded_at.div_euclid(DAY_MS),
        r.host_id.unwrap_or(0),
        r.user_id.clone(),
        r.token_id.clone(),
        r.model.clone(),
        r.source.clone(),
    )
}

const SUMMED: [usage_daily::Column; 8] = [
    usage_daily::Column::RowCount,
    usage_daily::Column::UnpricedRows,
    usage_daily::Column::TotalTokens,
    usage_daily::Column::InputTokens,
    usage_daily::Column::CachedInputTokens,
    usage_daily::Column::OutputTokens,
    usage_daily::Column::ReasoningOutputTokens,
    usage_daily::Column::CostMicros,
];

/// The upsert that adds a row's numbers to its day's sums.
fn adding(backend: Backend) -> OnConflict {
    let mut conflict = OnConflict::columns([
        usage_daily::Column::Day,
        usage_daily::Column::HostId,
        usage_daily::Column::UserId,
        usage_daily::Column::TokenId,
        usage_daily::Column::Model,
        usage_daily::Column::Source,
    ]);
    for col in SUMMED {
        let name = sea_orm::IdenStatic::as_str(&col);
        let incoming = match backend {
            Backend::MySql => format!("VALUES({name})"),
            Backend::Sqlite | Backend::Postgres => format!("excluded.{name}"),
        };
        conflict.value(col, Expr::cust(format!("usage_daily.{name} + {incoming}")));
    }
    conflict
}

/// Adds `records` to their days' sums: one upsert per distinct key, in key order, so that
/// concurrent batches lock sums in one order and cannot deadlock each other.
pub(crate) async fn add_to_daily(
    db: &impl ConnectionTrait,
    backend: Backend,
    records: &[&Model],
) -> Result<()> {
    let mut sums: BTreeMap<DayKey, usage_daily::Model> = BTreeMap::new();
    for r in records {
        let key = day_key(r);
        let sum = sums
            .entry(key.clone())
            .or_insert_with(|| usage_daily::Model {
                day: key.0,
                host_id: key.1,
                user_id: key.2.clone(),
                token_id: key.3.clone(),
                model: key.4.clone(),
                source: key.5.clone(),
                row_count: 0,
                unpriced_rows: 0,
                total_tokens: 0,
                input_tokens: 0,
                cached_input_tokens: 0,
                output_tokens: 0,
                reasoning_output_tokens: 0,
                cost_micros: 0,
            });
        sum.row_count += 1;
        sum.unpriced_rows += i64::from(r.unpriced);
        sum.total_tokens += r.total_tokens;
        sum.input_tokens += r.input_tokens;
        sum.cached_input_tokens += r.cached_input_tokens;
        sum.output_tokens += r.output_tokens;
        sum.reasoning_output_tokens += r.reasoning_output_tokens;
        sum.cost_micros += r.cost_micros;
    }
    let conflict = adding(backend);
    for sum in sums.into_values() {
        usage_daily::Entity::insert(usage_daily::ActiveModel::from(sum))
            .on_conflict(conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Which of `sessions` already have records of `kind` from this host (without one: this user).
pub async fn sessions_with_kind(
    store: &Store,
    host_id: Option<i64>,
    user_id: &str,
    kind: &str,
    sessions: &[&str],
) -> Result<Vec<String>> {
    if sessions.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Entity::find()
        .select_only()
        .column(Column::SessionId)
        .distinct()
        .filter(Column::Kind.eq(kind))
        .filter(Column::SessionId.is_in(sessions.iter().copied()));
    q = match host_id {
        Some(host) => q.filter(Column::HostId.eq(host)),
        None => q.filter(Column::UserId.eq(user_id)),
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
        add_differences(&txn, store.backend(), &changed).await?;
        txn.commit().await?;
        done.changed += changed.len() as u64;
    }
    Ok(done)
}

/// Applies repricing to the per-day sums: cost by its difference, the unpriced count by one
/// up or down per row whose flag changed; row and token counts stay.
async fn add_differences(
    db: &impl ConnectionTrait,
    backend: Backend,
    changed: &[(Model, Model)],
) -> Result<()> {
    let mut sums: BTreeMap<DayKey, (i64, i64)> = BTreeMap::new();
    for (old, new) in changed {
        let e = sums.entry(day_key(new)).or_default();
        e.0 += new.cost_micros - old.cost_micros;
        e.1 += i64::from(new.unpriced) - i64::from(old.unpriced);
    }
    for (key, (cost, unpriced)) in sums {
        let sum = usage_daily::Model {
            day: key.0,
            host_id: key.1,
            user_id: key.2,
            token_id: key.3,
            model: key.4,
            source: key.5,
            row_count: 0,
            unpriced_rows: unpriced,
            total_tokens: 0,
            input_tokens: 0,
            cached_input_tokens: 0,
            output_tokens: 0,
            reasoning_output_tokens: 0,
            cost_micros: cost,
        };
        usage_daily::Entity::insert(usage_daily::ActiveModel::from(sum))
            .on_conflict(adding(backend))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}
