//! Shared building blocks of the codex-central services: errors, principals, crypto, client IPs.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod crypto;
pub mod error;
pub mod net;
pub mod paging;
mod pending;
pub mod principal;
pub mod time;
pub mod ttl_cache;

pub use error::{Error, Result};
pub use principal::{CallContext, Principal, PrincipalKind, Role};
