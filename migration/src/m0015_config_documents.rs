//! The fleet's `config.toml` template (with its profiles) and `requirements.toml`: every saved
//! version kept, the highest per kind is current. Per-host additions to both beside them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

use crate::long_text as body;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConfigDocuments::Table)
                    .if_not_exists()
                    .col(string_len(ConfigDocuments::Kind, 32))
                    .col(integer(ConfigDocuments::Version))
                    .col(body(manager, ConfigDocuments::Model))
                    .col(body(manager, ConfigDocuments::Rendered))
                    .col(string_len(ConfigDocuments::Sha256, 64))
                    .col(big_integer(ConfigDocuments::SizeBytes))
                    .col(text(ConfigDocuments::Note))
                    .col(string_len(ConfigDocuments::UpdatedBy, 191))
                    .col(big_integer(ConfigDocuments::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(ConfigDocuments::Kind)
                            .col(ConfigDocuments::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HostConfigOverrides::Table)
                    .if_not_exists()
                    .col(big_integer(HostConfigOverrides::HostId).primary_key())
                    .col(body(manager, HostConfigOverrides::ExtraToml))
                    .col(string_len(HostConfigOverrides::DefaultProfile, 64))
                    .col(body(manager, HostConfigOverrides::RequirementsToml))
                    .col(string_len(HostConfigOverrides::UpdatedBy, 191))
                    .col(big_integer(HostConfigOverrides::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(HostConfigOverrides::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(ConfigDocuments::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ConfigDocuments {
    Table,
    Kind,
    Version,
    /// The structured model as JSON (the template and its profiles).
    Model,
    /// The base file rendered from the model when it was saved.
    Rendered,
    Sha256,
    SizeBytes,
    /// Why this version exists ("restored from 3", …); empty for plain saves.
    Note,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum HostConfigOverrides {
    Table,
    HostId,
    ExtraToml,
    DefaultProfile,
    /// TOML appended to the host's requirements.toml.
    RequirementsToml,
    UpdatedBy,
    UpdatedAt,
}
