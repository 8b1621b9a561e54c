//! Less work for every usage row stored (issue 14's ingest bar: PostgreSQL spent most of an
//! ingest on the rows' indexes and their foreign-key check):
//! - The person and token indexes leave out rows without one (host reports carry no token, and
//!   often no person); no query looks rows up by an empty person or token, and those that look
//!   one up say `<> ''` so that every backend can use the smaller index. MySQL has no partial
//!   indexes and keeps them whole.
//! - Records no longer reference `hosts`: a row keeps the id of the host that reported it after
//!   the host is deleted, as the per-day and per-hour sums always did (the foreign key set it to
//!   NULL, so totals of a deleted host read from records and from sums disagreed), and deleting a
//!   host no longer rewrites its usage rows. SQLite cannot drop a table's foreign key, so there
//!   the table is copied into one without it.

use crate::host_reference;
use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "usage_records";
const FK: &str = "fk_usage_records_host";
/// Indexes that leave out empty values: (name, column).
const PARTIAL: [(&str, &str); 2] = [
    ("idx_usage_records_user", "user_id"),
    ("idx_usage_records_token", "token_id"),
];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    /// [`host_reference`] copies SQLite's table.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        host_reference::drop(manager, TABLE, FK).await?;
        partial_indexes(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        host_reference::restore(manager, TABLE, FK).await?;
        partial_indexes(manager, false).await
    }
}

/// Recreates the person and token indexes, leaving out empty values (`partial`) or not; MySQL
/// has no partial indexes and keeps them whole.
async fn partial_indexes(manager: &SchemaManager<'_>, partial: bool) -> Result<(), DbErr> {
    if manager.get_database_backend() == DatabaseBackend::MySql {
        return Ok(());
    }
    let db = manager.get_connection();
    for (name, column) in PARTIAL {
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
            .await?;
        let only = if partial {
            format!(" WHERE {column} <> ''")
        } else {
            String::new()
        };
        db.execute_unprepared(&format!(
            "CREATE INDEX {name} ON usage_records ({column}, recorded_at, id){only}"
        ))
        .await?;
    }
    Ok(())
}
