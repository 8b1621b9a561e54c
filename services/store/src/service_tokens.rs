//! Service tokens for tooling. Only the SHA-256 digest of a token is stored.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QuerySelect};

use crate::entities::service_tokens::{ActiveModel, Column, Entity, Model};
use crate::token_table::{self, TokenTable};
use crate::{Result, Store};

impl TokenTable for Entity {
    const NOT_FOUND: &'static str = "service token not found";
    fn id() -> Column {
        Column::Id
    }
    fn digest() -> Column {
        Column::TokenDigest
    }
    fn revoked_at() -> Column {
        Column::RevokedAt
    }
    fn last_used_at() -> Column {
        Column::LastUsedAt
    }
}

pub async fn insert(db: &impl ConnectionTrait, token: Model) -> Result<Model> {
    let active: ActiveModel = token.into();
    Ok(active.insert(db).await?)
}

pub async fn find_by_digest(store: &Store, digest: &str) -> Result<Option<Model>> {
    token_table::find_by_digest::<Entity>(store, digest).await
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Model> {
    token_table::get::<Entity>(db, id).await
}

/// Newest first; `before_id` is the last id of the previous page.
pub async fn list(
    store: &Store,
    include_revoked: bool,
    before_id: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>> {
    Ok(
        token_table::page(Entity::find(), include_revoked, before_id)
            .limit(limit)
            .all(store.db())
            .await?,
    )
}

/// Marks a token revoked (idempotent: revoking twice keeps the first time).
pub async fn revoke(db: &impl ConnectionTrait, id: &str, now: i64) -> Result<Model> {
    token_table::revoke::<Entity>(db, id, sea_orm::Condition::all(), now).await?;
    get(db, id).await
}

pub async fn touch_last_used(store: &Store, id: &str, now: i64) -> Result<()> {
    token_table::touch_last_used::<Entity>(store, id, now).await
}
