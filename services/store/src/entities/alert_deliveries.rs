use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub alert_id: String,
    pub url: String,
    pub attempt: i32,
    pub status: String,
    pub due_at: i64,
    pub attempted_at: Option<i64>,
    pub status_code: Option<i32>,
    pub error: String,
    pub duration_ms: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::usage_alerts::Entity",
        from = "Column::AlertId",
        to = "super::usage_alerts::Column::Id"
    )]
    Alert,
}

impl Related<super::usage_alerts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Alert.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
