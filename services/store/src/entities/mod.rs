//! sea-orm entities, one module per table. Times are Unix milliseconds (see the migrations).

pub mod audit_log;
pub mod auth_failures;
pub mod byok_keys;
pub mod canonical_auth;
pub mod host_changes;
pub mod host_sync_states;
pub mod host_users;
pub mod hosts;
pub mod installer_tokens;
pub mod leases;
pub mod oauth_providers;
pub mod oauth_states;
pub mod personal_tokens;
pub mod proxy_requests;
pub mod rate_windows;
pub mod runtime_overrides;
pub mod seed_tokens;
pub mod service_tokens;
pub mod sessions;
pub mod settings;
pub mod upstream_providers;
pub mod usage_rows;
pub mod user_identities;
pub mod users;
pub mod wrapper_releases;
