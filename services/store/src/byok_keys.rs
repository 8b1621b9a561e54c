//! Per-user upstream keys, stored sealed with the master key.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::byok_keys::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

/// Inserts or replaces the key (`created_at` of an existing row is kept).
pub async fn upsert(db: &impl ConnectionTrait, row: Model) -> Result<()> {
    let active: ActiveModel = row.into();
    Entity::insert(active)
        .on_conflict(
            OnConflict::columns([Column::UserId, Column::ProviderId])
                .update_columns([Column::Ciphertext, Column::Suffix, Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

pub async fn get(store: &Store, user_id: &str, provider_id: &str) -> Result<Option<Model>> {
    Ok(
        Entity::find_by_id((user_id.to_string(), provider_id.to_string()))
            .one(store.db())
            .await?,
    )
}

pub async fn list_for_user(store: &Store, user_id: &str) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .order_by_asc(Column::ProviderId)
        .all(store.db())
        .await?)
}

/// Every stored key (master key rotation re-encrypts them).
pub async fn list_all(store: &Store) -> Result<Vec<Model>> {
    Ok(Entity::find().all(store.db()).await?)
}

/// Replaces a ciphertext if it is still `old` (rotation racing a user's own update loses).
pub async fn swap_ciphertext(store: &Store, row: &Model, new: String) -> Result<bool> {
    use sea_orm::sea_query::Expr;
    Ok(Entity::update_many()
        .col_expr(Column::Ciphertext, Expr::value(new))
        .filter(Column::UserId.eq(row.user_id.as_str()))
        .filter(Column::ProviderId.eq(row.provider_id.as_str()))
        .filter(Column::Ciphertext.eq(row.ciphertext.as_str()))
        .exec(store.db())
        .await?
        .rows_affected
        == 1)
}

pub async fn delete(db: &impl ConnectionTrait, user_id: &str, provider_id: &str) -> Result<bool> {
    Ok(Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::ProviderId.eq(provider_id))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

pub async fn delete_all_for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}
