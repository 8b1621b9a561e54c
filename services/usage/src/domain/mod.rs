//! The usage service's domain logic (no tonic or axum here).

pub mod aggregates;
pub mod alerts;
pub mod budget;
pub mod ingest;
pub mod ingest_writer;
pub mod limits;
pub mod parse;
pub mod pricing;
pub mod pricing_pull;
pub mod proxy_log;
pub mod quota;
pub mod quota_eval;
pub mod quota_snapshots;
pub mod retention;
pub mod webhooks;
