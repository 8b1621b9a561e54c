//! Dropping and restoring a usage table's reference to `hosts` (`host_id … ON DELETE SET NULL`,
//! as m0021 made it) on every backend. SQLite cannot drop or add a table's foreign key, so there
//! the table is copied into one defined with or without it. Migrations calling these must run
//! in one transaction (`use_transaction`): on pooled connections a statement after SQLite's
//! `DROP TABLE` could still see the old table, and a failure would leave the copy half done.

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use sea_orm_migration::prelude::*;

/// The clause m0021 wrote into SQLite's table definitions.
const SQLITE_FK: &str = r#", FOREIGN KEY ("host_id") REFERENCES "hosts" ("id") ON DELETE SET NULL"#;

/// `table` stops referencing `hosts`: its rows keep the ids of deleted hosts.
pub(crate) async fn drop(manager: &SchemaManager<'_>, table: &str, fk: &str) -> Result<(), DbErr> {
    match manager.get_database_backend() {
        DatabaseBackend::Sqlite => {
            rebuild_sqlite(manager, table, |sql| sql.replace(SQLITE_FK, "")).await
        }
        _ => {
            manager
                .drop_foreign_key(
                    ForeignKey::drop()
                        .name(fk)
                        .table(Alias::new(table))
                        .to_owned(),
                )
                .await
        }
    }
}

/// `table` references `hosts` again; rows of hosts deleted meanwhile get a NULL host, as the
/// reference would have given them.
pub(crate) async fn restore(
    manager: &SchemaManager<'_>,
    table: &str,
    fk: &str,
) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "UPDATE {table} SET host_id = NULL WHERE host_id IS NOT NULL \
             AND host_id NOT IN (SELECT id FROM hosts)"
        ))
        .await?;
    match manager.get_database_backend() {
        DatabaseBackend::Sqlite => {
            rebuild_sqlite(manager, table, |sql| match sql.rfind(')') {
                Some(end) => format!("{}{SQLITE_FK}{}", &sql[..end], &sql[end..]),
                None => sql.to_string(),
            })
            .await
        }
        _ => {
            manager
                .create_foreign_key(
                    ForeignKey::create()
                        .name(fk)
                        .from(Alias::new(table), Alias::new("host_id"))
                        .to(Alias::new("hosts"), Alias::new("id"))
                        .on_delete(ForeignKeyAction::SetNull)
                        .to_owned(),
                )
                .await
        }
    }
}

/// Copies SQLite's `table` into a table defined by `define(current definition)`, then gives it
/// the old name and indexes.
async fn rebuild_sqlite(
    manager: &SchemaManager<'_>,
    table: &str,
    define: impl Fn(&str) -> String,
) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let text = |sql: String| Statement::from_string(DatabaseBackend::Sqlite, sql);
    let current: String = db
        .query_one_raw(text(format!(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
        )))
        .await?
        .ok_or_else(|| DbErr::Migration(format!("{table} is missing")))?
        .try_get("", "sql")?;
    let indexes: Vec<String> = db
        .query_all_raw(text(format!(
            "SELECT sql FROM sqlite_master WHERE type = 'index' \
             AND tbl_name = '{table}' AND sql IS NOT NULL"
        )))
        .await?
        .iter()
        .map(|row| row.try_get("", "sql"))
        .collect::<Result<_, _>>()?;
    let new = define(&current);
    let Some(columns) = new.find('(') else {
        return Err(DbErr::Migration(format!(
            "{table} has an unexpected definition"
        )));
    };
    db.execute_unprepared(&format!("CREATE TABLE {table}_copy {}", &new[columns..]))
        .await?;
    db.execute_unprepared(&format!("INSERT INTO {table}_copy SELECT * FROM {table}"))
        .await?;
    db.execute_unprepared(&format!("DROP TABLE {table}"))
        .await?;
    db.execute_unprepared(&format!("ALTER TABLE {table}_copy RENAME TO {table}"))
        .await?;
    for index in indexes {
        db.execute_unprepared(&index).await?;
    }
    Ok(())
}
