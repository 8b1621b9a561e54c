//! The usage service: token usage, pricing and cost, ChatGPT quota, proxy request logs. This
//! version serves the quota policy.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;
mod grpc_proxy_log;

pub use error::{Error, Result};
pub use grpc::UsageGrpc;
