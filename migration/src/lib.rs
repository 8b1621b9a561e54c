//! Schema migrations for codex-central, one immutable file per change, valid on SQLite,
//! PostgreSQL and MySQL/MariaDB.
//!
//! Times are stored as `BIGINT` Unix milliseconds (UTC): comparisons such as lease expiry are
//! plain integer comparisons on every backend, and no column type differs in time-zone handling
//! between the three engines.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub use sea_orm_migration::prelude::*;

mod m0001_principals_and_audit;
mod m0002_fleet_hosts_and_canonical_auth;
mod m0003_enrollment_tokens;
mod m0004_host_users;
mod m0005_wrappers_and_usage;
mod m0006_host_changes;
mod m0007_upstreams;
mod m0008_proxy_requests;
mod m0009_rate_windows;
mod m0010_users;
mod m0011_sessions_tokens_byok;
mod m0012_oauth;
mod m0013_host_content;
mod m0014_skills;
mod m0015_config_documents;
mod m0016_client_config_entries;
mod m0017_codex_auth_lifecycle;
mod m0018_memories;
mod m0019_workspace_files;
mod m0020_mcp_access_logs;
mod m0021_usage_records;
mod m0022_usage_alerts;
mod m0023_usage_hourly;
mod m0024_usage_records_leaner;
mod m0025_usage_ingests_leaner;

mod host_reference;

/// Document bodies: MySQL's TEXT holds 64 KiB, so MEDIUMTEXT (16 MiB) there; TEXT elsewhere.
pub(crate) fn long_text<T: IntoIden>(manager: &SchemaManager, column: T) -> ColumnDef {
    match manager.get_database_backend() {
        sea_orm::DatabaseBackend::MySql => ColumnDef::new(column)
            .custom(Alias::new("MEDIUMTEXT"))
            .not_null()
            .to_owned(),
        _ => sea_orm_migration::schema::text(column),
    }
}

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_principals_and_audit::Migration),
            Box::new(m0002_fleet_hosts_and_canonical_auth::Migration),
            Box::new(m0003_enrollment_tokens::Migration),
            Box::new(m0004_host_users::Migration),
            Box::new(m0005_wrappers_and_usage::Migration),
            Box::new(m0006_host_changes::Migration),
            Box::new(m0007_upstreams::Migration),
            Box::new(m0008_proxy_requests::Migration),
            Box::new(m0009_rate_windows::Migration),
            Box::new(m0010_users::Migration),
            Box::new(m0011_sessions_tokens_byok::Migration),
            Box::new(m0012_oauth::Migration),
            Box::new(m0013_host_content::Migration),
            Box::new(m0014_skills::Migration),
            Box::new(m0015_config_documents::Migration),
            Box::new(m0016_client_config_entries::Migration),
            Box::new(m0017_codex_auth_lifecycle::Migration),
            Box::new(m0018_memories::Migration),
            Box::new(m0019_workspace_files::Migration),
            Box::new(m0020_mcp_access_logs::Migration),
            Box::new(m0021_usage_records::Migration),
            Box::new(m0022_usage_alerts::Migration),
            Box::new(m0023_usage_hourly::Migration),
            Box::new(m0024_usage_records_leaner::Migration),
            Box::new(m0025_usage_ingests_leaner::Migration),
        ]
    }
}
