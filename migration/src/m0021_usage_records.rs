//! Usage with costs (issue 14): `usage_records` replaces `usage_rows` (its rows are copied, as
//! unpriced host summaries), with the ids that make a report idempotent, attribution to people
//! and tokens, and the cost of each row; `usage_ingests` are the envelopes of host reports;
//! `price_snapshots` the prices in force from a date; `usage_daily` the per-day sums every
//! aggregate reads instead of the rows; `quota_snapshots` ChatGPT rate-limit observations.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        records(manager).await?;
        ingests(manager).await?;
        prices(manager).await?;
        daily(manager).await?;
        quota(manager).await?;
        copy_old_rows(manager).await?;
        manager
            .drop_table(Table::drop().table(UsageRows::Table).if_exists().to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UsageRecords::Table.into_iden(),
            UsageIngests::Table.into_iden(),
            PriceSnapshots::Table.into_iden(),
            UsageDaily::Table.into_iden(),
            QuotaSnapshots::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for col in cols {
        idx.col(col);
    }
    if unique {
        idx.unique();
    }
    manager.create_index(idx.to_owned()).await
}

async fn records(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(UsageRecords::Table)
                .if_not_exists()
                .col(pk_auto(UsageRecords::Id).big_integer())
                // Empty for gateway calls, which come without an envelope.
                .col(string_len(UsageRecords::IngestId, 36))
                .col(string_len(UsageRecords::Source, 16))
                .col(string_len(UsageRecords::Kind, 16))
                .col(big_integer_null(UsageRecords::HostId))
                .col(string_len(UsageRecords::UserId, 36))
                .col(string_len(UsageRecords::TokenId, 36))
                .col(string_len(UsageRecords::ProviderId, 64))
                .col(string_len(UsageRecords::Model, 191))
                // When the usage happened; `ingested_at` when it reached us.
                .col(big_integer(UsageRecords::RecordedAt))
                .col(big_integer(UsageRecords::IngestedAt))
                .col(string_len(UsageRecords::SessionId, 128))
                .col(string_len(UsageRecords::TurnId, 128))
                .col(string_len(UsageRecords::ResponseId, 128))
                // Unique where set: the same report sent twice is stored once.
                .col(string_len_null(UsageRecords::DedupeKey, 191))
                .col(big_integer(UsageRecords::TotalTokens))
                .col(big_integer(UsageRecords::InputTokens))
                .col(big_integer(UsageRecords::CachedInputTokens))
                .col(big_integer(UsageRecords::CacheWriteInputTokens))
                .col(big_integer(UsageRecords::OutputTokens))
                .col(big_integer(UsageRecords::ReasoningOutputTokens))
                .col(big_integer(UsageRecords::CostMicros))
                .col(boolean(UsageRecords::Unpriced))
                .col(boolean(UsageRecords::Incomplete))
                .col(string_len(UsageRecords::Line, 1000))
                .col(string_len(UsageRecords::ClientIp, 64))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_usage_records_host")
                        .from(UsageRecords::Table, UsageRecords::HostId)
                        .to(Hosts::Table, Hosts::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
    let t = || UsageRecords::Table;
    index(
        manager,
        "uq_usage_records_dedupe",
        t(),
        vec![UsageRecords::DedupeKey.into_iden()],
        true,
    )
    .await?;
    // Keyset pages walk (recorded_at, id) newest first, per filter.
    for (name, first) in [
        ("idx_usage_records_time", None),
        ("idx_usage_records_host", Some(UsageRecords::HostId)),
        ("idx_usage_records_user", Some(UsageRecords::UserId)),
        ("idx_usage_records_token", Some(UsageRecords::TokenId)),
        ("idx_usage_records_ingest", Some(UsageRecords::IngestId)),
    ] {
        let mut idx = Index::create();
        idx.name(name).table(t());
        if let Some(col) = first {
            idx.col(col);
        }
        idx.col(UsageRecords::RecordedAt).col(UsageRecords::Id);
        manager.create_index(idx.to_owned()).await?;
    }
    Ok(())
}

async fn ingests(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(UsageIngests::Table)
                .if_not_exists()
                .col(string_len(UsageIngests::Id, 36).primary_key())
                .col(string_len(UsageIngests::Source, 16))
                .col(big_integer_null(UsageIngests::HostId))
                .col(string_len(UsageIngests::UserId, 36))
                .col(string_len(UsageIngests::ClientIp, 64))
                .col(big_integer(UsageIngests::ReceivedAt))
                .col(integer(UsageIngests::RowCount))
                .col(integer(UsageIngests::DuplicateCount))
                .col(integer(UsageIngests::ErrorCount))
                .col(big_integer(UsageIngests::TotalTokens))
                .col(big_integer(UsageIngests::InputTokens))
                .col(big_integer(UsageIngests::CachedInputTokens))
                .col(big_integer(UsageIngests::OutputTokens))
                .col(big_integer(UsageIngests::ReasoningOutputTokens))
                .col(big_integer(UsageIngests::CostMicros))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_usage_ingests_host")
                        .from(UsageIngests::Table, UsageIngests::HostId)
                        .to(Hosts::Table, Hosts::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
    for (name, first) in [
        ("idx_usage_ingests_time", None),
        ("idx_usage_ingests_host", Some(UsageIngests::HostId)),
        ("idx_usage_ingests_user", Some(UsageIngests::UserId)),
    ] {
        let mut idx = Index::create();
        idx.name(name).table(UsageIngests::Table);
        if let Some(col) = first {
            idx.col(col);
        }
        idx.col(UsageIngests::ReceivedAt).col(UsageIngests::Id);
        manager.create_index(idx.to_owned()).await?;
    }
    Ok(())
}

async fn prices(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(PriceSnapshots::Table)
                .if_not_exists()
                .col(string_len(PriceSnapshots::Id, 36).primary_key())
                .col(string_len(PriceSnapshots::Model, 191))
                .col(big_integer(PriceSnapshots::InputPerMillionMicros))
                .col(big_integer(PriceSnapshots::CachedInputPerMillionMicros))
                .col(big_integer(PriceSnapshots::OutputPerMillionMicros))
                .col(string_len(PriceSnapshots::Currency, 3))
                .col(big_integer(PriceSnapshots::EffectiveAt))
                .col(string_len(PriceSnapshots::Source, 16))
                .col(big_integer(PriceSnapshots::CreatedAt))
                .col(string_len(PriceSnapshots::CreatedBy, 191))
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "uq_price_snapshots_model_from",
        PriceSnapshots::Table,
        vec![
            PriceSnapshots::Model.into_iden(),
            PriceSnapshots::EffectiveAt.into_iden(),
        ],
        true,
    )
    .await
}

async fn daily(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(UsageDaily::Table)
                .if_not_exists()
                // Days since the Unix epoch (UTC); 0 and "" stand for "none" in the keys.
                .col(big_integer(UsageDaily::Day))
                .col(big_integer(UsageDaily::HostId))
                .col(string_len(UsageDaily::UserId, 36))
                .col(string_len(UsageDaily::TokenId, 36))
                .col(string_len(UsageDaily::Model, 191))
                .col(string_len(UsageDaily::Source, 16))
                .col(big_integer(UsageDaily::RowCount))
                .col(big_integer(UsageDaily::UnpricedRows))
                .col(big_integer(UsageDaily::TotalTokens))
                .col(big_integer(UsageDaily::InputTokens))
                .col(big_integer(UsageDaily::CachedInputTokens))
                .col(big_integer(UsageDaily::OutputTokens))
                .col(big_integer(UsageDaily::ReasoningOutputTokens))
                .col(big_integer(UsageDaily::CostMicros))
                .primary_key(
                    Index::create()
                        .col(UsageDaily::Day)
                        .col(UsageDaily::HostId)
                        .col(UsageDaily::UserId)
                        .col(UsageDaily::TokenId)
                        .col(UsageDaily::Model)
                        .col(UsageDaily::Source),
                )
                .to_owned(),
        )
        .await?;
    // Per-host, per-user and per-token totals over a range of days.
    for (name, first) in [
        ("idx_usage_daily_host", UsageDaily::HostId),
        ("idx_usage_daily_user", UsageDaily::UserId),
        ("idx_usage_daily_token", UsageDaily::TokenId),
    ] {
        manager
            .create_index(
                Index::create()
                    .name(name)
                    .table(UsageDaily::Table)
                    .col(first)
                    .col(UsageDaily::Day)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

async fn quota(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(QuotaSnapshots::Table)
                .if_not_exists()
                .col(string_len(QuotaSnapshots::Id, 36).primary_key())
                .col(string_len(QuotaSnapshots::AccountId, 128))
                .col(string_len(QuotaSnapshots::Source, 16))
                .col(big_integer_null(QuotaSnapshots::HostId))
                .col(string_len(QuotaSnapshots::PlanType, 32))
                .col(double_null(QuotaSnapshots::PrimaryUsedPercent))
                .col(integer_null(QuotaSnapshots::PrimaryWindowMinutes))
                .col(big_integer_null(QuotaSnapshots::PrimaryResetsAt))
                .col(double_null(QuotaSnapshots::SecondaryUsedPercent))
                .col(integer_null(QuotaSnapshots::SecondaryWindowMinutes))
                .col(big_integer_null(QuotaSnapshots::SecondaryResetsAt))
                .col(boolean(QuotaSnapshots::LimitReached))
                .col(string_len(QuotaSnapshots::CreditsJson, 500))
                .col(big_integer(QuotaSnapshots::ObservedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_quota_snapshots_host")
                        .from(QuotaSnapshots::Table, QuotaSnapshots::HostId)
                        .to(Hosts::Table, Hosts::Id)
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
    index(
        manager,
        "idx_quota_snapshots_account",
        QuotaSnapshots::Table,
        vec![
            QuotaSnapshots::AccountId.into_iden(),
            QuotaSnapshots::ObservedAt.into_iden(),
        ],
        false,
    )
    .await
}

/// The rows hosts reported before: summaries without ids or prices. They keep their ingest
/// ids; their envelopes did not exist and are not made up.
async fn copy_old_rows(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(
        "INSERT INTO usage_records (ingest_id, source, kind, host_id, user_id, token_id, \
         provider_id, model, recorded_at, ingested_at, session_id, turn_id, response_id, \
         dedupe_key, total_tokens, input_tokens, cached_input_tokens, cache_write_input_tokens, \
         output_tokens, reasoning_output_tokens, cost_micros, unpriced, incomplete, line, \
         client_ip) \
         SELECT ingest_id, source, 'summary', host_id, '', '', '', model, recorded_at, \
         recorded_at, '', '', '', NULL, total_tokens, input_tokens, cached_input_tokens, 0, \
         output_tokens, reasoning_output_tokens, 0, TRUE, FALSE, line, client_ip \
         FROM usage_rows",
    )
    .await?;
    Ok(())
}

#[derive(DeriveIden)]
enum Hosts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum UsageRows {
    Table,
}

#[derive(DeriveIden)]
enum UsageRecords {
    Table,
    Id,
    IngestId,
    Source,
    Kind,
    HostId,
    UserId,
    TokenId,
    ProviderId,
    Model,
    RecordedAt,
    IngestedAt,
    SessionId,
    TurnId,
    ResponseId,
    DedupeKey,
    TotalTokens,
    InputTokens,
    CachedInputTokens,
    CacheWriteInputTokens,
    OutputTokens,
    ReasoningOutputTokens,
    CostMicros,
    Unpriced,
    Incomplete,
    Line,
    ClientIp,
}

#[derive(DeriveIden)]
enum UsageIngests {
    Table,
    Id,
    Source,
    HostId,
    UserId,
    ClientIp,
    ReceivedAt,
    RowCount,
    DuplicateCount,
    ErrorCount,
    TotalTokens,
    InputTokens,
    CachedInputTokens,
    OutputTokens,
    ReasoningOutputTokens,
    CostMicros,
}

#[derive(DeriveIden)]
enum PriceSnapshots {
    Table,
    Id,
    Model,
    InputPerMillionMicros,
    CachedInputPerMillionMicros,
    OutputPerMillionMicros,
    Currency,
    EffectiveAt,
    Source,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum UsageDaily {
    Table,
    Day,
    HostId,
    UserId,
    TokenId,
    Model,
    Source,
    RowCount,
    UnpricedRows,
    TotalTokens,
    InputTokens,
    CachedInputTokens,
    OutputTokens,
    ReasoningOutputTokens,
    CostMicros,
}

#[derive(DeriveIden)]
enum QuotaSnapshots {
    Table,
    Id,
    AccountId,
    Source,
    HostId,
    PlanType,
    PrimaryUsedPercent,
    PrimaryWindowMinutes,
    PrimaryResetsAt,
    SecondaryUsedPercent,
    SecondaryWindowMinutes,
    SecondaryResetsAt,
    LimitReached,
    CreditsJson,
    ObservedAt,
}
