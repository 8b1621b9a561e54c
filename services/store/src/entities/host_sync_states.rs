use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "host_sync_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub host_id: i64,
    pub seen_digest: String,
    pub client_last_refresh: String,
    pub outcome: String,
    pub seen_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
