//! Per-host additions to the baked files: an extra `config.toml` block, a default profile and
//! an extra `requirements.toml` block.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::Result;
use crate::entities::host_config_overrides::{ActiveModel, Column, Entity, Model};

pub async fn get(db: &impl ConnectionTrait, host_id: i64) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(host_id).one(db).await?)
}

/// Inserts or replaces the host's overrides.
pub async fn put(db: &impl ConnectionTrait, row: Model) -> Result<Model> {
    let active: ActiveModel = row.clone().into();
    Entity::insert(active)
        .on_conflict(
            OnConflict::column(Column::HostId)
                .update_columns([
                    Column::ExtraToml,
                    Column::DefaultProfile,
                    Column::RequirementsToml,
                    Column::UpdatedBy,
                    Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(row)
}

/// Removes the host's overrides; false when it had none.
pub async fn delete(db: &impl ConnectionTrait, host_id: i64) -> Result<bool> {
    Ok(Entity::delete_by_id(host_id).exec(db).await?.rows_affected > 0)
}

/// Points overrides that name profile `from` at `to`.
pub async fn rename_profile(db: &impl ConnectionTrait, from: &str, to: &str) -> Result<u64> {
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    Ok(Entity::update_many()
        .col_expr(Column::DefaultProfile, Expr::value(to))
        .filter(Column::DefaultProfile.eq(from))
        .exec(db)
        .await?
        .rows_affected)
}

/// A host whose override names profile `name` as its default, if any.
pub async fn first_with_profile(db: &impl ConnectionTrait, name: &str) -> Result<Option<i64>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(Entity::find()
        .filter(Column::DefaultProfile.eq(name))
        .one(db)
        .await?
        .map(|r| r.host_id))
}

/// Every host's overrides (a handful in practice: they are set by hand).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Model>> {
    Ok(Entity::find().all(db).await?)
}
