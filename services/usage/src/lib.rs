//! The usage service: token usage, pricing and cost, ChatGPT quota, proxy request logs.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;
mod grpc_aggregates;
mod grpc_alerts;
mod grpc_export;
mod grpc_pricing;
mod grpc_proxy_log;
mod grpc_queries;
mod grpc_quota;

pub use error::{Error, Result};
pub use grpc::UsageGrpc;
