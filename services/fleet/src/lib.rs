//! The fleet service: hosts, enrollment, versions, wrapper releases, fleet policy and the audit
//! log. This version serves the fleet policy and audit queries.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;
mod grpc_releases;

pub use error::{Error, Result};
pub use grpc::FleetGrpc;
