//! The memory service: memories for Codex with full-text search on every backend, and the
//! memory-store settings. The sandboxed workspace files come with the MCP tools.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;

pub use error::{Error, Result};
pub use grpc::MemoryGrpc;
