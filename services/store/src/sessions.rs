//! Browser sessions. The cookie value is never stored, only its SHA-256, and every request looks
//! the session up, so logout, revocation and disabling a user take effect at once everywhere.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entities::sessions::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

/// The sliding expiry is pushed forward at most this often, so an active browser costs one
/// write a minute rather than one per request.
const SLIDE_RESOLUTION_MS: i64 = 60_000;

pub async fn insert(db: &impl ConnectionTrait, session: Model) -> Result<Model> {
    let active: ActiveModel = session.into();
    Ok(active.insert(db).await?)
}

/// The unexpired session with this digest.
pub async fn find_live(store: &Store, digest: &str, now: i64) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::TokenDigest.eq(digest))
        .filter(Column::ExpiresAt.gt(now))
        .one(store.db())
        .await?)
}

/// Moves the expiry to `now + ttl_ms` when the last slide is older than the resolution.
pub async fn slide(store: &Store, id: &str, now: i64, ttl_ms: i64) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::LastSeenAt, Expr::value(now))
        .col_expr(Column::ExpiresAt, Expr::value(now + ttl_ms))
        .filter(Column::Id.eq(id))
        .filter(Column::LastSeenAt.lt(now - SLIDE_RESOLUTION_MS))
        .exec(store.db())
        .await?;
    Ok(())
}

pub async fn delete_by_digest(db: &impl ConnectionTrait, digest: &str) -> Result<bool> {
    Ok(Entity::delete_many()
        .filter(Column::TokenDigest.eq(digest))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Deletes one of `user_id`'s sessions by its public id.
pub async fn delete_for_user(store: &Store, user_id: &str, id: &str) -> Result<bool> {
    Ok(Entity::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .exec(store.db())
        .await?
        .rows_affected
        > 0)
}

/// Signs a user out everywhere (disabled, deleted, password reset).
pub async fn delete_all_for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// A user's live sessions, newest first (ids are UUIDv7); `before_id` is the previous page's
/// last id.
pub async fn list_for_user(
    store: &Store,
    user_id: &str,
    now: i64,
    before_id: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut query = Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::ExpiresAt.gt(now));
    if let Some(id) = before_id {
        query = query.filter(Column::Id.lt(id));
    }
    Ok(query
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(store.db())
        .await?)
}

pub async fn prune_expired(store: &Store, now: i64) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(store.db())
        .await?
        .rows_affected)
}
