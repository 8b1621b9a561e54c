//! ChatGPT rate-limit observations, per account (empty: the fleet's canonical account), newest
//! last. Hosts report what Codex saw; the server's own poll adds its readings.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::quota_snapshots::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

pub async fn insert(store: &Store, snapshot: Model) -> Result<Model> {
    Entity::insert(ActiveModel::from(snapshot.clone()))
        .exec_without_returning(store.db())
        .await?;
    Ok(snapshot)
}

/// The newest observation of an account.
pub async fn latest(store: &Store, account_id: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::AccountId.eq(account_id))
        .order_by_desc(Column::ObservedAt)
        .order_by_desc(Column::Id)
        .one(store.db())
        .await?)
}

/// The newest observation of an account from before `at`.
pub async fn latest_before(store: &Store, account_id: &str, at: i64) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::AccountId.eq(account_id))
        .filter(Column::ObservedAt.lt(at))
        .order_by_desc(Column::ObservedAt)
        .order_by_desc(Column::Id)
        .one(store.db())
        .await?)
}

/// Observations of an account within [since, until), newest first, after the (observed_at,
/// id) position `before` when given; at most `limit`.
pub async fn list(
    store: &Store,
    account_id: &str,
    since: Option<i64>,
    until: Option<i64>,
    before: Option<(i64, String)>,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut q = Entity::find().filter(Column::AccountId.eq(account_id));
    if let Some(since) = since {
        q = q.filter(Column::ObservedAt.gte(since));
    }
    if let Some(until) = until {
        q = q.filter(Column::ObservedAt.lt(until));
    }
    if let Some((at, id)) = before {
        q = q.filter(
            sea_orm::Condition::any()
                .add(Column::ObservedAt.lt(at))
                .add(
                    sea_orm::Condition::all()
                        .add(Column::ObservedAt.eq(at))
                        .add(Column::Id.lt(id)),
                ),
        );
    }
    Ok(q.order_by_desc(Column::ObservedAt)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(store.db())
        .await?)
}
