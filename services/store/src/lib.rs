//! Storage for codex-central: one sea-orm connection to SQLite, PostgreSQL or MySQL/MariaDB,
//! the entities, and the small query modules each service owns.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod agents_documents;
pub mod audit;
pub mod auth_failures;
mod batch;
pub mod byok_keys;
pub mod canonical_auth;
pub mod client_config_entries;
pub mod codex_auth_lifecycle;
pub mod config_documents;
mod connect;
pub mod content_proposals;
pub mod enrollment;
pub mod entities;
mod error;
pub mod host_changes;
pub mod host_config_overrides;
pub mod host_sync_states;
pub mod host_users;
pub mod hosts;
pub mod leases;
mod log_prune;
pub mod mcp_access_logs;
pub mod memories;
pub mod memory_search;
pub mod oauth;
pub mod personal_tokens;
mod pg_copy;
pub mod price_snapshots;
pub mod prompts;
pub mod proxy_requests;
pub mod quota_snapshots;
pub mod rate_windows;
pub mod service_tokens;
pub mod sessions;
pub mod settings;
pub mod skills;
mod time;
mod token_table;
pub mod upstreams;
pub mod usage_alerts;
mod usage_batch;
mod usage_insert_pg;
pub mod usage_queries;
pub mod usage_records;
pub mod usage_rollups;
pub mod usage_sums;
pub mod users;
pub mod workspace_files;
pub mod wrapper_releases;

pub use connect::{Backend, Store};
pub use error::{Error, Result};
/// An open transaction, for domain code that composes several writes into one commit.
pub use sea_orm::DatabaseTransaction as Transaction;
pub use time::now_ms;
