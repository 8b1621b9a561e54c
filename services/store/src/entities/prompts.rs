use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "prompts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub filename: String,
    pub description: String,
    pub argument_hint: String,
    pub body: String,
    pub sha256: String,
    pub updated_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set when retired; hosts delete their copies.
    pub deleted_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
