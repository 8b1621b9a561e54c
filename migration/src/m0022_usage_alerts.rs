//! Usage alerts (issue 14, 7b): `usage_alerts` holds each alert raised, unique per subject,
//! metric, threshold and window so that every replica raising the same crossing stores it once;
//! `alert_deliveries` is the webhook delivery log, one row per attempt (the pending one is the
//! next attempt). Also an index on the records' session, which the check for `token_count`
//! lines superseded by `token_usage_record` lines reads on every rollout report.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_usage_records_session")
                    .table(UsageRecords::Table)
                    .col(UsageRecords::SessionId)
                    .to_owned(),
            )
            .await?;
        alerts(manager).await?;
        deliveries(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AlertDeliveries::Table.into_iden(),
            UsageAlerts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_usage_records_session")
                    .table(UsageRecords::Table)
                    .to_owned(),
            )
            .await
    }
}

async fn alerts(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(UsageAlerts::Table)
                .if_not_exists()
                .col(string_len(UsageAlerts::Id, 36).primary_key())
                // token, user or fleet; the subject's id ("" for the fleet).
                .col(string_len(UsageAlerts::Scope, 16))
                .col(string_len(UsageAlerts::SubjectId, 64))
                // The person it concerns ("" for the fleet): members see their own alerts.
                .col(string_len(UsageAlerts::UserId, 36))
                .col(string_len(UsageAlerts::Metric, 32))
                .col(integer(UsageAlerts::Threshold))
                .col(big_integer(UsageAlerts::WindowStart))
                .col(big_integer(UsageAlerts::WindowEnd))
                .col(double(UsageAlerts::Percent))
                .col(string_len(UsageAlerts::Message, 500))
                .col(big_integer(UsageAlerts::RaisedAt))
                .col(big_integer_null(UsageAlerts::AcknowledgedAt))
                .col(string_len(UsageAlerts::AcknowledgedBy, 64))
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name("uq_usage_alerts_crossing")
                .table(UsageAlerts::Table)
                .col(UsageAlerts::Scope)
                .col(UsageAlerts::SubjectId)
                .col(UsageAlerts::Metric)
                .col(UsageAlerts::Threshold)
                .col(UsageAlerts::WindowStart)
                .unique()
                .to_owned(),
        )
        .await?;
    // Pages walk (raised_at, id) newest first, for everyone or one person.
    for (name, first) in [
        ("idx_usage_alerts_time", None),
        ("idx_usage_alerts_user", Some(UsageAlerts::UserId)),
    ] {
        let mut idx = Index::create();
        idx.name(name).table(UsageAlerts::Table);
        if let Some(col) = first {
            idx.col(col);
        }
        idx.col(UsageAlerts::RaisedAt).col(UsageAlerts::Id);
        manager.create_index(idx.to_owned()).await?;
    }
    Ok(())
}

async fn deliveries(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table(AlertDeliveries::Table)
                .if_not_exists()
                .col(string_len(AlertDeliveries::Id, 36).primary_key())
                .col(string_len(AlertDeliveries::AlertId, 36))
                .col(string_len(AlertDeliveries::Url, 500))
                .col(integer(AlertDeliveries::Attempt))
                // pending (not tried yet), delivered, failed (a retry follows as its own row)
                // or abandoned (the last attempt failed).
                .col(string_len(AlertDeliveries::Status, 16))
                .col(big_integer(AlertDeliveries::DueAt))
                .col(big_integer_null(AlertDeliveries::AttemptedAt))
                .col(integer_null(AlertDeliveries::StatusCode))
                .col(string_len(AlertDeliveries::Error, 500))
                .col(big_integer(AlertDeliveries::DurationMs))
                .col(big_integer(AlertDeliveries::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_alert_deliveries_alert")
                        .from(AlertDeliveries::Table, AlertDeliveries::AlertId)
                        .to(UsageAlerts::Table, UsageAlerts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
    for (name, cols) in [
        (
            "idx_alert_deliveries_due",
            vec![AlertDeliveries::Status, AlertDeliveries::DueAt],
        ),
        (
            "idx_alert_deliveries_time",
            vec![AlertDeliveries::CreatedAt, AlertDeliveries::Id],
        ),
        (
            "idx_alert_deliveries_alert",
            vec![AlertDeliveries::AlertId, AlertDeliveries::Attempt],
        ),
    ] {
        let mut idx = Index::create();
        idx.name(name).table(AlertDeliveries::Table);
        for col in cols {
            idx.col(col);
        }
        manager.create_index(idx.to_owned()).await?;
    }
    Ok(())
}

#[derive(DeriveIden)]
enum UsageRecords {
    Table,
    SessionId,
}

#[derive(DeriveIden)]
enum UsageAlerts {
    Table,
    Id,
    Scope,
    SubjectId,
    UserId,
    Metric,
    Threshold,
    WindowStart,
    WindowEnd,
    Percent,
    Message,
    RaisedAt,
    AcknowledgedAt,
    AcknowledgedBy,
}

#[derive(DeriveIden)]
enum AlertDeliveries {
    Table,
    Id,
    AlertId,
    Url,
    Attempt,
    Status,
    DueAt,
    AttemptedAt,
    StatusCode,
    Error,
    DurationMs,
    CreatedAt,
}
