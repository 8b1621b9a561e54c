//! Per-minute request and token counters for `/v1` rate limits, shared by every replica.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RateWindows::Table)
                    .if_not_exists()
                    .col(string_len(RateWindows::Subject, 191))
                    .col(big_integer(RateWindows::WindowStart))
                    .col(big_integer(RateWindows::Requests))
                    .col(big_integer(RateWindows::Tokens))
                    .primary_key(
                        Index::create()
                            .col(RateWindows::Subject)
                            .col(RateWindows::WindowStart),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(RateWindows::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum RateWindows {
    Table,
    Subject,
    WindowStart,
    Requests,
    Tokens,
}
