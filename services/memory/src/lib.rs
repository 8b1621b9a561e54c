//! The memory service: memories for Codex with full-text search on every backend, the
//! memory-store settings, and the sandboxed MCP file workspace (kept in the database).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;
mod grpc_access_log;
mod grpc_workspace;

pub use error::{Error, Result};
pub use grpc::MemoryGrpc;

pub use codex_central_proto::memory::MAX_MESSAGE_BYTES;

// The message limit must hold the largest file the settings allow.
const _: () =
    assert!(domain::settings::MAX_WORKSPACE_FILE_BYTES as usize + 64 * 1024 <= MAX_MESSAGE_BYTES);
