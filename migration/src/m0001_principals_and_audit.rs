//! Tables every later feature builds on: service tokens, the audit log, settings and leases.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceTokens::Table)
                    .if_not_exists()
                    .col(string_len(ServiceTokens::Id, 36).primary_key())
                    .col(string_len(ServiceTokens::Name, 128))
                    .col(string_len(ServiceTokens::Scope, 16))
                    .col(string_len_uniq(ServiceTokens::TokenDigest, 64))
                    .col(string_len(ServiceTokens::Prefix, 32))
                    .col(string_len(ServiceTokens::CreatedBy, 191))
                    .col(big_integer(ServiceTokens::CreatedAt))
                    .col(big_integer_null(ServiceTokens::ExpiresAt))
                    .col(big_integer_null(ServiceTokens::LastUsedAt))
                    .col(big_integer_null(ServiceTokens::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer(AuditLog::At))
                    .col(string_len(AuditLog::ActorKind, 32))
                    .col(string_len(AuditLog::Actor, 191))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::Target, 191))
                    .col(string_len(AuditLog::ClientIp, 64))
                    .col(text(AuditLog::Details))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_at")
                    .table(AuditLog::Table)
                    .col(AuditLog::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_log_action")
                    .table(AuditLog::Table)
                    .col(AuditLog::Action)
                    .col(AuditLog::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .if_not_exists()
                    .col(string_len(Settings::Key, 128).primary_key())
                    .col(text(Settings::Value))
                    .col(boolean(Settings::Encrypted))
                    .col(big_integer(Settings::UpdatedAt))
                    .col(string_len(Settings::UpdatedBy, 191))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Leases::Table)
                    .if_not_exists()
                    .col(string_len(Leases::Name, 128).primary_key())
                    .col(string_len(Leases::Holder, 128))
                    .col(big_integer(Leases::AcquiredAt))
                    .col(big_integer(Leases::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Leases::Table.into_iden(),
            Settings::Table.into_iden(),
            AuditLog::Table.into_iden(),
            ServiceTokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ServiceTokens {
    Table,
    Id,
    Name,
    Scope,
    TokenDigest,
    Prefix,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorKind,
    Actor,
    Action,
    Target,
    ClientIp,
    Details,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
    Encrypted,
    UpdatedAt,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum Leases {
    Table,
    Name,
    Holder,
    AcquiredAt,
    ExpiresAt,
}
