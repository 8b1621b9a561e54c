//! The host change log: every write that can change how a host authenticates appends a row in
//! the same transaction; replicas read the recent rows once a second to drop cached hosts.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::entities::host_changes::{ActiveModel, Column, Entity};
use crate::{Result, Store};

pub async fn record(db: &impl ConnectionTrait, host_id: i64, now: i64) -> Result<()> {
    Entity::insert(ActiveModel {
        id: sea_orm::NotSet,
        host_id: Set(host_id),
        changed_at: Set(now),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// `(host_id, changed_at)` of changes at or after `since` (ms), at most `limit`.
pub async fn since(store: &Store, since: i64, limit: u64) -> Result<Vec<(i64, i64)>> {
    Ok(Entity::find()
        .select_only()
        .columns([Column::HostId, Column::ChangedAt])
        .filter(Column::ChangedAt.gte(since))
        .limit(limit)
        .into_tuple()
        .all(store.db())
        .await?)
}

/// Deletes rows older than `before` (ms); they are only read for a few seconds.
pub async fn prune(store: &Store, before: i64) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::ChangedAt.lt(before))
        .exec(store.db())
        .await?
        .rows_affected)
}
