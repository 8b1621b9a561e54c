//! Personal API tokens (`m2c_…`). Only the SHA-256 digest of a token is stored.

use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entities::personal_tokens::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, Store};

/// `last_used_at` is written at most once a minute per token.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

pub async fn insert(db: &impl ConnectionTrait, token: Model) -> Result<Model> {
    let active: ActiveModel = token.into();
    Ok(active.insert(db).await?)
}

pub async fn find_by_digest(store: &Store, digest: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::TokenDigest.eq(digest))
        .one(store.db())
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Model> {
    Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound("Token not found".into()))
}

/// A user's tokens, newest first (UUIDv7 ids); `before_id` is the previous page's last id.
pub async fn list_for_user(
    store: &Store,
    user_id: &str,
    include_revoked: bool,
    before_id: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut query = Entity::find().filter(Column::UserId.eq(user_id));
    if !include_revoked {
        query = query.filter(Column::RevokedAt.is_null());
    }
    if let Some(id) = before_id {
        query = query.filter(Column::Id.lt(id));
    }
    Ok(query
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(store.db())
        .await?)
}

pub async fn count_active_for_user(store: &Store, user_id: &str) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .count(store.db())
        .await?)
}

/// Revokes one of `user_id`'s tokens (idempotent: the first revocation time is kept). Writes
/// before it reads, so in a SQLite transaction it takes the write lock first.
pub async fn revoke(db: &impl ConnectionTrait, user_id: &str, id: &str, now: i64) -> Result<Model> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    let token = get(db, id).await?;
    if token.user_id != user_id {
        return Err(Error::NotFound("Token not found".into()));
    }
    Ok(token)
}

pub async fn set_policy(db: &impl ConnectionTrait, id: &str, policy: String) -> Result<Model> {
    Entity::update_many()
        .col_expr(Column::Policy, Expr::value(policy))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    get(db, id).await
}

pub async fn touch_last_used(store: &Store, id: &str, now: i64) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::LastUsedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(Column::LastUsedAt.is_null())
                .add(Column::LastUsedAt.lt(now - LAST_USED_RESOLUTION_MS)),
        )
        .exec(store.db())
        .await?;
    Ok(())
}

/// Removes a deleted user's tokens.
pub async fn delete_all_for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}
