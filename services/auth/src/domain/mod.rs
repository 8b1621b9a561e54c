//! The auth service's domain logic, free of tonic and axum so the CLI and tests can call it.

pub mod accounts;
pub mod authenticator;
pub mod byok;
pub mod canonical;
pub mod chatgpt_usage;
pub mod codex_auth;
pub mod oauth;
pub mod personal_tokens;
pub mod probe;
pub mod refresh;
pub mod service_tokens;
pub mod sessions;
pub mod users;
pub mod validation;
