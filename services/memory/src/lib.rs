//! The memory service: memories for Codex with full-text search. This version serves the
//! memory-store settings.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;

pub use error::{Error, Result};
pub use grpc::MemoryGrpc;
