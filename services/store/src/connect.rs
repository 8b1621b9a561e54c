use std::time::Duration;

use codex_central_migration::{Migrator, MigratorTrait};
use sea_orm::sqlx;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::{Error, Result};

/// The longest a request waits on the database unless configured otherwise.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// Which engine a [`Store`] talks to; shown in the start-up banner and used where SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            "mysql" | "mariadb" => Ok(Backend::MySql),
            _ => Err(Error::InvalidUrl(
                "expected a URL starting with sqlite://, postgres:// or mysql://".into(),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }
}

/// A handle to the database. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
    /// PostgreSQL's text search configuration for memories (see `memories::use_language`).
    text_search: std::sync::Arc<str>,
}

impl Store {
    /// Connects without migrating. SQLite files are created when missing and opened in WAL mode
    /// with foreign keys on and a busy timeout, so concurrent writers wait instead of failing.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, DEFAULT_WAIT).await
    }

    /// Connects with `wait` as the longest any request waits on the database: for a pooled
    /// connection (and a new one), and, on PostgreSQL and MariaDB, for one statement (MySQL:
    /// one read). During an outage
    /// callers get "database unavailable" after this long instead of piling up.
    pub async fn connect_with(url: &str, wait: Duration) -> Result<Self> {
        let backend = Backend::from_url(url)?;
        // sqlx spells MariaDB as mysql.
        let url = match url.strip_prefix("mariadb:") {
            Some(rest) => format!("mysql:{rest}"),
            None => url.to_string(),
        };
        let mut opts = ConnectOptions::new(url);
        opts.sqlx_logging(false)
            .connect_timeout(wait)
            .acquire_timeout(wait);
        match backend {
            Backend::Sqlite => {
                opts.max_connections(8).min_connections(1);
                opts.map_sqlx_sqlite_opts(|o| {
                    o.create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(10))
                        // Each pooled connection keeps its own page cache. At SQLite's default
                        // (2 MiB each) the pool's kept filling for minutes under load (the
                        // soak's RSS grew 16% after its first minute); 1 MiB each (8 MiB for
                        // the pool) fills within the first seconds, then stays flat.
                        .pragma("cache_size", "-1024")
                });
            }
            Backend::Postgres => {
                opts.max_connections(16).min_connections(1);
                let millis = wait.as_millis().to_string();
                opts.map_sqlx_postgres_opts(move |o| {
                    o.options([("statement_timeout", millis.as_str())])
                });
            }
            Backend::MySql => {
                opts.max_connections(16).min_connections(1);
                let secs = wait.as_secs_f64();
                let millis = wait.as_millis();
                opts.map_sqlx_mysql_pool_opts(move |pool| {
                    pool.after_connect(move |conn, _| {
                        Box::pin(async move {
                            // MariaDB bounds every statement; MySQL has no such setting and
                            // bounds reads only. (The SQL holds only numbers.)
                            let mariadb = format!("SET SESSION max_statement_time = {secs}");
                            if sqlx::raw_sql(sqlx::AssertSqlSafe(mariadb))
                                .execute(&mut *conn)
                                .await
                                .is_err()
                            {
                                let mysql = format!("SET SESSION max_execution_time = {millis}");
                                sqlx::raw_sql(sqlx::AssertSqlSafe(mysql))
                                    .execute(&mut *conn)
                                    .await?;
                            }
                            Ok(())
                        })
                    })
                });
            }
        }
        let db = Database::connect(opts).await.map_err(|err| match err {
            sea_orm::DbErr::Conn(e) => Error::Unavailable(redact_url_error(&e.to_string())),
            other => Error::Db(other),
        })?;
        Ok(Store {
            db,
            backend,
            text_search: "simple".into(),
        })
    }

    /// Connects and applies every pending migration (what `serve` and `migrate` do).
    pub async fn connect_and_migrate(url: &str) -> Result<Self> {
        Self::connect_and_migrate_with(url, DEFAULT_WAIT).await
    }

    pub async fn connect_and_migrate_with(url: &str, wait: Duration) -> Result<Self> {
        let store = Self::connect_with(url, wait).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await?;
        Ok(())
    }

    /// Names of migrations the database has not applied yet (empty when current).
    pub async fn pending_migrations(&self) -> Result<Vec<String>> {
        let pending = Migrator::get_pending_migrations_read_only(&self.db).await?;
        Ok(pending.iter().map(|m| m.name().to_string()).collect())
    }

    /// One round trip, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        self.db
            .ping()
            .await
            .map_err(|e| Error::Unavailable(e.to_string()))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The text search configuration memory search uses on PostgreSQL.
    pub fn text_search_config(&self) -> &str {
        &self.text_search
    }

    pub(crate) fn set_text_search_config(&mut self, name: &str) {
        self.text_search = name.into();
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Pool sizes for the metrics endpoint: (open connections, idle connections).
    pub fn pool_stats(&self) -> (u32, u32) {
        // The pool getters panic on a backend mismatch; `backend` was derived from the same URL.
        match self.backend {
            Backend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
            Backend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
            Backend::MySql => {
                let pool = self.db.get_mysql_connection_pool();
                (pool.size(), pool.num_idle() as u32)
            }
        }
    }

    /// Starts a transaction; commit it explicitly, dropping it rolls back.
    pub async fn begin(&self) -> Result<sea_orm::DatabaseTransaction> {
        Ok(sea_orm::TransactionTrait::begin(&self.db).await?)
    }

    /// A transaction that reads and then writes. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a second writer waits out the busy timeout instead of failing
    /// at once when it upgrades a read; the other backends lock the rows they write as usual.
    pub async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction> {
        let options = sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(sea_orm::TransactionTrait::begin_with_options(&self.db, options).await?)
    }

    /// Closes the pool; other clones of this store see a closed pool afterwards.
    pub async fn close(&self) -> Result<()> {
        self.db.close_by_ref().await?;
        Ok(())
    }
}

/// sqlx connection errors can echo the URL, password included; keep only the part after the
/// last colon-separated cause and strip anything that looks like credentials.
fn redact_url_error(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for word in message.split(' ') {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.contains("://") && word.contains('@') {
            out.push_str("<database-url>");
        } else {
            out.push_str(word);
        }
    }
    out
}

/// PostgreSQL plans a prepared statement generically after its fifth run and keeps that plan:
/// one made while a table was small (a sequential scan) stays as the table grows, and one made
/// without the values cannot choose by them. Statements of this transaction are planned for
/// each run with their values instead; other backends plan every run anyway.
pub(crate) async fn plan_each_run(
    txn: &sea_orm::DatabaseTransaction,
    backend: Backend,
) -> Result<()> {
    use sea_orm::ConnectionTrait;
    if backend == Backend::Postgres {
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
            .await?;
    }
    Ok(())
}
