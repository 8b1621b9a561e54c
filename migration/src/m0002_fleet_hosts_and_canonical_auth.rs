//! Hosts, their sync state, failed-authentication budgets, and the canonical Codex auth.json.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Hosts::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Hosts::Id))
                    .col(string_len_uniq(Hosts::Fqdn, 191))
                    .col(string_len_uniq(Hosts::KeyDigest, 64))
                    .col(string_len(Hosts::KeyPrefix, 32))
                    .col(string_len(Hosts::Status, 16))
                    .col(boolean(Hosts::Secure))
                    .col(boolean(Hosts::Vip))
                    .col(boolean(Hosts::AllowRoaming))
                    .col(boolean(Hosts::ForceIpv4))
                    .col(boolean(Hosts::CurlInsecure))
                    .col(string_len_null(Hosts::Ip, 64))
                    .col(big_integer_null(Hosts::InsecureEnabledUntil))
                    .col(big_integer_null(Hosts::InsecureGraceUntil))
                    .col(integer(Hosts::InsecureWindowMinutes))
                    .col(big_integer_null(Hosts::ExpiresAt))
                    .col(string_len_null(Hosts::ClientVersion, 64))
                    .col(string_len_null(Hosts::ClientVersionOverride, 64))
                    .col(string_len_null(Hosts::WrapperVersion, 64))
                    .col(string_len_null(Hosts::ModelOverride, 128))
                    .col(string_len_null(Hosts::ReasoningEffortOverride, 32))
                    .col(big_integer(Hosts::ApiCalls))
                    .col(big_integer_null(Hosts::LastSeenAt))
                    .col(big_integer_null(Hosts::ProvisionedAt))
                    .col(big_integer(Hosts::CreatedAt))
                    .col(big_integer(Hosts::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HostSyncStates::Table)
                    .if_not_exists()
                    .col(big_integer(HostSyncStates::HostId).primary_key())
                    .col(string_len(HostSyncStates::SeenDigest, 64))
                    .col(string_len(HostSyncStates::ClientLastRefresh, 64))
                    .col(string_len(HostSyncStates::Outcome, 32))
                    .col(big_integer(HostSyncStates::SeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_host_sync_states_host")
                            .from(HostSyncStates::Table, HostSyncStates::HostId)
                            .to(Hosts::Table, Hosts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuthFailures::Table)
                    .if_not_exists()
                    .col(string_len(AuthFailures::Ip, 64).primary_key())
                    .col(integer(AuthFailures::Count))
                    .col(big_integer(AuthFailures::WindowStart))
                    .col(big_integer_null(AuthFailures::BlockedUntil))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CanonicalAuth::Table)
                    .if_not_exists()
                    .col(integer(CanonicalAuth::Id).primary_key())
                    .col(text(CanonicalAuth::BodyEnc))
                    .col(string_len(CanonicalAuth::Digest, 64))
                    .col(string_len(CanonicalAuth::LastRefresh, 64))
                    .col(big_integer(CanonicalAuth::LastRefreshUs))
                    .col(string_len(CanonicalAuth::Source, 191))
                    .col(big_integer(CanonicalAuth::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CanonicalAuth::Table.into_iden(),
            AuthFailures::Table.into_iden(),
            HostSyncStates::Table.into_iden(),
            Hosts::Table.into_iden(),
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
    Fqdn,
    KeyDigest,
    KeyPrefix,
    Status,
    Secure,
    Vip,
    AllowRoaming,
    ForceIpv4,
    CurlInsecure,
    Ip,
    InsecureEnabledUntil,
    InsecureGraceUntil,
    InsecureWindowMinutes,
    ExpiresAt,
    ClientVersion,
    ClientVersionOverride,
    WrapperVersion,
    ModelOverride,
    ReasoningEffortOverride,
    ApiCalls,
    LastSeenAt,
    ProvisionedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum HostSyncStates {
    Table,
    HostId,
    SeenDigest,
    ClientLastRefresh,
    Outcome,
    SeenAt,
}

#[derive(DeriveIden)]
enum AuthFailures {
    Table,
    Ip,
    Count,
    WindowStart,
    BlockedUntil,
}

/// One row (id = 1): the fleet's canonical auth.json, encrypted, as received.
#[derive(DeriveIden)]
enum CanonicalAuth {
    Table,
    Id,
    BodyEnc,
    Digest,
    LastRefresh,
    LastRefreshUs,
    Source,
    UpdatedAt,
}
