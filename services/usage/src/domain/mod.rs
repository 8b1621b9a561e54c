//! The usage service's domain logic (no tonic or axum here).

pub mod ingest;
pub mod limits;
pub mod proxy_log;
pub mod quota;
pub mod retention;
