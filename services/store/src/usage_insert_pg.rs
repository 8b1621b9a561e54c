//! Usage reports on PostgreSQL. Records go in by binary `COPY`: no statement to parse, plan
//! or unnest, and no look into the dedupe index before each row's insert as `ON CONFLICT`
//! makes (a tenth of PostgreSQL's time a row, with the unnest a sixth more). A stored key fails
//! the `COPY`, which aborts the transaction; the batch is then written again without the keys
//! stored. Envelopes and sums each go in by one statement that unnests one array per column,
//! whatever the number of rows. sea-orm's values cannot carry arrays with nulls, so this writes
//! through the pool's own driver (sqlx).

use std::collections::HashSet;
use std::sync::Arc;

use sea_orm::sqlx::{self, Postgres, Transaction};
use sea_orm::{DbErr, RuntimeErr};

use crate::entities::usage_ingests;
use crate::entities::usage_records::Model;
use crate::pg_copy::CopyRows;
use crate::usage_batch::{Candidates, settle, unstored};
use crate::usage_records::{COLUMNS, Report, Stored, fields, is_stored_key};
use crate::usage_sums::{self, Bucket, KEYS, SUMMED};
use crate::{Result, Store};

fn sql_err(err: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(err)))
}

fn db_err(err: sqlx::Error) -> crate::Error {
    crate::Error::Db(sql_err(err))
}

pub(crate) async fn insert_reports(store: &Store, reports: &[Report]) -> Result<Vec<Stored>> {
    let pool = store.db().get_postgres_connection_pool();
    let candidates = Candidates::new(reports);
    let rows = candidates.records(reports);
    let mut tx = pool.begin().await.map_err(db_err)?;
    let skipped = match copy_records(&mut tx, &rows).await {
        Ok(()) => HashSet::new(),
        Err(err) if is_stored_key(&err) => {
            tx.rollback().await.map_err(db_err)?;
            tx = pool.begin().await.map_err(db_err)?;
            let stored = stored_keys(&mut tx, &rows).await?;
            // A key another writer stored meanwhile fails this too; `insert_reports` then
            // tries the whole batch again.
            copy_records(&mut tx, &unstored(&rows, &stored)).await?;
            stored
        }
        Err(err) => return Err(crate::Error::Db(err)),
    };
    let settled = settle(reports, candidates, &skipped);
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

/// Inserts `rows` by `COPY`; a stored dedupe key fails it (and the transaction).
async fn copy_records(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[&Model],
) -> std::result::Result<(), DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    // A record of the usual shape takes about 200 bytes.
    let mut data = CopyRows::with_capacity(rows.len() * 256);
    for r in rows {
        data.row(COLUMNS.len());
        fields(r, &mut data);
    }
    let sql = format!(
        "COPY usage_records ({}) FROM STDIN (FORMAT binary)",
        COLUMNS.join(", ")
    );
    let mut copy = tx.copy_in_raw(&sql).await.map_err(sql_err)?;
    copy.send(data.finish()).await.map_err(sql_err)?;
    copy.finish().await.map_err(sql_err)?;
    Ok(())
}

/// The dedupe keys of `rows` that are stored already.
async fn stored_keys(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[&Model],
) -> Result<HashSet<String>> {
    let keys: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.dedupe_key.as_deref())
        .collect();
    let found: Vec<String> =
        sqlx::query_scalar("SELECT dedupe_key FROM usage_records WHERE dedupe_key = ANY($1)")
            .bind(keys)
            .fetch_all(&mut **tx)
            .await
            .map_err(db_err)?;
    Ok(found.into_iter().collect())
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
