//! Service tokens for tooling. Only the SHA-256 digest of a token is stored.

use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entities::service_tokens::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, Store};

/// Coalesces `last_used_at` writes: a token used many times a second is written at most once a
/// minute, so authentication never turns every request into a database write.
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
        .ok_or_else(|| Error::NotFound(format!("service token {id} not found")))
}

/// Newest first; ids are UUIDv7 so they sort by creation time. `before_id` is the last id of
/// the previous page.
pub async fn list(
    store: &Store,
    include_revoked: bool,
    before_id: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut query = Entity::find();
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

/// Marks a token revoked (idempotent: revoking twice keeps the first time).
pub async fn revoke(db: &impl ConnectionTrait, id: &str, now: i64) -> Result<Model> {
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
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
