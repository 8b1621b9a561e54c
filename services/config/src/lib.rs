//! The config service: config.toml template and profiles, prompts, skills, AGENTS.md, upstream
//! providers and models, runtime overrides, client config bundles. Served so far: the settings,
//! `AGENTS.md`, prompts, skills and host-push proposals, upstream providers, models and overrides.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod domain;
mod error;
mod grpc;
mod grpc_content;
mod grpc_requirements;
mod grpc_template;
mod grpc_upstreams;

pub use error::{Error, Result};
pub use grpc::ConfigGrpc;
