//! The auth service: people and credentials. This version resolves credentials (service
//! tokens), answers `WhoAmI`, and administers service tokens.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;
mod grpc_users;
pub mod layer;

pub use domain::authenticator::Authenticator;
pub use error::{Error, Result};
pub use grpc::AuthGrpc;
