//! Local users seen running Codex on a host.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use crate::entities::host_users::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

/// Records (or refreshes) one user on one host.
pub async fn record(
    store: &Store,
    host_id: i64,
    username: &str,
    hostname: &str,
    now: i64,
) -> Result<()> {
    let row = ActiveModel {
        host_id: Set(host_id),
        username: Set(username.to_string()),
        hostname: Set(hostname.to_string()),
        first_seen: Set(now),
        last_seen: Set(now),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::HostId, Column::Username])
                .update_columns([Column::Hostname, Column::LastSeen])
                .to_owned(),
        )
        .exec(store.db())
        .await?;
    Ok(())
}

/// The users of a host, most recently seen first (bounded).
pub async fn list(store: &Store, host_id: i64, limit: u64) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::HostId.eq(host_id))
        .order_by_desc(Column::LastSeen)
        .limit(limit)
        .all(store.db())
        .await?)
}
