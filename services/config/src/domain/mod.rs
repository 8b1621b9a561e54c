//! The config service's domain logic (no tonic or axum here).

pub mod settings;
