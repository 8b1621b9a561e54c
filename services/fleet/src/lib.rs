//! The fleet service: hosts, enrollment, versions, wrapper releases, fleet policy and the audit
//! log.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod conversions;
pub mod domain;
mod error;
mod grpc;
mod grpc_enrollment;
mod grpc_overview;
mod grpc_releases;

pub use error::{Error, Result};
pub use grpc::FleetGrpc;
