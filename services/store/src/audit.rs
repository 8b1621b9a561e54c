//! The append-only audit log. There is no update or delete here on purpose.

use codex_central_common::Principal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::entities::audit_log::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store, now_ms};

/// One row to append, made by [`NewAuditEvent::new`] or [`NewAuditEvent::without_principal`].
/// `details` is a small JSON object with context; it must never hold secrets.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    actor_kind: String,
    actor: String,
    action: String,
    target: String,
    client_ip: String,
    details: serde_json::Value,
}

impl NewAuditEvent {
    /// `principal` did `action` to `target` from `client_ip` ("" when unknown).
    pub fn new(
        principal: &Principal,
        client_ip: &str,
        action: &str,
        target: impl Into<String>,
    ) -> Self {
        NewAuditEvent {
            actor_kind: principal.kind_name().into(),
            actor: principal.audit_actor(),
            action: action.into(),
            target: target.into(),
            client_ip: client_ip.into(),
            details: serde_json::Value::Null,
        }
    }

    /// An action no authenticated principal took: the server itself (`system:pruner`), an
    /// anonymous caller (a failed sign-in), a person while signing in (`user:<id>`) or a
    /// single-use link (`seed:link`). The actor kind is the part of `actor` before the colon.
    pub fn without_principal(
        actor: &str,
        client_ip: &str,
        action: &str,
        target: impl Into<String>,
    ) -> Self {
        let kind = actor.split_once(':').map_or(actor, |(kind, _)| kind);
        NewAuditEvent {
            actor_kind: kind.into(),
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            client_ip: client_ip.into(),
            details: serde_json::Value::Null,
        }
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Who asked for a change and from where: what the domain functions of audited changes take.
#[derive(Debug, Clone)]
pub struct Actor {
    pub principal: Principal,
    pub client_ip: String,
}

impl Actor {
    /// This actor did `action` to `target`.
    pub fn event(&self, action: &str, target: impl Into<String>) -> NewAuditEvent {
        NewAuditEvent::new(&self.principal, &self.client_ip, action, target)
    }
}

/// Appends a row on `db`: pass the transaction of the change being recorded, so the change and
/// its audit row commit (or fail) together. Only an action that changes no data (a refused
/// sign-in, a reveal) appends on its own.
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

/// Appends `event` in `txn` and commits: the change made in `txn` and its audit row land
/// together, or neither does (dropping an uncommitted transaction rolls it back).
pub async fn commit(txn: DatabaseTransaction, event: NewAuditEvent) -> Result<()> {
    append(&txn, event).await?;
    txn.commit().await?;
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
