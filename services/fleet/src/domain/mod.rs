//! The fleet service's domain logic (no tonic or axum here).

pub mod audit;
pub mod enrollment;
pub mod host_auth;
pub mod host_settings;
pub mod hosts;
pub mod policy;
pub mod prune;
pub mod releases;
pub mod wrappers;
