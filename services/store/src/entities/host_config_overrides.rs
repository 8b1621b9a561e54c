use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "host_config_overrides")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub host_id: i64,
    /// TOML merged into the host's baked config.toml.
    pub extra_toml: String,
    /// Empty: the fleet's default profile.
    pub default_profile: String,
    /// TOML appended to the host's requirements.toml.
    pub requirements_toml: String,
    pub updated_by: String,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
