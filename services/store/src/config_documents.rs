//! Versions of the fleet's structured config documents (`config.toml` with its profiles, and
//! `requirements.toml`): append-only per kind, the highest version is current.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use crate::entities::config_documents::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result};

/// The newest version of `kind`, if any was ever saved.
pub async fn latest(db: &impl ConnectionTrait, kind: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Kind.eq(kind))
        .order_by_desc(Column::Version)
        .limit(1)
        .one(db)
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, kind: &str, version: i32) -> Result<Option<Model>> {
    Ok(Entity::find_by_id((kind.to_string(), version))
        .one(db)
        .await?)
}

/// Appends `row` as the next version. Two writers racing for the same version number: the
/// second gets `Conflict` (its optimistic lock lost).
pub async fn append(db: &impl ConnectionTrait, row: Model) -> Result<Model> {
    let active: ActiveModel = row.clone().into();
    match Entity::insert(active).exec(db).await {
        Ok(_) => Ok(row),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(Error::Conflict(format!(
                "{} was changed by someone else; reload and retry",
                row.kind
            )))
        }
        Err(err) => Err(err.into()),
    }
}

/// Versions of `kind` newest first, without their bodies, from `offset`.
pub async fn list(
    db: &impl ConnectionTrait,
    kind: &str,
    offset: u64,
    limit: u64,
) -> Result<Vec<Model>> {
    let rows = Entity::find()
        .filter(Column::Kind.eq(kind))
        .order_by_desc(Column::Version)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Model {
            model: String::new(),
            rendered: String::new(),
            ..r
        })
        .collect())
}
