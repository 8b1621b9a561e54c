//! Single-use enrollment tokens: installer links for hosts and auth.json seed links.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InstallerTokens::Table)
                    .if_not_exists()
                    .col(string_len(InstallerTokens::TokenDigest, 64).primary_key())
                    .col(big_integer(InstallerTokens::HostId))
                    .col(text(InstallerTokens::KeyEnc))
                    .col(big_integer(InstallerTokens::ExpiresAt))
                    .col(big_integer_null(InstallerTokens::UsedAt))
                    .col(big_integer(InstallerTokens::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_installer_tokens_host")
                            .from(InstallerTokens::Table, InstallerTokens::HostId)
                            .to(Hosts::Table, Hosts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SeedTokens::Table)
                    .if_not_exists()
                    .col(string_len(SeedTokens::TokenDigest, 64).primary_key())
                    .col(big_integer(SeedTokens::ExpiresAt))
                    .col(big_integer_null(SeedTokens::UsedAt))
                    .col(string_len(SeedTokens::CreatedBy, 191))
                    .col(big_integer(SeedTokens::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SeedTokens::Table.into_iden(),
            InstallerTokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum InstallerTokens {
    Table,
    TokenDigest,
    HostId,
    /// The host key, encrypted, until the installer is used (then emptied).
    KeyEnc,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SeedTokens {
    Table,
    TokenDigest,
    ExpiresAt,
    UsedAt,
    CreatedBy,
    CreatedAt,
}
