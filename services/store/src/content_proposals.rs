//! Prompts and skills pushed by hosts while the fleet reviews host pushes.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::content_proposals::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const REJECTED: &str = "rejected";

pub async fn insert(db: &impl ConnectionTrait, row: Model) -> Result<Model> {
    let active: ActiveModel = row.clone().into();
    Entity::insert(active).exec(db).await?;
    Ok(row)
}

/// A pending proposal with exactly this content for this item, if one exists (a host that
/// pushes the same edit on every run creates one proposal, not one per run).
pub async fn find_pending(
    db: &impl ConnectionTrait,
    kind: &str,
    item_key: &str,
    content_sha256: &str,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Kind.eq(kind))
        .filter(Column::ContentSha256.eq(content_sha256))
        .filter(Column::State.eq(PENDING))
        .filter(Column::ItemKey.eq(item_key))
        .one(db)
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id.to_string()).one(db).await?)
}

/// Newest first; `state` empty for every state.
pub async fn list(store: &Store, state: &str, offset: u64, limit: u64) -> Result<Vec<Model>> {
    let mut q = Entity::find();
    if !state.is_empty() {
        q = q.filter(Column::State.eq(state));
    }
    Ok(q.order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .offset(offset)
        .limit(limit)
        .all(store.db())
        .await?)
}

/// Decides a pending proposal. Returns false when it was no longer pending.
pub async fn decide(
    db: &impl ConnectionTrait,
    id: &str,
    state: &str,
    by: &str,
    at: i64,
    reason: &str,
) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::State, Expr::value(state))
        .col_expr(Column::DecidedBy, Expr::value(by))
        .col_expr(Column::DecidedAt, Expr::value(at))
        .col_expr(Column::Reason, Expr::value(reason))
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(PENDING))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}
