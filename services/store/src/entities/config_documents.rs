use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "config_documents")]
pub struct Model {
    /// Which document: "config" (config.toml and its profiles) or "requirements".
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    /// The structured model as JSON.
    pub model: String,
    /// The base file rendered when the version was saved.
    pub rendered: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub note: String,
    pub updated_by: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
