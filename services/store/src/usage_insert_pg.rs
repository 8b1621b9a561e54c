//! Usage reports on PostgreSQL: records, envelopes and both sums each in one statement that
//! unnests one array per column, whatever the number of rows. Multi-row `VALUES` statements
//! (25 parameters a row) cost PostgreSQL more to parse and bind than to insert, and planning
//! them each run was what the dedupe lookup before needed; here the insert skips stored keys
//! itself (`ON CONFLICT DO NOTHING`) and answers those it took. sea-orm's values cannot carry
//! arrays with nulls, so this writes through the pool's own driver (sqlx).

use std::collections::HashSet;
use std::sync::Arc;

use sea_orm::sqlx::{self, Postgres, Transaction};
use sea_orm::{DbErr, RuntimeErr};

use crate::entities::usage_ingests;
use crate::entities::usage_records::Model;
use crate::usage_batch::{Candidates, settle};
use crate::usage_records::{COLUMNS, Report, Stored};
use crate::usage_sums::{self, Bucket, KEYS, SUMMED};
use crate::{Result, Store};

fn db_err(err: sqlx::Error) -> crate::Error {
    crate::Error::Db(DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err))))
}

pub(crate) async fn insert_reports(store: &Store, reports: &[Report]) -> Result<Vec<Stored>> {
    let pool = store.db().get_postgres_connection_pool();
    let mut tx = pool.begin().await.map_err(db_err)?;
    let candidates = Candidates::new(reports, &HashSet::new());
    let taken = insert_records(&mut tx, &candidates.records(reports)).await?;
    let settled = settle(reports, candidates, |r| {
        r.dedupe_key.as_ref().is_none_or(|key| taken.contains(key))
    });
    insert_envelopes(&mut tx, &settled.envelopes).await?;
    // Last: the sums are the rows every concurrent report updates, so they are held the
    // shortest time.
    for bucket in Bucket::ALL {
        add_sums(&mut tx, bucket, &settled.kept).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(settled.outcomes)
}

/// One column of `rows`, as the array its `UNNEST` parameter takes.
fn column<'a, R, T>(rows: &'a [R], f: impl Fn(&'a R) -> T) -> Vec<T> {
    rows.iter().map(f).collect()
}

/// Inserts `rows`, skipping those whose dedupe key is stored; answers the keys it stored.
async fn insert_records(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[&Model],
) -> Result<HashSet<String>> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    const TYPES: [&str; 25] = [
        "text", "text", "text", "int8", "text", "text", "text", "text", "int8", "int8", "text",
        "text", "text", "text", "int8", "int8", "int8", "int8", "int8", "int8", "int8", "bool",
        "bool", "text", "text",
    ];
    let sql = format!(
        "INSERT INTO usage_records ({}) SELECT * FROM {} \
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key",
        COLUMNS.join(", "),
        unnest(&TYPES)
    );
    let taken: Vec<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(column(rows, |r| r.ingest_id.as_str()))
        .bind(column(rows, |r| r.source.as_str()))
        .bind(column(rows, |r| r.kind.as_str()))
        .bind(column(rows, |r| r.host_id))
        .bind(column(rows, |r| r.user_id.as_str()))
        .bind(column(rows, |r| r.token_id.as_str()))
        .bind(column(rows, |r| r.provider_id.as_str()))
        .bind(column(rows, |r| r.model.as_str()))
        .bind(column(rows, |r| r.recorded_at))
        .bind(column(rows, |r| r.ingested_at))
        .bind(column(rows, |r| r.session_id.as_str()))
        .bind(column(rows, |r| r.turn_id.as_str()))
        .bind(column(rows, |r| r.response_id.as_str()))
        .bind(column(rows, |r| r.dedupe_key.as_deref()))
        .bind(column(rows, |r| r.total_tokens))
        .bind(column(rows, |r| r.input_tokens))
        .bind(column(rows, |r| r.cached_input_tokens))
        .bind(column(rows, |r| r.cache_write_input_tokens))
        .bind(column(rows, |r| r.output_tokens))
        .bind(column(rows, |r| r.reasoning_output_tokens))
        .bind(column(rows, |r| r.cost_micros))
        .bind(column(rows, |r| r.unpriced))
        .bind(column(rows, |r| r.incomplete))
        .bind(column(rows, |r| r.line.as_str()))
        .bind(column(rows, |r| r.client_ip.as_str()))
        .fetch_all(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(taken.into_iter().flatten().collect())
}

async fn insert_envelopes(
    tx: &mut Transaction<'_, Postgres>,
    envelopes: &[usage_ingests::Model],
) -> Result<()> {
    if envelopes.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO usage_ingests (id, source, host_id, user_id, client_ip, received_at, \
         row_count, duplicate_count, error_count, total_tokens, input_tokens, \
         cached_input_tokens, output_tokens, reasoning_output_tokens, cost_micros) \
         SELECT * FROM {}",
        unnest(&[
            "text", "text", "int8", "text", "text", "int8", "int4", "int4", "int4", "int8", "int8",
            "int8", "int8", "int8", "int8",
        ])
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(column(envelopes, |e| e.id.as_str()))
        .bind(column(envelopes, |e| e.source.as_str()))
        .bind(column(envelopes, |e| e.host_id))
        .bind(column(envelopes, |e| e.user_id.as_str()))
        .bind(column(envelopes, |e| e.client_ip.as_str()))
        .bind(column(envelopes, |e| e.received_at))
        .bind(column(envelopes, |e| e.row_count))
        .bind(column(envelopes, |e| e.duplicate_count))
        .bind(column(envelopes, |e| e.error_count))
        .bind(column(envelopes, |e| e.total_tokens))
        .bind(column(envelopes, |e| e.input_tokens))
        .bind(column(envelopes, |e| e.cached_input_tokens))
        .bind(column(envelopes, |e| e.output_tokens))
        .bind(column(envelopes, |e| e.reasoning_output_tokens))
        .bind(column(envelopes, |e| e.cost_micros))
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Adds `records` to the sums of `bucket`: one upsert of every key, in key order.
async fn add_sums(
    tx: &mut Transaction<'_, Postgres>,
    bucket: Bucket,
    records: &[&Model],
) -> Result<()> {
    let sums: Vec<_> = usage_sums::of_records(bucket, records)
        .into_iter()
        .collect();
    if sums.is_empty() {
        return Ok(());
    }
    let table = bucket.table();
    let keys: Vec<&str> = std::iter::once(bucket.column()).chain(KEYS).collect();
    let adding: Vec<String> = SUMMED
        .iter()
        .map(|c| format!("{c} = {table}.{c} + excluded.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}, {}) SELECT * FROM {} ON CONFLICT ({}) DO UPDATE SET {}",
        keys.join(", "),
        SUMMED.join(", "),
        unnest(&[
            "int8", "int8", "text", "text", "text", "text", "int8", "int8", "int8", "int8", "int8",
            "int8", "int8", "int8",
        ]),
        keys.join(", "),
        adding.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(column(&sums, |(k, _)| k.0))
        .bind(column(&sums, |(k, _)| k.1))
        .bind(column(&sums, |(k, _)| k.2))
        .bind(column(&sums, |(k, _)| k.3))
        .bind(column(&sums, |(k, _)| k.4))
        .bind(column(&sums, |(k, _)| k.5));
    for i in 0..SUMMED.len() {
        q = q.bind(column(&sums, |(_, d)| d[i]));
    }
    q.execute(&mut **tx).await.map_err(db_err)?;
    Ok(())
}

/// `UNNEST($1::t1[], $2::t2[], …)` for columns of `types`.
fn unnest(types: &[&str]) -> String {
    let args: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, t)| format!("${}::{t}[]", i + 1))
        .collect();
    format!("UNNEST({})", args.join(", "))
}
