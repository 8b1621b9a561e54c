//! The config service's domain logic (no tonic or axum here).

pub mod providers;
pub mod settings;
