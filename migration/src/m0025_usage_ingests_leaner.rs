//! Two indexes less for most usage rows stored, and envelopes that keep their host (issue 14):
//! - `idx_usage_records_ingest` goes: no query looks records up by their ingest (envelopes are
//!   listed by themselves, records by host, person, token or time), yet every row stored paid
//!   for it, at a random place in the index since ingest ids are random.
//! - `idx_usage_records_session` holds only the records of Codex's `token_usage_record` lines:
//!   the one query by session asks which sessions have those (to skip the `token_count` lines
//!   they supersede). MySQL has no partial indexes and keeps it whole.
//! - Envelopes (`usage_ingests`) no longer reference `hosts`, as records have not since m0024:
//!   an envelope keeps the id of the host that sent it after the host is deleted, so a deleted
//!   host's envelopes and records still agree.

use crate::host_reference;
use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "usage_ingests";
const FK: &str = "fk_usage_ingests_host";
const INGEST_INDEX: &str = "idx_usage_records_ingest";
const SESSION_INDEX: &str = "idx_usage_records_session";

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    /// [`host_reference`] copies SQLite's table.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INGEST_INDEX)
                    .table(Alias::new("usage_records"))
                    .to_owned(),
            )
            .await?;
        session_index(manager, true).await?;
        host_reference::drop(manager, TABLE, FK).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        host_reference::restore(manager, TABLE, FK).await?;
        session_index(manager, false).await?;
        manager
            .create_index(
                Index::create()
                    .name(INGEST_INDEX)
                    .table(Alias::new("usage_records"))
                    .col(Alias::new("ingest_id"))
                    .col(Alias::new("recorded_at"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await
    }
}

/// Recreates the session index for `token_usage_record` records only (`partial`) or all.
async fn session_index(manager: &SchemaManager<'_>, partial: bool) -> Result<(), DbErr> {
    if manager.get_database_backend() == DatabaseBackend::MySql {
        return Ok(());
    }
    let db = manager.get_connection();
    db.execute_unprepared(&format!("DROP INDEX IF EXISTS {SESSION_INDEX}"))
        .await?;
    let only = if partial {
        " WHERE kind = 'usage_record'"
    } else {
        ""
    };
    db.execute_unprepared(&format!(
        "CREATE INDEX {SESSION_INDEX} ON usage_records (session_id){only}"
    ))
    .await?;
    Ok(())
}
