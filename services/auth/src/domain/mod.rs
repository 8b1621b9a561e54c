//! The auth service's domain logic, free of tonic and axum so the CLI and tests can call it.

pub mod authenticator;
pub mod canonical;
pub mod codex_auth;
pub mod service_tokens;
pub mod users;
