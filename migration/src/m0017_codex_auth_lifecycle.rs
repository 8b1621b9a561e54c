//! The canonical auth.json's lifecycle: the server-side refresh (its claim on the refresh token
//! in flight, the identity provider's answer kept until it is committed, failures and backoff)
//! and the last validation. One row, id = 1, inserted here so every later write is an UPDATE
//! (a compare-and-set where it matters) on all three backends.

use sea_orm_migration::{prelude::*, schema::*};

use crate::long_text;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CodexAuthLifecycle as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .if_not_exists()
                    .col(integer(T::Id).primary_key())
                    .col(big_integer_null(T::LastAttemptAt))
                    .col(big_integer_null(T::LastSuccessAt))
                    .col(string_len(T::LastErrorCode, 64))
                    .col(text(T::LastError))
                    .col(integer(T::ConsecutiveFailures))
                    .col(big_integer_null(T::NextAttemptAt))
                    .col(string_len(T::BlockedTokenSha, 64))
                    .col(string_len(T::InFlightTokenSha, 64))
                    .col(string_len(T::InFlightHolder, 191))
                    .col(big_integer_null(T::InFlightAt))
                    .col(long_text(manager, T::PendingAnswerEnc))
                    .col(big_integer_null(T::PendingAt))
                    .col(string_len(T::ValidationState, 16))
                    .col(text(T::ValidationReason))
                    .col(big_integer_null(T::ValidationAt))
                    .col(big_integer(T::ValidationLatencyMs))
                    .col(boolean(T::ValidationProbeRan))
                    .col(boolean(T::ValidationApplied))
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert();
        insert
            .into_table(T::Table)
            .columns([
                T::Id,
                T::LastErrorCode,
                T::LastError,
                T::ConsecutiveFailures,
                T::BlockedTokenSha,
                T::InFlightTokenSha,
                T::InFlightHolder,
                T::PendingAnswerEnc,
                T::ValidationState,
                T::ValidationReason,
                T::ValidationLatencyMs,
                T::ValidationProbeRan,
                T::ValidationApplied,
            ])
            .values([
                1.into(),
                "".into(),
                "".into(),
                0.into(),
                "".into(),
                "".into(),
                "".into(),
                "".into(),
                "".into(),
                "".into(),
                0i64.into(),
                false.into(),
                false.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(CodexAuthLifecycle::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CodexAuthLifecycle {
    Table,
    Id,
    LastAttemptAt,
    LastSuccessAt,
    /// `refresh_token_expired`, `refresh_token_reused`, `refresh_token_invalidated`,
    /// `refresh_rejected`, `refresh_interrupted`, `network`, `idp_unavailable`, …; empty after a success.
    LastErrorCode,
    LastError,
    ConsecutiveFailures,
    /// No automatic attempt before this instant (exponential backoff).
    NextAttemptAt,
    /// SHA-256 of a refresh token the server must not send again on its own: the identity
    /// provider rejected it, or an attempt with it was interrupted before its answer was kept.
    BlockedTokenSha,
    /// SHA-256 of the refresh token an attempt is spending; empty when none is in flight.
    InFlightTokenSha,
    InFlightHolder,
    InFlightAt,
    /// The identity provider's answer (encrypted JSON), kept until the new document commits.
    PendingAnswerEnc,
    PendingAt,
    /// `ok`, `failed`, `skipped` or empty (never validated).
    ValidationState,
    ValidationReason,
    ValidationAt,
    ValidationLatencyMs,
    ValidationProbeRan,
    ValidationApplied,
}
