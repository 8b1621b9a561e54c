//! Wrapper artifacts published by admins: one row per (platform, version), content inline.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::wrapper_releases::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

/// Release metadata without the content.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct Meta {
    pub platform: String,
    pub version: String,
    pub kind: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub updated_at: i64,
}

/// Inserts or replaces a release.
pub async fn put(db: &impl ConnectionTrait, row: Model) -> Result<()> {
    let row: ActiveModel = row.into();
    Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::Platform, Column::Version])
                .update_columns([
                    Column::Kind,
                    Column::Sha256,
                    Column::SizeBytes,
                    Column::Content,
                    Column::PublishedBy,
                    Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Every release's metadata, newest first (the table holds a handful of rows).
pub async fn list(store: &Store) -> Result<Vec<Meta>> {
    Ok(Entity::find()
        .select_only()
        .columns([
            Column::Platform,
            Column::Version,
            Column::Kind,
            Column::Sha256,
            Column::SizeBytes,
            Column::UpdatedAt,
        ])
        .order_by_desc(Column::UpdatedAt)
        .into_model::<Meta>()
        .all(store.db())
        .await?)
}

pub async fn content(store: &Store, platform: &str, version: &str) -> Result<Option<Vec<u8>>> {
    Ok(
        Entity::find_by_id((platform.to_string(), version.to_string()))
            .one(store.db())
            .await?
            .map(|m| m.content),
    )
}

/// Deletes one release; false when there was none.
pub async fn delete(db: &impl ConnectionTrait, platform: &str, version: &str) -> Result<bool> {
    let res = Entity::delete_many()
        .filter(Column::Platform.eq(platform))
        .filter(Column::Version.eq(version))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}
