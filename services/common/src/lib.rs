//! The ground floor of codex-central (no gRPC, no wire messages): the base error, principals,
//! crypto, client IPs, wire names and credential parsing and time helpers.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod batching;
pub mod crypto;
pub mod error;
pub mod net;
pub mod principal;
pub mod time;
pub mod ttl_cache;
pub mod wire;

pub use error::{Error, Result};
pub use principal::{Principal, PrincipalKind, Role};
