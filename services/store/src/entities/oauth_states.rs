use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_states")]
pub struct Model {
    /// SHA-256 of the `state` parameter.
    #[sea_orm(primary_key, auto_increment = false)]
    pub state_digest: String,
    pub provider_id: String,
    /// PKCE verifier and nonce (JSON), sealed with the master key.
    pub secrets: String,
    pub return_to: String,
    /// Set for a flow that links an identity to this signed-in user.
    pub link_user_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
