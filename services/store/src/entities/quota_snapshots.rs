use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "quota_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub account_id: String,
    pub source: String,
    pub host_id: Option<i64>,
    pub plan_type: String,
    pub primary_used_percent: Option<f64>,
    pub primary_window_minutes: Option<i32>,
    pub primary_resets_at: Option<i64>,
    pub secondary_used_percent: Option<f64>,
    pub secondary_window_minutes: Option<i32>,
    pub secondary_resets_at: Option<i64>,
    pub limit_reached: bool,
    pub credits_json: String,
    pub observed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
