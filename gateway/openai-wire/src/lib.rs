//! Translation between OpenAI's two wire APIs, Responses (`/v1/responses`) and Chat Completions
//! (`/v1/chat/completions`), for when the client speaks one and the upstream provider the other.
//!
//! Everything here is a pure function or a state machine over `serde_json::Value`s and SSE
//! events, with no I/O, so the HTTP handlers stay thin and every rule is unit tested. Input comes
//! from the network: nothing here panics on any JSON; what cannot be translated is skipped or
//! reported as a [`TranslateError`].
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod json;
pub mod request;
pub mod response;
pub mod sse;
pub mod stream;
#[cfg(test)]
mod testkit;

use std::fmt;

/// What the translation needs to know about the route.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Model name sent upstream.
    pub upstream_model: String,
    /// Clamp max tokens sent upstream to this; also sent when the client asked for none.
    pub max_output_tokens_cap: Option<u32>,
    /// Send reasoning effort upstream only when true: providers without reasoning reject it.
    pub supports_reasoning: bool,
    /// OpenAI's own Chat API wants `max_completion_tokens` (its reasoning models reject
    /// `max_tokens`); everyone else reads `max_tokens`.
    pub max_completion_tokens: bool,
}

/// A request the gateway cannot translate (answered 400 invalid_request_error with this message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError(pub String);

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TranslateError {}

/// Normalised token usage taken from either API.
///
/// `input` includes the cached part and `output` the reasoning part, as both APIs count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub input: u64,
    pub cached_input: u64,
    pub output: u64,
    pub reasoning: u64,
}

/// A fresh id like `msg_0190…`: the wire ids of the generated items only need to be unique.
fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::now_v7().simple())
}

/// Seconds since the epoch, for `created` / `created_at` when the upstream gave none.
fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}
