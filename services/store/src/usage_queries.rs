//! Reading usage: records and ingest envelopes newest first, a page at a time by their
//! (time, id) position, with the filters every usage query shares.

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::{usage_ingests, usage_records};
use crate::{Result, Store};

/// Empty fields match everything; times are a half-open [since, until) in Unix ms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub host_id: Option<i64>,
    pub user_id: Option<String>,
    pub token_id: Option<String>,
    pub model: Option<String>,
    pub source: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Records matching `filter`, newest first, after `before` ((recorded_at, id)); at most `limit`.
pub async fn records(
    store: &Store,
    filter: &Filter,
    before: Option<(i64, i64)>,
    limit: u64,
) -> Result<Vec<usage_records::Model>> {
    use usage_records::Column as C;
    let mut q = usage_records::Entity::find();
    if let Some(h) = filter.host_id {
        q = q.filter(C::HostId.eq(h));
    }
    if let Some(u) = &filter.user_id {
        q = q.filter(on_partial_index(C::UserId, u));
    }
    if let Some(t) = &filter.token_id {
        q = q.filter(on_partial_index(C::TokenId, t));
    }
    if let Some(m) = &filter.model {
        q = q.filter(C::Model.eq(m.as_str()));
    }
    if let Some(s) = &filter.source {
        q = q.filter(C::Source.eq(s.as_str()));
    }
    if let Some(since) = filter.since {
        q = q.filter(C::RecordedAt.gte(since));
    }
    if let Some(until) = filter.until {
        q = q.filter(C::RecordedAt.lt(until));
    }
    if let Some((at, id)) = before {
        q = q.filter(
            Condition::any()
                .add(C::RecordedAt.lt(at))
                .add(Condition::all().add(C::RecordedAt.eq(at)).add(C::Id.lt(id))),
        );
    }
    Ok(q.order_by_desc(C::RecordedAt)
        .order_by_desc(C::Id)
        .limit(limit)
        .all(store.db())
        .await?)
}

/// Envelopes matching `filter` (host, user, time; the other fields do not apply), newest
/// first, after `before` ((received_at, id)); at most `limit`.
pub async fn ingests(
    store: &Store,
    filter: &Filter,
    before: Option<(i64, String)>,
    limit: u64,
) -> Result<Vec<usage_ingests::Model>> {
    use usage_ingests::Column as C;
    let mut q = usage_ingests::Entity::find();
    if let Some(h) = filter.host_id {
        q = q.filter(C::HostId.eq(h));
    }
    if let Some(u) = &filter.user_id {
        q = q.filter(C::UserId.eq(u.as_str()));
    }
    if let Some(since) = filter.since {
        q = q.filter(C::ReceivedAt.gte(since));
    }
    if let Some(until) = filter.until {
        q = q.filter(C::ReceivedAt.lt(until));
    }
    if let Some((at, id)) = before {
        q = q.filter(
            Condition::any()
                .add(C::ReceivedAt.lt(at))
                .add(Condition::all().add(C::ReceivedAt.eq(at)).add(C::Id.lt(id))),
        );
    }
    Ok(q.order_by_desc(C::ReceivedAt)
        .order_by_desc(C::Id)
        .limit(limit)
        .all(store.db())
        .await?)
}

/// How the peer's ingest pages are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOrder {
    ReceivedAt,
    TotalTokens,
    Cost,
}

/// One numbered page of envelopes (the peer's pages), with the number of envelopes matching:
/// `q` matches an ingest id exactly or the start of a client IP.
pub async fn ingests_page(
    store: &Store,
    filter: &Filter,
    q: &str,
    order: IngestOrder,
    ascending: bool,
    offset: u64,
    limit: u64,
) -> Result<(Vec<usage_ingests::Model>, u64)> {
    use sea_orm::PaginatorTrait;
    use usage_ingests::Column as C;
    let mut query = usage_ingests::Entity::find();
    if let Some(h) = filter.host_id {
        query = query.filter(C::HostId.eq(h));
    }
    if let Some(u) = &filter.user_id {
        query = query.filter(C::UserId.eq(u.as_str()));
    }
    if let Some(since) = filter.since {
        query = query.filter(C::ReceivedAt.gte(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(C::ReceivedAt.lt(until));
    }
    let q = q.trim();
    if !q.is_empty() {
        query = query.filter(
            Condition::any()
                .add(C::Id.eq(q))
                .add(C::ClientIp.starts_with(q)),
        );
    }
    let total = query.clone().count(store.db()).await?;
    let col = match order {
        IngestOrder::ReceivedAt => C::ReceivedAt,
        IngestOrder::TotalTokens => C::TotalTokens,
        IngestOrder::Cost => C::CostMicros,
    };
    let dir = if ascending {
        sea_orm::Order::Asc
    } else {
        sea_orm::Order::Desc
    };
    let rows = query
        .order_by(col, dir.clone())
        .order_by(C::Id, dir)
        .offset(offset)
        .limit(limit)
        .all(store.db())
        .await?;
    Ok((rows, total))
}

/// `column = value` for a usage record's person or token, and `column <> ''` too when the value
/// is not empty: those indexes leave out empty values (migration m0024), and a PostgreSQL
/// generic plan uses such an index only when the query states its condition as it is written
/// there, a literal rather than a bound value.
pub(crate) fn on_partial_index(column: usage_records::Column, value: &str) -> sea_orm::Condition {
    let mut cond = sea_orm::Condition::all().add(column.eq(value));
    if !value.is_empty() {
        cond = cond.add(not_empty(column));
    }
    cond
}

/// `usage_records.column <> ''`, the literal a partial index's condition is matched against.
fn not_empty(column: usage_records::Column) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::{Iden, sea_query::Expr};
    Expr::cust(format!("usage_records.{} <> ''", column.to_string()))
}
