//! A log of host changes that matter to authentication, so every replica can drop exactly the
//! cached hosts another replica changed (within a second) instead of expiring all of them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HostChanges::Table)
                    .if_not_exists()
                    .col(pk_auto(HostChanges::Id).big_integer())
                    .col(big_integer(HostChanges::HostId))
                    .col(big_integer(HostChanges::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_host_changes_changed_at")
                    .table(HostChanges::Table)
                    .col(HostChanges::ChangedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(HostChanges::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum HostChanges {
    Table,
    Id,
    HostId,
    ChangedAt,
}
