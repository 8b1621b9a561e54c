//! Wrapper releases published by admins, and token usage reported by hosts (`POST /usage`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // MySQL's BLOB holds 64 KiB; a cdx binary is megabytes.
        let content = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::MySql => ColumnDef::new(WrapperReleases::Content)
                .custom(Alias::new("LONGBLOB"))
                .not_null()
                .to_owned(),
            _ => blob(WrapperReleases::Content),
        };
        manager
            .create_table(
                Table::create()
                    .table(WrapperReleases::Table)
                    .if_not_exists()
                    .col(string_len(WrapperReleases::Platform, 64))
                    .col(string_len(WrapperReleases::Version, 64))
                    .col(string_len(WrapperReleases::Kind, 16))
                    .col(string_len(WrapperReleases::Sha256, 64))
                    .col(big_integer(WrapperReleases::SizeBytes))
                    .col(content)
                    .col(string_len(WrapperReleases::PublishedBy, 191))
                    .col(big_integer(WrapperReleases::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(WrapperReleases::Platform)
                            .col(WrapperReleases::Version),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UsageRows::Table)
                    .if_not_exists()
                    .col(pk_auto(UsageRows::Id).big_integer())
                    .col(string_len(UsageRows::IngestId, 36))
                    .col(big_integer_null(UsageRows::HostId))
                    .col(string_len(UsageRows::Source, 16))
                    .col(big_integer(UsageRows::RecordedAt))
                    .col(string_len(UsageRows::Model, 191))
                    .col(big_integer(UsageRows::TotalTokens))
                    .col(big_integer(UsageRows::InputTokens))
                    .col(big_integer(UsageRows::CachedInputTokens))
                    .col(big_integer(UsageRows::OutputTokens))
                    .col(big_integer(UsageRows::ReasoningOutputTokens))
                    .col(string_len(UsageRows::Line, 1000))
                    .col(string_len(UsageRows::ClientIp, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_usage_rows_host")
                            .from(UsageRows::Table, UsageRows::HostId)
                            .to(Hosts::Table, Hosts::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_usage_rows_host_time")
                    .table(UsageRows::Table)
                    .col(UsageRows::HostId)
                    .col(UsageRows::RecordedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UsageRows::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(WrapperReleases::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WrapperReleases {
    Table,
    Platform,
    Version,
    Kind,
    Sha256,
    SizeBytes,
    Content,
    PublishedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UsageRows {
    Table,
    Id,
    IngestId,
    HostId,
    Source,
    RecordedAt,
    Model,
    TotalTokens,
    InputTokens,
    CachedInputTokens,
    OutputTokens,
    ReasoningOutputTokens,
    Line,
    ClientIp,
}
