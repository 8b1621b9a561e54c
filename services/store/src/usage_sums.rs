//! The sums every aggregate reads instead of the records: per UTC day (`usage_daily`) and per
//! UTC hour (`usage_hourly`), keyed alike by host, person, token, model and source. They are
//! changed only in the transaction that changes the records they sum.

use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Alias, Expr, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};

use crate::entities::usage_records::Model;
use crate::usage_records::DAY_MS;
use crate::{Backend, Result};

pub const HOUR_MS: i64 = 3_600_000;

/// One of the two sum tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Hour,
}

impl Bucket {
    pub const ALL: [Bucket; 2] = [Bucket::Day, Bucket::Hour];

    pub fn table(self) -> &'static str {
        match self {
            Bucket::Day => "usage_daily",
            Bucket::Hour => "usage_hourly",
        }
    }

    /// The column numbering the bucket since the Unix epoch.
    pub fn column(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Hour => "hour",
        }
    }

    pub fn ms(self) -> i64 {
        match self {
            Bucket::Day => DAY_MS,
            Bucket::Hour => HOUR_MS,
        }
    }
}

/// The summed columns, in the order of [`Delta`]'s fields.
pub const SUMMED: [&str; 8] = [
    "row_count",
    "unpriced_rows",
    "total_tokens",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "cost_micros",
];

pub(crate) const KEYS: [&str; 5] = ["host_id", "user_id", "token_id", "model", "source"];

/// A sum's key: bucket number, host (0: none or deleted), person, token, model, source.
pub(crate) type Key<'a> = (i64, i64, &'a str, &'a str, &'a str, &'a str);

/// What to add to one sum, in [`SUMMED`] order.
pub(crate) type Delta = [i64; 8];

/// A sum's key without its bucket: host, person, token, model, source.
type Label<'a> = (i64, &'a str, &'a str, &'a str, &'a str);

fn label(r: &Model) -> Label<'_> {
    (
        r.host_id.unwrap_or(0),
        &r.user_id,
        &r.token_id,
        &r.model,
        &r.source,
    )
}

fn key(bucket: Bucket, r: &Model) -> Key<'_> {
    let (host, user, token, model, source) = label(r);
    (
        r.recorded_at.div_euclid(bucket.ms()),
        host,
        user,
        token,
        model,
        source,
    )
}

/// What newly stored `records` add to the sums of `bucket`, in key order (the order in which
/// writers lock sums, so that concurrent ones cannot deadlock each other).
pub(crate) fn of_records<'a>(bucket: Bucket, records: &[&'a Model]) -> BTreeMap<Key<'a>, Delta> {
    // A batch's rows share a few labels (host, person, token, model, source): each row's label
    // is found by its hash and the sums are kept by number, so that the strings are compared
    // only to order the few sums at the end (comparing them for every row in a BTreeMap was
    // the ingest writer's largest cost on PostgreSQL).
    let mut labels: HashMap<Label<'a>, usize> = HashMap::new();
    let mut sums: HashMap<(i64, usize), Delta> = HashMap::new();
    for r in records {
        let next = labels.len();
        let at = *labels.entry(label(r)).or_insert(next);
        let d = sums
            .entry((r.recorded_at.div_euclid(bucket.ms()), at))
            .or_default();
        for (sum, v) in d.iter_mut().zip([
            1,
            i64::from(r.unpriced),
            r.total_tokens,
            r.input_tokens,
            r.cached_input_tokens,
            r.output_tokens,
            r.reasoning_output_tokens,
            r.cost_micros,
        ]) {
            *sum += v;
        }
    }
    let mut named: Vec<Option<Label<'a>>> = vec![None; labels.len()];
    for (label, at) in labels {
        named[at] = Some(label);
    }
    sums.into_iter()
        .filter_map(|((n, at), d)| {
            let (host, user, token, model, source) = named[at]?;
            Some(((n, host, user, token, model, source), d))
        })
        .collect()
}

/// Adds newly stored `records` to their days' and hours' sums.
pub(crate) async fn add_records(
    db: &impl ConnectionTrait,
    backend: Backend,
    records: &[&Model],
) -> Result<()> {
    for bucket in Bucket::ALL {
        add(db, backend, bucket, of_records(bucket, records)).await?;
    }
    Ok(())
}

/// Applies repricing (old, new) to the sums: cost by its difference, the unpriced count by
/// one up or down per row whose flag changed; row and token counts stay.
pub(crate) async fn add_differences(
    db: &impl ConnectionTrait,
    backend: Backend,
    changed: &[(Model, Model)],
) -> Result<()> {
    for bucket in Bucket::ALL {
        let mut sums: BTreeMap<Key, Delta> = BTreeMap::new();
        for (old, new) in changed {
            let d = sums.entry(key(bucket, new)).or_default();
            d[1] += i64::from(new.unpriced) - i64::from(old.unpriced);
            d[7] += new.cost_micros - old.cost_micros;
        }
        add(db, backend, bucket, sums).await?;
    }
    Ok(())
}

/// Keys per statement: 14 values each stays far below every backend's parameter limit.
const CHUNK: usize = 500;

/// Upserts `sums` in key order (a BTreeMap's), so that concurrent writers lock sums in one
/// order and cannot deadlock each other; a few statements rather than one per key.
async fn add(
    db: &impl ConnectionTrait,
    backend: Backend,
    bucket: Bucket,
    sums: BTreeMap<Key<'_>, Delta>,
) -> Result<()> {
    let sums: Vec<(Key, Delta)> = sums.into_iter().collect();
    for chunk in sums.chunks(CHUNK) {
        let mut insert = Query::insert();
        insert.into_table(Alias::new(bucket.table())).columns(
            std::iter::once(bucket.column())
                .chain(KEYS)
                .chain(SUMMED)
                .map(Alias::new),
        );
        for (k, d) in chunk {
            let mut values: Vec<Expr> = vec![
                Expr::val(k.0),
                Expr::val(k.1),
                Expr::val(k.2),
                Expr::val(k.3),
                Expr::val(k.4),
                Expr::val(k.5),
            ];
            values.extend(d.iter().map(|v| Expr::val(*v)));
            insert
                .values(values)
                .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        insert.on_conflict(adding(backend, bucket));
        let stmt = db.get_database_backend().build(&insert);
        db.execute_raw(stmt).await?;
    }
    Ok(())
}

/// The upsert's conflict clause: add the incoming numbers to the stored ones.
fn adding(backend: Backend, bucket: Bucket) -> OnConflict {
    let mut conflict =
        OnConflict::columns(std::iter::once(bucket.column()).chain(KEYS).map(Alias::new));
    let table = bucket.table();
    for name in SUMMED {
        let incoming = match backend {
            Backend::MySql => format!("VALUES({name})"),
            Backend::Sqlite | Backend::Postgres => format!("excluded.{name}"),
        };
        conflict.value(
            Alias::new(name),
            Expr::cust(format!("{table}.{name} + {incoming}")),
        );
    }
    conflict
}
