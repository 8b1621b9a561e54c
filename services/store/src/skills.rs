//! Skills, one row per slug; retired ones stay (with `deleted_at`) so hosts delete them.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};

use crate::entities::skills::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, Store};

/// Every skill without its manifest and files, by slug.
pub async fn list(store: &Store, include_retired: bool) -> Result<Vec<Model>> {
    let mut q = Entity::find().select_only().columns([
        Column::Id,
        Column::Slug,
        Column::DisplayName,
        Column::Description,
        Column::Sha256,
        Column::UpdatedBy,
        Column::CreatedAt,
        Column::UpdatedAt,
        Column::DeletedAt,
    ]);
    if !include_retired {
        q = q.filter(Column::DeletedAt.is_null());
    }
    Ok(q.column_as(Expr::val(""), Column::Manifest)
        .column_as(Expr::val("[]"), Column::Files)
        .order_by_asc(Column::Slug)
        .into_model::<Model>()
        .all(store.db())
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, slug: &str) -> Result<Option<Model>> {
    Ok(Entity::find().filter(Column::Slug.eq(slug)).one(db).await?)
}

/// Inserts a new skill; a concurrent insert of the same slug is a `Conflict`.
pub async fn insert(db: &impl ConnectionTrait, row: Model) -> Result<Model> {
    let active: ActiveModel = row.clone().into();
    match Entity::insert(active).exec(db).await {
        Ok(_) => Ok(row),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(Error::Conflict(format!(
                "skill {} was created concurrently; retry",
                row.slug
            )))
        }
        Err(err) => Err(err.into()),
    }
}

/// Replaces a skill's content if it still has `expected_sha256`. Returns whether it changed.
pub async fn replace(
    db: &impl ConnectionTrait,
    row: &Model,
    expected_sha256: &str,
) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::DisplayName, Expr::value(row.display_name.clone()))
        .col_expr(Column::Description, Expr::value(row.description.clone()))
        .col_expr(Column::Manifest, Expr::value(row.manifest.clone()))
        .col_expr(Column::Files, Expr::value(row.files.clone()))
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

/// Marks a skill retired. Returns whether a live skill was retired.
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
