//! Per-user Codex client config history: what each export wrote (apply, restore) and what
//! users imported (auth.json encrypted), the first import kept forever as `initial`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::long_text;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClientConfigEntries::Table)
                    .if_not_exists()
                    .col(string_len(ClientConfigEntries::Id, 36).primary_key())
                    .col(string_len(ClientConfigEntries::UserId, 191))
                    .col(string_len(ClientConfigEntries::Kind, 16))
                    .col(string_len(ClientConfigEntries::ProviderId, 128))
                    .col(string_len(ClientConfigEntries::Model, 191))
                    .col(text(ClientConfigEntries::Note))
                    .col(long_text(manager, ClientConfigEntries::ConfigToml))
                    .col(long_text(manager, ClientConfigEntries::AuthJsonEnc))
                    .col(big_integer(ClientConfigEntries::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_client_config_entries_user")
                    .table(ClientConfigEntries::Table)
                    .col(ClientConfigEntries::UserId)
                    .col(ClientConfigEntries::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ClientConfigEntries::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ClientConfigEntries {
    Table,
    Id,
    UserId,
    /// initial, apply, restore or import.
    Kind,
    ProviderId,
    Model,
    Note,
    ConfigToml,
    /// auth.json as imported, encrypted with the master key; empty for exports (their
    /// auth.json carried a token or a placeholder that is never stored).
    AuthJsonEnc,
    CreatedAt,
}
