//! Upstream providers for the OpenAI-compatible gateway and each user's runtime override.
//! Shared keys are not here: they are encrypted settings (`upstream.<id>.key`), so master-key
//! rotation re-encrypts them with everything else.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UpstreamProviders::Table)
                    .if_not_exists()
                    .col(string_len(UpstreamProviders::Id, 64).primary_key())
                    .col(string_len(UpstreamProviders::Kind, 32))
                    .col(string_len(UpstreamProviders::BaseUrl, 512))
                    .col(string_len(UpstreamProviders::WireApi, 16))
                    .col(text(UpstreamProviders::Models))
                    .col(boolean(UpstreamProviders::Enabled))
                    .col(boolean(UpstreamProviders::Preset))
                    .col(big_integer(UpstreamProviders::CreatedAt))
                    .col(big_integer(UpstreamProviders::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RuntimeOverrides::Table)
                    .if_not_exists()
                    .col(string_len(RuntimeOverrides::UserId, 191).primary_key())
                    .col(string_len(RuntimeOverrides::ProviderId, 64))
                    .col(string_len(RuntimeOverrides::Model, 191))
                    .col(big_integer(RuntimeOverrides::SetAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(RuntimeOverrides::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(UpstreamProviders::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum UpstreamProviders {
    Table,
    Id,
    Kind,
    BaseUrl,
    WireApi,
    Models,
    Enabled,
    Preset,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RuntimeOverrides {
    Table,
    UserId,
    ProviderId,
    Model,
    SetAt,
}
