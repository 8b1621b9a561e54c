//! The config service: config.toml template and profiles, prompts, skills, AGENTS.md, upstream
//! providers and models, runtime overrides, client config bundles. This version serves the
//! config-distribution settings.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;
mod grpc_upstreams;

pub use error::{Error, Result};
pub use grpc::ConfigGrpc;
