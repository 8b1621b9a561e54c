//! The append-only audit log. There is no update or delete here on purpose.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entities::audit_log::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store, now_ms};

/// One row to append. `details` is a small JSON object with context; it must never hold secrets.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub actor_kind: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub client_ip: String,
    pub details: serde_json::Value,
}

/// Appends a row on `db`: pass the transaction of the change being recorded, so the change and
/// its audit row commit (or fail) together.
pub async fn append(db: &impl ConnectionTrait, event: NewAuditEvent) -> Result<()> {
    let row = ActiveModel {
        at: Set(now_ms()),
        actor_kind: Set(clip(event.actor_kind, 32)),
        actor: Set(clip(event.actor, 191)),
        action: Set(clip(event.action, 64)),
        target: Set(clip(event.target, 191)),
        client_ip: Set(clip(event.client_ip, 64)),
        details: Set(event.details.to_string()),
        ..Default::default()
    };
    Entity::insert(row).exec(db).await?;
    Ok(())
}

/// Filters for [`list`]; empty strings mean "any".
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: String,
    pub action: String,
    pub target: String,
}

/// Newest first, keyset-paginated by id: pass the last id of the previous page as `before_id`.
pub async fn list(
    store: &Store,
    filter: &AuditFilter,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut query = Entity::find();
    if !filter.actor.is_empty() {
        query = query.filter(Column::Actor.eq(filter.actor.as_str()));
    }
    if !filter.action.is_empty() {
        query = query.filter(Column::Action.eq(filter.action.as_str()));
    }
    if !filter.target.is_empty() {
        query = query.filter(Column::Target.eq(filter.target.as_str()));
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

/// Columns are bounded; cut on a character boundary rather than fail the audited action.
fn clip(mut value: String, max: usize) -> String {
    if value.len() > max {
        let mut end = max;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
    }
    value
}
