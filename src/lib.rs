//! codex-central: the server binary's library half (wiring, configuration, CLI), kept out of
//! `main.rs` so tests start the real stack in-process.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod keys;
pub mod listener;
pub mod services;
pub mod telemetry;
