//! What each host last synced (digest seen, its `last_refresh`, the outcome, when).

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::entities::host_sync_states::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

pub async fn upsert(store: &Store, state: Model) -> Result<()> {
    let row = ActiveModel {
        host_id: Set(state.host_id),
        seen_digest: Set(state.seen_digest),
        client_last_refresh: Set(state.client_last_refresh),
        outcome: Set(state.outcome),
        seen_at: Set(state.seen_at),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::HostId)
                .update_columns([
                    Column::SeenDigest,
                    Column::ClientLastRefresh,
                    Column::Outcome,
                    Column::SeenAt,
                ])
                .to_owned(),
        )
        .exec(store.db())
        .await?;
    Ok(())
}

pub async fn get(store: &Store, host_id: i64) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(host_id).one(store.db()).await?)
}

/// Every host's state in host id order, `limit` rows after `after` (keyset paging).
pub async fn list(store: &Store, after: Option<i64>, limit: u64) -> Result<Vec<Model>> {
    let mut query = Entity::find().order_by_asc(Column::HostId).limit(limit);
    if let Some(after) = after {
        query = query.filter(Column::HostId.gt(after));
    }
    Ok(query.all(store.db()).await?)
}
