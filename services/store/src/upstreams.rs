//! Upstream provider rows and runtime overrides.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, SqlErr};

use crate::entities::{runtime_overrides, upstream_providers};
use crate::{Error, Result, Store};

pub async fn list(store: &Store) -> Result<Vec<upstream_providers::Model>> {
    Ok(upstream_providers::Entity::find()
        .order_by_asc(upstream_providers::Column::Id)
        .all(store.db())
        .await?)
}

pub async fn get(store: &Store, id: &str) -> Result<Option<upstream_providers::Model>> {
    Ok(upstream_providers::Entity::find_by_id(id.to_string())
        .one(store.db())
        .await?)
}

pub async fn insert(db: &impl ConnectionTrait, row: upstream_providers::Model) -> Result<()> {
    let active: upstream_providers::ActiveModel = row.into();
    active.insert(db).await.map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::Conflict("a provider with this name already exists".into())
        }
        _ => Error::Db(err),
    })?;
    Ok(())
}

pub async fn update(db: &impl ConnectionTrait, row: upstream_providers::Model) -> Result<()> {
    let active: upstream_providers::ActiveModel = row.into();
    let active = active.reset_all();
    upstream_providers::Entity::update(active).exec(db).await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool> {
    Ok(upstream_providers::Entity::delete_by_id(id.to_string())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

pub async fn get_override(
    store: &Store,
    user_id: &str,
) -> Result<Option<runtime_overrides::Model>> {
    Ok(runtime_overrides::Entity::find_by_id(user_id.to_string())
        .one(store.db())
        .await?)
}

pub async fn set_override(db: &impl ConnectionTrait, row: runtime_overrides::Model) -> Result<()> {
    let active: runtime_overrides::ActiveModel = row.into();
    let active = active.reset_all();
    runtime_overrides::Entity::insert(active)
        .on_conflict(
            OnConflict::column(runtime_overrides::Column::UserId)
                .update_columns([
                    runtime_overrides::Column::ProviderId,
                    runtime_overrides::Column::Model,
                    runtime_overrides::Column::SetAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

pub async fn clear_override(db: &impl ConnectionTrait, user_id: &str) -> Result<bool> {
    Ok(runtime_overrides::Entity::delete_by_id(user_id.to_string())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}
