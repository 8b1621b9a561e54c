use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "codex_auth_lifecycle")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub last_attempt_at: Option<i64>,
    pub last_success_at: Option<i64>,
    pub last_error_code: String,
    #[sea_orm(column_type = "Text")]
    pub last_error: String,
    pub consecutive_failures: i32,
    pub next_attempt_at: Option<i64>,
    pub blocked_token_sha: String,
    pub in_flight_token_sha: String,
    pub in_flight_holder: String,
    pub in_flight_at: Option<i64>,
    #[sea_orm(column_type = "Text")]
    pub pending_answer_enc: String,
    pub pending_at: Option<i64>,
    pub validation_state: String,
    #[sea_orm(column_type = "Text")]
    pub validation_reason: String,
    pub validation_at: Option<i64>,
    pub validation_latency_ms: i64,
    pub validation_probe_ran: bool,
    pub validation_applied: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
