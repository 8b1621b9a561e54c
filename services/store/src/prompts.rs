//! Slash-command prompts, one row per file name; retired ones stay (with `deleted_at`) so
//! hosts learn to delete their copies.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use crate::entities::prompts::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, Store};

/// Every prompt without its body, by file name.
pub async fn list(store: &Store, include_retired: bool) -> Result<Vec<Model>> {
    let mut q = Entity::find().select_only().columns([
        Column::Id,
        Column::Filename,
        Column::Description,
        Column::ArgumentHint,
        Column::Sha256,
        Column::UpdatedBy,
        Column::CreatedAt,
        Column::UpdatedAt,
        Column::DeletedAt,
    ]);
    if !include_retired {
        q = q.filter(Column::DeletedAt.is_null());
    }
    Ok(q.column_as(Expr::val(""), Column::Body)
        .order_by_asc(Column::Filename)
        .into_model::<Model>()
        .all(store.db())
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, filename: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Filename.eq(filename))
        .one(db)
        .await?)
}

/// Inserts a new prompt; a concurrent insert of the same file name is a `Conflict`.
pub async fn insert(db: &impl ConnectionTrait, row: Model) -> Result<Model> {
    let active: ActiveModel = row.clone().into();
    match Entity::insert(active).exec(db).await {
        Ok(_) => Ok(row),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Err(
            Error::Conflict(format!("{} was created concurrently; retry", row.filename)),
        ),
        Err(err) => Err(err.into()),
    }
}

/// Replaces a prompt's content if it still has `expected_sha256` (compare-and-set, so two
/// editors never silently overwrite each other). Returns whether it changed.
pub async fn replace(
    db: &impl ConnectionTrait,
    row: &Model,
    expected_sha256: &str,
) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::Description, Expr::value(row.description.clone()))
        .col_expr(Column::ArgumentHint, Expr::value(row.argument_hint.clone()))
        .col_expr(Column::Body, Expr::value(row.body.clone()))
        .col_expr(Column::Sha256, Expr::value(row.sha256.clone()))
        .col_expr(Column::UpdatedBy, Expr::value(row.updated_by.clone()))
        .col_expr(Column::UpdatedAt, Expr::value(row.updated_at))
        .col_expr(Column::DeletedAt, Expr::value(row.deleted_at))
        .filter(Column::Id.eq(row.id.clone()))
        .filter(Column::Sha256.eq(expected_sha256))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Marks a prompt retired. Returns whether a live prompt was retired.
pub async fn retire(db: &impl ConnectionTrait, id: &str, by: &str, at: i64) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::DeletedAt, Expr::value(at))
        .col_expr(Column::UpdatedAt, Expr::value(at))
        .col_expr(Column::UpdatedBy, Expr::value(by))
        .filter(Column::Id.eq(id))
        .filter(Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}
