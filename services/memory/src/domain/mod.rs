//! The memory service's domain logic (no tonic or axum here).

pub mod access_log;
pub mod memories;
pub mod owners;
pub mod settings;
pub mod workspace;
