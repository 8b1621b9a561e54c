//! Which local users run Codex on each host (`POST /host/users`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(HostUsers::Table)
                    .if_not_exists()
                    .col(big_integer(HostUsers::HostId))
                    .col(string_len(HostUsers::Username, 191))
                    .col(string_len(HostUsers::Hostname, 255))
                    .col(big_integer(HostUsers::FirstSeen))
                    .col(big_integer(HostUsers::LastSeen))
                    .primary_key(
                        Index::create()
                            .col(HostUsers::HostId)
                            .col(HostUsers::Username),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_host_users_host")
                            .from(HostUsers::Table, HostUsers::HostId)
                            .to(Hosts::Table, Hosts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(HostUsers::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum HostUsers {
    Table,
    HostId,
    Username,
    Hostname,
    FirstSeen,
    LastSeen,
}
