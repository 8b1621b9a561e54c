//! Hosts: registration rows, key lookup by digest, and the narrow conditional updates the
//! host-facing path makes (each one a single statement, so replicas never race on them).

use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr,
};

use crate::entities::hosts::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, Store, host_changes};

pub async fn insert(db: &impl ConnectionTrait, host: Model) -> Result<Model> {
    let mut active: ActiveModel = host.into();
    active.id = sea_orm::ActiveValue::NotSet;
    active.insert(db).await.map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::Conflict("a host with this fqdn already exists".into())
        }
        _ => Error::Db(err),
    })
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound("Host not found".into()))
}

/// The fqdns of the hosts among `ids` (ones that are gone are left out).
pub async fn fqdns(store: &Store, ids: Vec<i64>) -> Result<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Fqdn)
        .filter(Column::Id.is_in(ids))
        .into_tuple()
        .all(store.db())
        .await?)
}

pub async fn find_by_fqdn(store: &Store, fqdn: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Fqdn.eq(fqdn))
        .one(store.db())
        .await?)
}

pub async fn find_by_key_digest(store: &Store, digest: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::KeyDigest.eq(digest))
        .one(store.db())
        .await?)
}

/// Filters for [`list`]; empty/None mean "any".
#[derive(Debug, Clone, Default)]
pub struct HostFilter {
    /// Substring of the fqdn.
    pub query: String,
    pub status: Option<String>,
    pub insecure_only: bool,
}

fn filtered(filter: &HostFilter) -> sea_orm::Select<Entity> {
    let mut q = Entity::find();
    if !filter.query.is_empty() {
        q = q.filter(Column::Fqdn.contains(filter.query.as_str()));
    }
    if let Some(status) = &filter.status {
        q = q.filter(Column::Status.eq(status.as_str()));
    }
    if filter.insecure_only {
        q = q.filter(Column::Secure.eq(false));
    }
    q
}

/// Oldest first, keyset-paginated by id.
pub async fn list(
    store: &Store,
    filter: &HostFilter,
    after_id: Option<i64>,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut q = filtered(filter);
    if let Some(id) = after_id {
        q = q.filter(Column::Id.gt(id));
    }
    Ok(q.order_by_asc(Column::Id)
        .limit(limit)
        .all(store.db())
        .await?)
}

pub async fn count(store: &Store, filter: &HostFilter) -> Result<u64> {
    Ok(filtered(filter).count(store.db()).await?)
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<bool> {
    let deleted = Entity::delete_by_id(id).exec(db).await?.rows_affected == 1;
    if deleted {
        host_changes::record(db, id, crate::now_ms()).await?;
    }
    Ok(deleted)
}

/// Replaces a host's key (the old one stops working at once).
pub async fn set_key(
    db: &impl ConnectionTrait,
    id: i64,
    digest: &str,
    prefix: &str,
    now: i64,
) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::KeyDigest, Expr::value(digest))
        .col_expr(Column::KeyPrefix, Expr::value(prefix))
        .col_expr(Column::Ip, Expr::value(Option::<String>::None))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    host_changes::record(db, id, now).await
}

/// Binds `ip` to the host. With `only_if_unbound`, only a host that has no IP yet is bound
/// (the first caller wins when two race). Returns whether the row changed.
pub async fn bind_ip(
    store: &Store,
    id: i64,
    ip: &str,
    only_if_unbound: bool,
    now: i64,
) -> Result<bool> {
    let mut q = Entity::update_many()
        .col_expr(Column::Ip, Expr::value(ip))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id));
    if only_if_unbound {
        q = q.filter(Column::Ip.is_null());
    }
    let changed = q.exec(store.db()).await?.rows_affected == 1;
    if changed {
        host_changes::record(store.db(), id, now).await?;
    }
    Ok(changed)
}

/// Moves a time column forward (never backwards).
pub async fn extend(store: &Store, id: i64, column: Column, until: i64) -> Result<()> {
    let res = Entity::update_many()
        .col_expr(column, Expr::value(until))
        .filter(Column::Id.eq(id))
        .filter(Condition::any().add(column.is_null()).add(column.lt(until)))
        .exec(store.db())
        .await?;
    if res.rows_affected > 0 {
        host_changes::record(store.db(), id, crate::now_ms()).await?;
    }
    Ok(())
}

/// Coalesced activity of one host since the last flush.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    pub id: i64,
    pub calls: i64,
    pub last_seen: i64,
    pub client_version: Option<String>,
    pub wrapper_version: Option<String>,
    /// The host may never have been used before (its `provisioned_at` gets `last_seen`).
    pub first_use: bool,
}

/// Hosts per statement: one `UPDATE … CASE` per chunk keeps a flush to a handful of statements
/// however many hosts called (at 100,000 hosts a statement per host would saturate SQLite).
const ACTIVITY_CHUNK: usize = 128;

/// Folds coalesced activity into the rows, in one transaction.
pub async fn record_activity(store: &Store, batch: &[Activity]) -> Result<()> {
    use sea_orm::TransactionTrait;
    if batch.is_empty() {
        return Ok(());
    }
    let txn = store.db().begin().await?;
    for chunk in batch.chunks(ACTIVITY_CHUNK) {
        // Padded (a repeated host changes nothing: its first `WHEN` wins), so any number of
        // hosts needs one of eight statement texts, not one cached statement per count.
        let chunk = crate::batch::padded_to_power_of_two(chunk);
        let ids: Vec<i64> = chunk.iter().map(|a| a.id).collect();
        let mut calls = sea_orm::sea_query::CaseStatement::new();
        let mut seen = sea_orm::sea_query::CaseStatement::new();
        for a in &chunk {
            calls = calls.case(
                Column::Id.eq(a.id),
                Expr::col(Column::ApiCalls).add(a.calls),
            );
            seen = seen.case(Column::Id.eq(a.id), Expr::value(a.last_seen));
        }
        let calls = calls.finally(Expr::col(Column::ApiCalls));
        let seen = seen.finally(Expr::col(Column::LastSeenAt));
        // `updated_at` is the time of the last change to the host's settings, not of its calls.
        Entity::update_many()
            .col_expr(Column::ApiCalls, calls.into())
            .col_expr(Column::LastSeenAt, seen.into())
            .filter(Column::Id.is_in(ids))
            .exec(&txn)
            .await?;
        // First use is kept: only a host that was never provisioned gets the time.
        let first: Vec<i64> = chunk.iter().filter(|a| a.first_use).map(|a| a.id).collect();
        let first = crate::batch::padded_to_power_of_two(&first);
        if !first.is_empty() {
            Entity::update_many()
                .col_expr(Column::ProvisionedAt, Expr::col(Column::LastSeenAt))
                .filter(Column::Id.is_in(first))
                .filter(Column::ProvisionedAt.is_null())
                .exec(&txn)
                .await?;
        }
    }
    // Versions change rarely (an upgrade): one statement per host that reported a new one.
    for a in batch {
        if a.client_version.is_none() && a.wrapper_version.is_none() {
            continue;
        }
        let mut q = Entity::update_many().filter(Column::Id.eq(a.id));
        if let Some(v) = &a.client_version {
            q = q.col_expr(Column::ClientVersion, Expr::value(v.as_str()));
        }
        if let Some(v) = &a.wrapper_version {
            q = q.col_expr(Column::WrapperVersion, Expr::value(v.as_str()));
        }
        q.exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Sets the given columns of one host (and `updated_at`). Returns the updated row.
pub async fn update_columns(
    db: &impl ConnectionTrait,
    id: i64,
    changes: Vec<(Column, sea_orm::Value)>,
    now: i64,
) -> Result<Model> {
    let mut q = Entity::update_many()
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id));
    for (column, value) in changes {
        q = q.col_expr(column, Expr::value(value));
    }
    q.exec(db).await?;
    host_changes::record(db, id, now).await?;
    get(db, id).await
}

/// Forgets what a host synced (its sync-state row).
pub async fn clear_sync_state(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    use crate::entities::host_sync_states;
    host_sync_states::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Hosts the pruning rules select (SPEC §4): expired temporary hosts, hosts inactive for longer
/// than `inactive_before` (0 = rule off), and hosts never used within the grace period.
pub async fn prunable(
    store: &Store,
    now: i64,
    inactive_before: Option<i64>,
    unprovisioned_before: i64,
) -> Result<Vec<Model>> {
    let mut rule = Condition::any().add(Column::ExpiresAt.lt(now)).add(
        // Never used: no first-use IP binding either (bound synchronously on first call),
        // so a host whose activity is still waiting to be flushed is never taken for unused.
        Condition::all()
            .add(Column::ProvisionedAt.is_null())
            .add(Column::Ip.is_null())
            .add(Column::CreatedAt.lt(unprovisioned_before))
            .add(
                Condition::any()
                    .add(Column::ExpiresAt.is_null())
                    .add(Column::ExpiresAt.lt(now)),
            ),
    );
    if let Some(before) = inactive_before {
        rule = rule.add(
            Condition::all()
                .add(Column::LastSeenAt.is_not_null())
                .add(Column::LastSeenAt.lt(before)),
        );
    }
    Ok(Entity::find()
        .filter(rule)
        .limit(10_000)
        .all(store.db())
        .await?)
}

/// Fleet totals for the overview.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub total: u64,
    pub active_since: u64,
    pub disabled: u64,
    pub insecure_open: u64,
    pub latest_activity: Option<i64>,
}

pub async fn totals(store: &Store, now: i64, active_since: i64) -> Result<Totals> {
    let db = store.db();
    let total = Entity::find().count(db).await?;
    let active = Entity::find()
        .filter(Column::LastSeenAt.gte(active_since))
        .count(db)
        .await?;
    let disabled = Entity::find()
        .filter(Column::Status.ne("active"))
        .count(db)
        .await?;
    let insecure_open = Entity::find()
        .filter(Column::Secure.eq(false))
        .filter(Column::InsecureEnabledUntil.gte(now))
        .count(db)
        .await?;
    let latest = Entity::find()
        .filter(Column::LastSeenAt.is_not_null())
        .order_by_desc(Column::LastSeenAt)
        .one(db)
        .await?
        .and_then(|h| h.last_seen_at);
    Ok(Totals {
        total,
        active_since: active,
        disabled,
        insecure_open,
        latest_activity: latest,
    })
}
