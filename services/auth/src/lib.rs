//! The auth service: people and credentials. It resolves every credential (service and
//! personal tokens, sessions), signs people in, and keeps users, tokens and BYOK keys.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;
pub mod layer;

pub use domain::authenticator::Authenticator;
pub use error::{Error, Result};
pub use grpc::{
    AuthServices, ByokGrpc, CodexAuthGrpc, IdentityGrpc, SessionGrpc, SignInProviderGrpc,
    TokenGrpc, UserGrpc,
};
