//! The config service: the fleet's config.toml template with its profiles and per-host
//! overrides (baked per host), requirements.toml, prompts, skills, AGENTS.md and host-push
//! proposals, upstream providers and models, runtime overrides, per-user client config bundles.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;
mod grpc_client_config;
mod grpc_content;
mod grpc_requirements;
mod grpc_template;
mod grpc_upstreams;

pub use error::{Error, Result};
pub use grpc::ConfigGrpc;
