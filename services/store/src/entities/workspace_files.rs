use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workspace_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner_kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner_id: String,
    /// UTF-8 stored as bytes, so comparisons are bytewise on every backend.
    #[sea_orm(primary_key, auto_increment = false)]
    pub path: Vec<u8>,
    pub content_id: String,
    pub size_bytes: i64,
    pub chunk_count: i32,
    pub content_sha: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
