//! Usage sums over any range and grouping, read from the per-day sums (`usage_daily`) for the
//! whole days of the range and from the records only for the parts of its first and last day
//! it cuts: the work grows with the days and keys asked for, not with the rows stored.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::entities::{usage_daily, usage_records};
use crate::usage_queries::Filter;
use crate::usage_records::DAY_MS;
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
    let (first_day, end_day) = whole_days(filter.since, filter.until);
    let mut out: BTreeMap<String, Sums> = BTreeMap::new();
    if first_day.is_none_or(|f| end_day.is_none_or(|e| f < e)) {
        let select = from_daily(store.backend(), filter, group, first_day, end_day);
        merge(store, &select, &mut out, None).await?;
    }
    // The cut parts of the first and last day, from the records.
    let mut edges: Vec<(i64, i64)> = Vec::new();
    if let Some(since) = filter.since {
        let day_end = (since.div_euclid(DAY_MS) + 1) * DAY_MS;
        if since % DAY_MS != 0 {
            edges.push((
                since,
                filter.until.map_or(day_end, |u| Ord::min(u, day_end)),
            ));
        }
    }
    if let Some(until) = filter.until {
        let day_start = until.div_euclid(DAY_MS) * DAY_MS;
        let start = filter.since.map_or(day_start, |s| Ord::max(s, day_start));
        if until % DAY_MS != 0 && !edges.contains(&(start, until)) && start < until {
            edges.push((start, until));
        }
    }
    for (from, to) in edges {
        let select = from_records(store.backend(), filter, group, from, to);
        let day = (group == Some(Group::Day)).then(|| from.div_euclid(DAY_MS).to_string());
        merge(store, &select, &mut out, day).await?;
    }
    Ok(out)
}

/// The whole days inside [since, until): [first, end), each open when unbounded.
fn whole_days(since: Option<i64>, until: Option<i64>) -> (Option<i64>, Option<i64>) {
    let first = since.map(|s| {
        let d = s.div_euclid(DAY_MS);
        if s % DAY_MS == 0 { d } else { d + 1 }
    });
    let end = until.map(|u| u.div_euclid(DAY_MS));
    (first, end)
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

fn from_daily(
    backend: Backend,
    filter: &Filter,
    group: Option<Group>,
    first_day: Option<i64>,
    end_day: Option<i64>,
) -> SelectStatement {
    use usage_daily::Column as C;
    let mut q = Query::select();
    q.from(usage_daily::Entity);
    let key: SimpleExpr = match group {
        None => text(backend, Expr::val("")),
        Some(Group::Host) => text(backend, Expr::col(C::HostId)),
        Some(Group::User) => Expr::col(C::UserId),
        Some(Group::Token) => Expr::col(C::TokenId),
        Some(Group::Model) => Expr::col(C::Model),
        Some(Group::Source) => Expr::col(C::Source),
        Some(Group::Day) => text(backend, Expr::col(C::Day)),
    };
    q.expr_as(key.clone(), Alias::new("key"));
    for (col, name) in [
        (C::RowCount, "row_count"),
        (C::UnpricedRows, "unpriced_rows"),
        (C::TotalTokens, "total_tokens"),
        (C::InputTokens, "input_tokens"),
        (C::CachedInputTokens, "cached_input_tokens"),
        (C::OutputTokens, "output_tokens"),
        (C::ReasoningOutputTokens, "reasoning_output_tokens"),
        (C::CostMicros, "cost_micros"),
    ] {
        q.expr_as(sum(backend, Expr::col(col)), Alias::new(name));
    }
    if let Some(d) = first_day {
        q.and_where(Expr::col(C::Day).gte(d));
    }
    if let Some(d) = end_day {
        q.and_where(Expr::col(C::Day).lt(d));
    }
    if let Some(h) = filter.host_id {
        q.and_where(Expr::col(C::HostId).eq(h));
    }
    if let Some(u) = &filter.user_id {
        q.and_where(Expr::col(C::UserId).eq(u.as_str()));
    }
    if let Some(t) = &filter.token_id {
        q.and_where(Expr::col(C::TokenId).eq(t.as_str()));
    }
    if let Some(m) = &filter.model {
        q.and_where(Expr::col(C::Model).eq(m.as_str()));
    }
    if let Some(s) = &filter.source {
        q.and_where(Expr::col(C::Source).eq(s.as_str()));
    }
    if group.is_some() {
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
        // Hosts deleted since are summed under 0, as in the per-day sums. Written out: with a
        // bound 0, PostgreSQL would not see the GROUP BY as the same expression.
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
        q.and_where(Expr::col(C::UserId).eq(u.as_str()));
    }
    if let Some(t) = &filter.token_id {
        q.and_where(Expr::col(C::TokenId).eq(t.as_str()));
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
