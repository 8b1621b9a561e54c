use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "client_config_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    /// initial, apply, restore or import.
    pub kind: String,
    pub provider_id: String,
    pub model: String,
    pub note: String,
    pub config_toml: String,
    /// Imported auth.json, encrypted; empty for exports.
    pub auth_json_enc: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
