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

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const FK: &str = "fk_usage_records_host";
/// The clause m0021 wrote into SQLite's table definition.
const SQLITE_FK: &str = r#", FOREIGN KEY ("host_id") REFERENCES "hosts" ("id") ON DELETE SET NULL"#;
/// Indexes that leave out empty values: (name, column).
const PARTIAL: [(&str, &str); 2] = [
    ("idx_usage_records_user", "user_id"),
    ("idx_usage_records_token", "token_id"),
];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    /// SQLite's table copy must run on one connection, as one transaction: on pooled
    /// connections a statement after the `DROP TABLE` could still see the old table, and a
    /// failure would leave the copy half done.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                rebuild_sqlite(manager, |sql| sql.replace(SQLITE_FK, "")).await?;
                partial_indexes(manager, true).await
            }
            DatabaseBackend::Postgres => {
                drop_fk(manager).await?;
                partial_indexes(manager, true).await
            }
            // MySQL: no partial indexes.
            _ => drop_fk(manager).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Rows of hosts deleted since would break the foreign key; it set them to NULL.
        db.execute_unprepared(
            "UPDATE usage_records SET host_id = NULL WHERE host_id IS NOT NULL \
             AND host_id NOT IN (SELECT id FROM hosts)",
        )
        .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                rebuild_sqlite(manager, |sql| match sql.rfind(')') {
                    Some(end) => format!("{}{SQLITE_FK}{}", &sql[..end], &sql[end..]),
                    None => sql.to_string(),
                })
                .await?;
                partial_indexes(manager, false).await
            }
            DatabaseBackend::Postgres => {
                add_fk(manager).await?;
                partial_indexes(manager, false).await
            }
            _ => add_fk(manager).await,
        }
    }
}

async fn drop_fk(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .drop_foreign_key(
            ForeignKey::drop()
                .name(FK)
                .table(Alias::new("usage_records"))
                .to_owned(),
        )
        .await
}

async fn add_fk(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_foreign_key(
            ForeignKey::create()
                .name(FK)
                .from(Alias::new("usage_records"), Alias::new("host_id"))
                .to(Alias::new("hosts"), Alias::new("id"))
                .on_delete(ForeignKeyAction::SetNull)
                .to_owned(),
        )
        .await
}

/// Recreates the person and token indexes, leaving out empty values (`partial`) or not.
async fn partial_indexes(manager: &SchemaManager<'_>, partial: bool) -> Result<(), DbErr> {
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

/// Copies SQLite's `usage_records` into a table defined by `define(current definition)`, then
/// gives it the old name and indexes.
async fn rebuild_sqlite(
    manager: &SchemaManager<'_>,
    define: impl Fn(&str) -> String,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let text = |sql: &str| Statement::from_string(DatabaseBackend::Sqlite, sql.to_string());
    let table: String = db
        .query_one_raw(text(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'usage_records'",
        ))
        .await?
        .ok_or_else(|| DbErr::Migration("usage_records is missing".into()))?
        .try_get("", "sql")?;
    let indexes: Vec<String> = db
        .query_all_raw(text(
            "SELECT sql FROM sqlite_master WHERE type = 'index' \
             AND tbl_name = 'usage_records' AND sql IS NOT NULL",
        ))
        .await?
        .iter()
        .map(|row| row.try_get("", "sql"))
        .collect::<Result<_, _>>()?;
    let new = define(&table);
    let Some(columns) = new.find('(') else {
        return Err(DbErr::Migration(
            "usage_records has an unexpected definition".into(),
        ));
    };
    db.execute_unprepared(&format!(
        "CREATE TABLE usage_records_copy {}",
        &new[columns..]
    ))
    .await?;
    db.execute_unprepared("INSERT INTO usage_records_copy SELECT * FROM usage_records")
        .await?;
    db.execute_unprepared("DROP TABLE usage_records").await?;
    db.execute_unprepared("ALTER TABLE usage_records_copy RENAME TO usage_records")
        .await?;
    for index in indexes {
        db.execute_unprepared(&index).await?;
    }
    Ok(())
}
