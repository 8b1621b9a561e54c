//! Usage records, written with their envelope and their per-day and per-hour sums in one
//! transaction, so the sums every aggregate reads never disagree with the rows. A record whose
//! dedupe key is already stored (a host re-sending a rollout file, a gateway call a host
//! reports too) is skipped, and reported back as a duplicate.

use std::collections::HashSet;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::entities::usage_ingests;
use crate::entities::usage_records::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, Store};

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
    crate::usage_sums::add_records(&txn, store.backend(), &kept_all).await?;
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
        crate::usage_sums::add_differences(&txn, store.backend(), &changed).await?;
        txn.commit().await?;
        done.changed += changed.len() as u64;
    }
    Ok(done)
}
