use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mcp_access_logs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: i64,
    pub principal_kind: String,
    pub principal_id: String,
    pub principal_name: String,
    pub client_ip: String,
    pub method: String,
    pub target: String,
    pub http_status: i32,
    pub is_error: bool,
    pub error: String,
    pub duration_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
