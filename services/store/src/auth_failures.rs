//! Per-IP budget of failed authentications. The counter is incremented atomically in the
//! database (an upsert with `count + 1`), so the budget holds across replicas.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::entities::auth_failures::{ActiveModel, Column, Entity};
use crate::{Result, Store};

#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub max_failures: i32,
    pub window_ms: i64,
    pub block_ms: i64,
}

/// `Some(until)` while `ip` is blocked.
pub async fn blocked_until(store: &Store, ip: &str, now: i64) -> Result<Option<i64>> {
    let row = Entity::find_by_id(ip.to_string()).one(store.db()).await?;
    Ok(row
        .and_then(|r| r.blocked_until)
        .filter(|until| *until > now))
}

/// Counts one failure for `ip`; returns `Some(until)` when this failure exhausted the budget.
pub async fn record_failure(
    store: &Store,
    ip: &str,
    now: i64,
    budget: Budget,
) -> Result<Option<i64>> {
    // A window that has run out starts again from zero (and any old block is lifted).
    Entity::update_many()
        .col_expr(Column::Count, Expr::value(0))
        .col_expr(Column::WindowStart, Expr::value(now))
        .col_expr(Column::BlockedUntil, Expr::value(Option::<i64>::None))
        .filter(Column::Ip.eq(ip))
        .filter(Column::WindowStart.lt(now - budget.window_ms))
        .filter(
            Column::BlockedUntil
                .is_null()
                .or(Column::BlockedUntil.lt(now)),
        )
        .exec(store.db())
        .await?;
    let row = ActiveModel {
        ip: Set(ip.to_string()),
        count: Set(1),
        window_start: Set(now),
        blocked_until: Set(None),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::Ip)
                .value(Column::Count, Expr::col((Entity, Column::Count)).add(1))
                .to_owned(),
        )
        .exec(store.db())
        .await?;
    let count = Entity::find_by_id(ip.to_string())
        .one(store.db())
        .await?
        .map(|r| r.count)
        .unwrap_or(0);
    if count < budget.max_failures {
        return Ok(None);
    }
    let until = now + budget.block_ms;
    Entity::update_many()
        .col_expr(Column::BlockedUntil, Expr::value(until))
        .filter(Column::Ip.eq(ip))
        .filter(Column::BlockedUntil.is_null())
        .exec(store.db())
        .await?;
    Ok(Some(until))
}

/// Deletes rows whose window ran out before `window_before` and that block nobody now: they
/// would be reset on the next failure anyway, and each failing address would otherwise keep one.
pub async fn prune(store: &Store, window_before: i64, now: i64) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::WindowStart.lt(window_before))
        .filter(
            Column::BlockedUntil
                .is_null()
                .or(Column::BlockedUntil.lt(now)),
        )
        .exec(store.db())
        .await?
        .rows_affected)
}
