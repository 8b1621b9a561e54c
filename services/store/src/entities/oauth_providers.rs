use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_providers")]
pub struct Model {
    /// Slug in `/oauth/start/{id}` and `/oauth/callback/{id}`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `github`, `gitee` or `oidc`.
    pub kind: String,
    pub display_name: String,
    pub client_id: String,
    /// Sealed with the master key.
    pub client_secret: Option<String>,
    /// OIDC issuer; for GitHub/Gitee an optional base URL (GitHub Enterprise, self-hosted).
    pub issuer_url: String,
    /// JSON array of scopes.
    pub scopes: String,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
