use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "content_proposals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `prompt` or `skill`.
    pub kind: String,
    /// The prompt's file name or the skill's slug.
    pub item_key: String,
    pub host_id: i64,
    /// Digest of the fleet copy the push would replace; empty for a new item.
    pub base_sha256: String,
    pub content_sha256: String,
    /// The pushed item as JSON.
    pub payload: String,
    /// `pending`, `approved` or `rejected`.
    pub state: String,
    pub created_at: i64,
    pub decided_by: String,
    pub decided_at: Option<i64>,
    pub reason: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
