//! Per-user client config history: `initial` kept forever, the newest others kept up to a cap.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::Result;
use crate::entities::client_config_entries::{ActiveModel, Column, Entity, Model};

pub const INITIAL: &str = "initial";

pub async fn insert(db: &impl ConnectionTrait, row: Model) -> Result<Model> {
    let active: ActiveModel = row.clone().into();
    Entity::insert(active).exec(db).await?;
    Ok(row)
}

pub async fn get(db: &impl ConnectionTrait, user_id: &str, id: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id.to_string())
        .filter(Column::UserId.eq(user_id))
        .one(db)
        .await?)
}

/// The user's entries newest first.
pub async fn list(db: &impl ConnectionTrait, user_id: &str) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .all(db)
        .await?)
}

pub async fn has_initial(db: &impl ConnectionTrait, user_id: &str) -> Result<bool> {
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Kind.eq(INITIAL))
        .limit(1)
        .one(db)
        .await?
        .is_some())
}

/// Deletes the user's non-initial entries beyond the newest `keep`; returns how many.
pub async fn prune(db: &impl ConnectionTrait, user_id: &str, keep: u64) -> Result<u64> {
    // A user has a dozen rows at most: skip in memory rather than rely on OFFSET without
    // LIMIT, which MySQL does not have.
    let ids: Vec<String> = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Kind.ne(INITIAL))
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let stale: Vec<String> = ids
        .into_iter()
        .skip(usize::try_from(keep).unwrap_or(usize::MAX))
        .collect();
    if stale.is_empty() {
        return Ok(0);
    }
    Ok(Entity::delete_many()
        .filter(Column::Id.is_in(stale))
        .exec(db)
        .await?
        .rows_affected)
}
