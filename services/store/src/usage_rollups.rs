//! Usage sums over any range and grouping, read from the per-day sums (`usage_daily`) for the
//! whole days of the range, from the per-hour sums (`usage_hourly`) for the whole hours of a
//! day it cuts, and from the records only for the parts of the hours at its two ends: the work
//! grows with the days and keys asked for, not with the rows stored.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::entities::usage_records;
use crate::usage_queries::Filter;
use crate::usage_records::DAY_MS;
use crate::usage_sums::{Bucket, HOUR_MS};
use crate::{Backend, Result, Store};

/// What rows are summed by; `None` sums everything into one group keyed "".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Host,
    User,
    Token,
    Model,
    Source,
    /// Days since the Unix epoch (UTC), as decimal text.
    Day,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromQueryResult)]
pub struct Sums {
    pub row_count: i64,
    pub unpriced_rows: i64,
    pub total_tokens: i64,
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_output_tokens: i64,
    pub cost_micros: i64,
}

impl Sums {
    pub fn add(&mut self, o: &Sums) {
        self.row_count += o.row_count;
        self.unpriced_rows += o.unpriced_rows;
        self.total_tokens += o.total_tokens;
        self.input_tokens += o.input_tokens;
        self.cached_input_tokens += o.cached_input_tokens;
        self.output_tokens += o.output_tokens;
        self.reasoning_output_tokens += o.reasoning_output_tokens;
        self.cost_micros += o.cost_micros;
    }
}

#[derive(FromQueryResult)]
struct Keyed {
    key: Option<String>,
    row_count: Option<i64>,
    unpriced_rows: Option<i64>,
    total_tokens: Option<i64>,
    input_tokens: Option<i64>,
    cached_input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    reasoning_output_tokens: Option<i64>,
    cost_micros: Option<i64>,
}

/// The sums of the rows `filter` selects, per `group`, keys in ascending text order.
pub async fn aggregate(
    store: &Store,
    filter: &Filter,
    group: Option<Group>,
) -> Result<BTreeMap<String, Sums>> {
    let mut out: BTreeMap<String, Sums> = BTreeMap::new();
    for piece in pieces(filter.since, filter.until) {
        let backend = store.backend();
        let (select, day) = match piece {
            Piece::Days(first, end) => (
                from_sums(backend, filter, group, Bucket::Day, first, end),
                None,
            ),
            // Hours and record spans lie within one day, which is their key by day.
            Piece::Hours(from, to) => (
                from_sums(
                    backend,
                    filter,
                    group,
                    Bucket::Hour,
                    Some(from / HOUR_MS),
                    Some(to / HOUR_MS),
                ),
                Some(from),
            ),
            Piece::Records(from, to) => {
                (from_records(backend, filter, group, from, to), Some(from))
            }
        };
        let key = day
            .filter(|_| group == Some(Group::Day))
            .map(|at| at.div_euclid(DAY_MS).to_string());
        merge(store, &select, &mut out, key).await?;
    }
    Ok(out)
}

/// A part of a range read from one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// Whole days [first, end) by day number, each end open when unbounded.
    Days(Option<i64>, Option<i64>),
    /// Whole hours [from, to) in milliseconds, inside one day.
    Hours(i64, i64),
    /// [from, to) in milliseconds from the records, inside one day and at most two hours.
    Records(i64, i64),
}

/// Splits [since, until) into whole days, whole hours of the days it cuts, and what is left.
fn pieces(since: Option<i64>, until: Option<i64>) -> Vec<Piece> {
    let first = since.map(|s| ceil(s, DAY_MS));
    let end = until.map(|u| u.div_euclid(DAY_MS) * DAY_MS);
    let mut out = Vec::new();
    match (since, until) {
        (Some(s), Some(u)) if s >= u => {}
        // No whole day inside: one day cut at both ends, or two days cut at one end each.
        (Some(s), Some(u)) if first.zip(end).is_some_and(|(f, e)| f >= e) => {
            let midnight = u.div_euclid(DAY_MS) * DAY_MS;
            if s < midnight {
                within_day(s, midnight, &mut out);
                within_day(midnight, u, &mut out);
            } else {
                within_day(s, u, &mut out);
            }
        }
        _ => {
            out.push(Piece::Days(
                first.map(|f| f / DAY_MS),
                end.map(|e| e / DAY_MS),
            ));
            if let (Some(s), Some(f)) = (since, first)
                && s < f
            {
                within_day(s, f, &mut out);
            }
            if let (Some(u), Some(e)) = (until, end)
                && e < u
            {
                within_day(e, u, &mut out);
            }
        }
    }
    out
}

/// [from, to), inside one day: its whole hours from the hourly sums, the rest from the records.
fn within_day(from: i64, to: i64, out: &mut Vec<Piece>) {
    if from >= to {
        return;
    }
    let (first, end) = (ceil(from, HOUR_MS), to.div_euclid(HOUR_MS) * HOUR_MS);
    if first >= end {
        out.push(Piece::Records(from, to));
        return;
    }
    out.push(Piece::Hours(first, end));
    if from < first {
        out.push(Piece::Records(from, first));
    }
    if end < to {
        out.push(Piece::Records(end, to));
    }
}

/// `at` rounded up to a multiple of `unit`.
fn ceil(at: i64, unit: i64) -> i64 {
    let floor = at.div_euclid(unit) * unit;
    if floor == at { at } else { floor + unit }
}

async fn merge(
    store: &Store,
    select: &SelectStatement,
    out: &mut BTreeMap<String, Sums>,
    key_override: Option<String>,
) -> Result<()> {
    let stmt = store.db().get_database_backend().build(select);
    for row in store.db().query_all_raw(stmt).await? {
        let k = Keyed::from_query_result(&row, "")?;
        let key = key_override.clone().or(k.key).unwrap_or_default();
        out.entry(key).or_default().add(&Sums {
            row_count: k.row_count.unwrap_or(0),
            unpriced_rows: k.unpriced_rows.unwrap_or(0),
            total_tokens: k.total_tokens.unwrap_or(0),
            input_tokens: k.input_tokens.unwrap_or(0),
            cached_input_tokens: k.cached_input_tokens.unwrap_or(0),
            output_tokens: k.output_tokens.unwrap_or(0),
            reasoning_output_tokens: k.reasoning_output_tokens.unwrap_or(0),
            cost_micros: k.cost_micros.unwrap_or(0),
        });
    }
    Ok(())
}

/// `SUM(expr)` as a 64-bit integer on every backend (PostgreSQL sums bigints as numeric, MySQL
/// as decimal).
fn sum(backend: Backend, expr: SimpleExpr) -> SimpleExpr {
    let int = match backend {
        Backend::MySql => "SIGNED",
        Backend::Sqlite | Backend::Postgres => "BIGINT",
    };
    Func::cast_as(Func::sum(expr), Alias::new(int)).into()
}

/// `expr` as text (`CHAR(n)` would pad on PostgreSQL; MySQL casts only to `CHAR`).
fn text(backend: Backend, expr: SimpleExpr) -> SimpleExpr {
    let t = match backend {
        Backend::MySql => "CHAR",
        Backend::Sqlite | Backend::Postgres => "TEXT",
    };
    Func::cast_as(expr, Alias::new(t)).into()
}

/// The sums of one table over buckets [first, end) (bucket numbers, each end open when
/// unbounded). Grouped by day, the hourly table is read for one day and summed as one.
fn from_sums(
    backend: Backend,
    filter: &Filter,
    group: Option<Group>,
    bucket: Bucket,
    first: Option<i64>,
    end: Option<i64>,
) -> SelectStatement {
    let col = |name: &str| Expr::col(Alias::new(name));
    let mut q = Query::select();
    q.from(Alias::new(bucket.table()));
    let key: Option<SimpleExpr> = match group {
        None => None,
        Some(Group::Host) => Some(text(backend, col("host_id"))),
        Some(Group::User) => Some(col("user_id")),
        Some(Group::Token) => Some(col("token_id")),
        Some(Group::Model) => Some(col("model")),
        Some(Group::Source) => Some(col("source")),
        Some(Group::Day) => match bucket {
            Bucket::Day => Some(text(backend, col("day"))),
            Bucket::Hour => None,
        },
    };
    q.expr_as(
        key.clone().unwrap_or_else(|| text(backend, Expr::val(""))),
        Alias::new("key"),
    );
    for name in crate::usage_sums::SUMMED {
        q.expr_as(sum(backend, col(name)), Alias::new(name));
    }
    if let Some(b) = first {
        q.and_where(col(bucket.column()).gte(b));
    }
    if let Some(b) = end {
        q.and_where(col(bucket.column()).lt(b));
    }
    if let Some(h) = filter.host_id {
        q.and_where(col("host_id").eq(h));
    }
    for (name, value) in [
        ("user_id", &filter.user_id),
        ("token_id", &filter.token_id),
        ("model", &filter.model),
        ("source", &filter.source),
    ] {
        if let Some(v) = value {
            q.and_where(col(name).eq(v.as_str()));
        }
    }
    if let Some(key) = key {
        q.add_group_by([key]);
    }
    q
}

fn from_records(
    backend: Backend,
    filter: &Filter,
    group: Option<Group>,
    from: i64,
    to: i64,
) -> SelectStatement {
    use usage_records::Column as C;
    let mut q = Query::select();
    q.from(usage_records::Entity);
    let key: SimpleExpr = match group {
        None | Some(Group::Day) => text(backend, Expr::val("")),
        // Rows without a host are summed under 0, as in the sums. Written out: with a bound 0,
        // PostgreSQL would not see the GROUP BY as the same expression.
        Some(Group::Host) => text(backend, Expr::cust("COALESCE(host_id, 0)")),
        Some(Group::User) => Expr::col(C::UserId),
        Some(Group::Token) => Expr::col(C::TokenId),
        Some(Group::Model) => Expr::col(C::Model),
        Some(Group::Source) => Expr::col(C::Source),
    };
    q.expr_as(key.clone(), Alias::new("key"));
    q.expr_as(sum(backend, Expr::val(1i64)), Alias::new("row_count"));
    q.expr_as(
        sum(
            backend,
            Expr::case(Expr::col(C::Unpriced).eq(true), 1i64)
                .finally(0i64)
                .into(),
        ),
        Alias::new("unpriced_rows"),
    );
    for (col, name) in [
        (C::TotalTokens, "total_tokens"),
        (C::InputTokens, "input_tokens"),
        (C::CachedInputTokens, "cached_input_tokens"),
        (C::OutputTokens, "output_tokens"),
        (C::ReasoningOutputTokens, "reasoning_output_tokens"),
        (C::CostMicros, "cost_micros"),
    ] {
        q.expr_as(sum(backend, Expr::col(col)), Alias::new(name));
    }
    q.and_where(Expr::col(C::RecordedAt).gte(from))
        .and_where(Expr::col(C::RecordedAt).lt(to));
    if let Some(h) = filter.host_id {
        q.and_where(Expr::col(C::HostId).eq(h));
    }
    if let Some(u) = &filter.user_id {
        q.cond_where(crate::usage_queries::on_partial_index(C::UserId, u));
    }
    if let Some(t) = &filter.token_id {
        q.cond_where(crate::usage_queries::on_partial_index(C::TokenId, t));
    }
    if let Some(m) = &filter.model {
        q.and_where(Expr::col(C::Model).eq(m.as_str()));
    }
    if let Some(s) = &filter.source {
        q.and_where(Expr::col(C::Source).eq(s.as_str()));
    }
    if matches!(
        group,
        Some(Group::Host | Group::User | Group::Token | Group::Model | Group::Source)
    ) {
        q.add_group_by([key]);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 20_000 * DAY_MS;

    /// The milliseconds each piece covers, as [from, to) spans, and checks of each piece's shape.
    fn spans(pieces: &[Piece], lo: i64, hi: i64) -> Vec<(i64, i64)> {
        let mut out: Vec<(i64, i64)> = pieces
            .iter()
            .map(|p| match *p {
                Piece::Days(f, e) => (f.map_or(lo, |f| f * DAY_MS), e.map_or(hi, |e| e * DAY_MS)),
                Piece::Hours(f, t) => {
                    assert!(f % HOUR_MS == 0 && t % HOUR_MS == 0, "{p:?}");
                    assert_eq!(f.div_euclid(DAY_MS), (t - 1).div_euclid(DAY_MS), "{p:?}");
                    (f, t)
                }
                Piece::Records(f, t) => {
                    assert!(t - f < 2 * HOUR_MS, "{p:?}");
                    assert_eq!(f.div_euclid(DAY_MS), (t - 1).div_euclid(DAY_MS), "{p:?}");
                    (f, t)
                }
            })
            .collect();
        out.sort();
        out
    }

    /// Every millisecond of [since, until) is read exactly once, whatever the boundaries.
    #[test]
    fn pieces_cover_the_range_once() {
        let points = [
            T0,
            T0 + 1,
            T0 + HOUR_MS,
            T0 + HOUR_MS + 1,
            T0 + 5 * HOUR_MS + 17,
            T0 + DAY_MS - 1,
            T0 + DAY_MS,
            T0 + DAY_MS + 30 * 60_000,
            T0 + 2 * DAY_MS + 7 * HOUR_MS,
            T0 + 40 * DAY_MS + 23 * HOUR_MS + 59 * 60_000,
        ];
        let bounds = points.iter().map(|p| Some(*p)).chain([None]);
        for since in bounds.clone() {
            for until in bounds.clone() {
                let (lo, hi) = (
                    since.unwrap_or(T0 - 50 * DAY_MS),
                    until.unwrap_or(T0 + 90 * DAY_MS),
                );
                let got = spans(&pieces(since, until), lo, hi);
                let mut at = lo;
                for (f, t) in &got {
                    assert!(f < t, "{since:?}..{until:?}: empty piece in {got:?}");
                    assert_eq!(*f, at, "{since:?}..{until:?}: {got:?}");
                    at = *t;
                }
                let covered = if lo < hi { hi } else { lo };
                assert_eq!(at, covered, "{since:?}..{until:?}: {got:?}");
            }
        }
    }

    #[test]
    fn a_month_from_now_reads_at_most_two_partial_hours_of_records() {
        let since = T0 + 7 * HOUR_MS + 50 * 60_000;
        let got = pieces(Some(since), None);
        assert_eq!(
            got,
            vec![
                Piece::Days(Some(T0 / DAY_MS + 1), None),
                Piece::Hours(T0 + 8 * HOUR_MS, T0 + DAY_MS),
                Piece::Records(since, T0 + 8 * HOUR_MS),
            ]
        );
    }
}
