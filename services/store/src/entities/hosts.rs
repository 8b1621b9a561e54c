use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hosts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub fqdn: String,
    #[sea_orm(unique)]
    pub key_digest: String,
    pub key_prefix: String,
    pub status: String,
    pub secure: bool,
    pub vip: bool,
    pub allow_roaming: bool,
    pub force_ipv4: bool,
    pub curl_insecure: bool,
    pub ip: Option<String>,
    pub insecure_enabled_until: Option<i64>,
    pub insecure_grace_until: Option<i64>,
    pub insecure_window_minutes: i32,
    pub expires_at: Option<i64>,
    pub client_version: Option<String>,
    pub client_version_override: Option<String>,
    pub wrapper_version: Option<String>,
    pub model_override: Option<String>,
    pub reasoning_effort_override: Option<String>,
    pub api_calls: i64,
    pub last_seen_at: Option<i64>,
    pub provisioned_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
