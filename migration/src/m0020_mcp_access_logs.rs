//! The `/mcp` access log: one row per call the gateway's MCP guard let through (or refused
//! after authenticating), written in batches by the memory service and pruned by age and count.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(McpAccessLogs::Table)
                    .if_not_exists()
                    .col(pk_auto(McpAccessLogs::Id).big_integer())
                    .col(big_integer(McpAccessLogs::At))
                    .col(string_len(McpAccessLogs::PrincipalKind, 16))
                    .col(string_len(McpAccessLogs::PrincipalId, 191))
                    .col(string_len(McpAccessLogs::PrincipalName, 255))
                    .col(string_len(McpAccessLogs::ClientIp, 64))
                    .col(string_len(McpAccessLogs::Method, 100))
                    .col(string_len(McpAccessLogs::Target, 255))
                    .col(integer(McpAccessLogs::HttpStatus))
                    .col(boolean(McpAccessLogs::IsError))
                    .col(string_len(McpAccessLogs::Error, 500))
                    .col(big_integer(McpAccessLogs::DurationMs))
                    .to_owned(),
            )
            .await?;
        // Both filters of the admin listing, each walked newest first by id.
        manager
            .create_index(
                Index::create()
                    .name("idx_mcp_access_logs_principal")
                    .table(McpAccessLogs::Table)
                    .col(McpAccessLogs::PrincipalId)
                    .col(McpAccessLogs::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_mcp_access_logs_error")
                    .table(McpAccessLogs::Table)
                    .col(McpAccessLogs::IsError)
                    .col(McpAccessLogs::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(McpAccessLogs::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum McpAccessLogs {
    Table,
    Id,
    At,
    PrincipalKind,
    PrincipalId,
    PrincipalName,
    ClientIp,
    Method,
    Target,
    HttpStatus,
    IsError,
    Error,
    DurationMs,
}
