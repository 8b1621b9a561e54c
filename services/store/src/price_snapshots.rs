//! Price snapshots: a model's prices in force from `effective_at` until the model's next
//! snapshot. One snapshot per (model, effective_at).

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::price_snapshots::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, Store};

/// Every snapshot of `models` (all models when empty), oldest first per model.
pub async fn list(store: &Store, models: &[String]) -> Result<Vec<Model>> {
    let mut q = Entity::find();
    if !models.is_empty() {
        q = q.filter(Column::Model.is_in(models.iter().map(String::as_str)));
    }
    Ok(q.order_by_asc(Column::Model)
        .order_by_asc(Column::EffectiveAt)
        .all(store.db())
        .await?)
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id.to_string()).one(store.db()).await?)
}

/// Adds a snapshot; `Conflict` when the model already has one from that instant.
pub async fn insert(db: &impl ConnectionTrait, snapshot: Model) -> Result<Model> {
    let res = Entity::insert(ActiveModel::from(snapshot.clone()))
        .exec_without_returning(db)
        .await;
    match res {
        Ok(_) => Ok(snapshot),
        Err(err)
            if matches!(
                err.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Err(Error::Conflict(format!(
                "{} already has a price from that instant",
                snapshot.model
            )))
        }
        Err(err) => Err(err.into()),
    }
}

/// Adds the snapshots not stored yet (by model and instant), in one transaction; returns how
/// many were added. Used for the shipped table and for pulls.
pub async fn insert_missing(store: &Store, snapshots: Vec<Model>) -> Result<usize> {
    let txn = store.begin_write().await?;
    let existing: Vec<(String, i64)> = {
        use sea_orm::QuerySelect;
        Entity::find()
            .select_only()
            .column(Column::Model)
            .column(Column::EffectiveAt)
            .into_tuple()
            .all(&txn)
            .await?
    };
    let existing: std::collections::HashSet<(String, i64)> = existing.into_iter().collect();
    let fresh: Vec<ActiveModel> = snapshots
        .into_iter()
        .filter(|s| !existing.contains(&(s.model.clone(), s.effective_at)))
        .map(ActiveModel::from)
        .collect();
    let added = fresh.len();
    crate::batch::insert_in_fixed_chunks(&txn, fresh).await?;
    txn.commit().await?;
    Ok(added)
}

/// Removes a snapshot; false when there was none.
pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool> {
    let res = Entity::delete_by_id(id.to_string()).exec(db).await?;
    Ok(res.rows_affected == 1)
}
