use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ingest_id: String,
    pub source: String,
    pub kind: String,
    pub host_id: Option<i64>,
    pub user_id: String,
    pub token_id: String,
    pub provider_id: String,
    pub model: String,
    pub recorded_at: i64,
    pub ingested_at: i64,
    pub session_id: String,
    pub turn_id: String,
    pub response_id: String,
    pub dedupe_key: Option<String>,
    pub total_tokens: i64,
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub cache_write_input_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_output_tokens: i64,
    pub cost_micros: i64,
    pub unpriced: bool,
    pub incomplete: bool,
    pub line: String,
    pub client_ip: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
