use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proxy_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: i64,
    pub user_id: String,
    pub token_id: String,
    pub host_id: Option<i64>,
    pub provider_id: String,
    pub requested_model: String,
    pub upstream_model: String,
    pub key_source: String,
    pub endpoint: String,
    pub streamed: bool,
    pub status_code: i32,
    pub error_code: String,
    pub latency_ms: i64,
    pub ttfb_ms: i64,
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_output_tokens: i64,
    pub total_tokens: i64,
    pub client_ip: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
