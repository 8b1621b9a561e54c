//! Versions of the fleet's `AGENTS.md`: append-only, the highest version is current.

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect, SqlErr};

use crate::entities::agents_documents::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, Store};

/// The newest version (a cleared one included), if any was ever saved.
pub async fn latest(db: &impl ConnectionTrait) -> Result<Option<Model>> {
    Ok(Entity::find()
        .order_by_desc(Column::Version)
        .limit(1)
        .one(db)
        .await?)
}

/// Appends `row` as the next version. Two writers racing for the same version number: the
/// second gets `Conflict` (the caller's optimistic lock lost).
pub async fn append(db: &impl ConnectionTrait, row: Model) -> Result<Model> {
    let active: ActiveModel = row.clone().into();
    match Entity::insert(active).exec(db).await {
        Ok(_) => Ok(row),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Err(
            Error::Conflict("AGENTS.md was changed by someone else; reload and retry".into()),
        ),
        Err(err) => Err(err.into()),
    }
}

/// Versions newest first, without their content, from `offset`.
pub async fn list(store: &Store, offset: u64, limit: u64) -> Result<Vec<Model>> {
    let rows = Entity::find()
        .order_by_desc(Column::Version)
        .offset(offset)
        .limit(limit)
        .all(store.db())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Model {
            content: String::new(),
            ..r
        })
        .collect())
}

pub async fn count(store: &Store) -> Result<u64> {
    Ok(Entity::find().count(store.db()).await?)
}
