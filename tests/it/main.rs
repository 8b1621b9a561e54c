//! One integration test binary for the whole workspace (it links once).
// Test helpers outside #[test] fns: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod testkit;

mod access;
mod accounts;
mod audit_atomic;
mod cdx;
mod cdx_codex;
mod cdx_lifecycle;
mod cdx_session;
mod chatgpt_usage;
mod cli;
mod client_config;
mod clients;
mod codex_auth_status;
mod codex_cli;
mod codex_config;
mod codex_refresh;
mod codex_refresh_cli;
mod codex_refresh_replicas;
mod codex_validation;
mod config_toml;
mod content;
mod dashboard;
mod distribution;
mod errors;
mod fleet;
mod fleet_grpc;
mod gateway_translate;
mod gateway_v1;
mod grpc;
mod idp_stub;
mod live;
mod mcp;
mod mcp_clients;
mod memories;
mod oauth;
mod otlp;
mod outage;
mod pages;
mod peer_wrapper;
mod rest;
mod split;
mod store;
mod store_mcp_log;
mod store_memories;
mod store_usage;
mod store_workspace;
mod tls;
mod usage;
mod usage_alerts;
mod users;
mod workspace;
