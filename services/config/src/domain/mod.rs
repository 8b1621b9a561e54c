//! The config service's domain logic (no tonic or axum here).

pub mod agents;
pub mod bake;
pub mod client_config;
mod client_scripts;
pub mod codex_toml;
pub mod config_docs;
pub mod content;
pub mod prompts;
pub mod proposals;
pub mod providers;
pub mod requirements_docs;
pub mod settings;
pub mod skills;
