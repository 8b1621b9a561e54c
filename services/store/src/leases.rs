//! Named leases with an expiry, for jobs that must run once across all replicas (token refresh,
//! pruning, pricing pulls). Every step is a single conditional statement whose affected-row count
//! decides the outcome, so it is atomic on SQLite, PostgreSQL and MySQL alike.

use std::time::Duration;

use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, SqlErr};

use crate::entities::leases::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store, now_ms};

/// Takes the lease `name` for `holder` for `ttl` when it is free, expired, or already held by
/// `holder` (then it is extended). Returns whether `holder` now holds it.
pub async fn acquire(store: &Store, name: &str, holder: &str, ttl: Duration) -> Result<bool> {
    let now = now_ms();
    let expires = now + ttl_ms(ttl);
    let updated = Entity::update_many()
        .col_expr(Column::Holder, Expr::value(holder))
        .col_expr(Column::AcquiredAt, Expr::value(now))
        .col_expr(Column::ExpiresAt, Expr::value(expires))
        .filter(Column::Name.eq(name))
        .filter(
            Condition::any()
                .add(Column::Holder.eq(holder))
                .add(Column::ExpiresAt.lte(now)),
        )
        .exec(store.db())
        .await?;
    if updated.rows_affected == 1 {
        return Ok(true);
    }
    let row = ActiveModel {
        name: Set(name.to_string()),
        holder: Set(holder.to_string()),
        acquired_at: Set(now),
        expires_at: Set(expires),
    };
    match Entity::insert(row).exec(store.db()).await {
        Ok(_) => Ok(true),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            // Someone else holds it, or (MySQL reports 0 changed rows when nothing changed) we do.
            Ok(current(store, name)
                .await?
                .is_some_and(|l| l.holder == holder && l.expires_at > now))
        }
        Err(err) => Err(err.into()),
    }
}

/// Extends a lease `holder` still holds. Returns false when it expired or was taken over, in
/// which case the caller must stop the work it guards.
pub async fn renew(store: &Store, name: &str, holder: &str, ttl: Duration) -> Result<bool> {
    let now = now_ms();
    let updated = Entity::update_many()
        .col_expr(Column::ExpiresAt, Expr::value(now + ttl_ms(ttl)))
        .filter(Column::Name.eq(name))
        .filter(Column::Holder.eq(holder))
        .filter(Column::ExpiresAt.gt(now))
        .exec(store.db())
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Gives a lease up early. Returns whether `holder` held it.
pub async fn release(store: &Store, name: &str, holder: &str) -> Result<bool> {
    let deleted = Entity::delete_many()
        .filter(Column::Name.eq(name))
        .filter(Column::Holder.eq(holder))
        .exec(store.db())
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// The lease row as stored (possibly expired).
pub async fn current(store: &Store, name: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(name.to_string()).one(store.db()).await?)
}

/// Runs `job` every `interval` on whichever replica holds the lease `name` (taken for twice the
/// interval, so it passes to another replica when its holder stops). The job reports its own
/// failures; a failure to take the lease is logged and retried at the next tick.
pub fn spawn_every<F, Fut>(
    store: Store,
    name: &'static str,
    holder: String,
    interval: Duration,
    mut job: F,
) -> tokio::task::JoinHandle<()>
where
    F: FnMut(Store) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        loop {
            match acquire(&store, name, &holder, interval * 2).await {
                Ok(true) => job(store.clone()).await,
                Ok(false) => {}
                Err(err) => tracing::warn!(lease = name, error = %err, "could not take a lease"),
            }
            tokio::time::sleep(interval).await;
        }
    })
}

fn ttl_ms(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2)
}
