//! The memory service's domain logic (no tonic or axum here).

pub mod memories;
pub mod settings;
