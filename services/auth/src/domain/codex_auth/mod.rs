//! The canonical Codex `auth.json` (SPEC §4 "The canonical auth.json", §7): compaction, digest,
//! validation and the retrieve/store decisions, as pure functions.
//!
//! The server stores the upload's compact JSON text and nothing else: no keys added, key order
//! and number text kept, strings encoded as Python's `json.dumps(…, ensure_ascii=False,
//! separators=(",", ":"))` does. A host's digest is the SHA-256 of exactly that text, so the two
//! never drift (the peer's PHP re-encoding broke this for `{}` and floats).

mod claims;
mod compact;
mod decision;
mod document;
mod json;
mod mask;
mod rewrite;
mod token_quality;

pub use claims::{Claims, Due, Mode, RefreshPolicy, claims, next_refresh, refresh_due};
pub use compact::{compact_json, sha256_hex};
pub use decision::{RetrieveOutcome, StoreOutcome, decide_retrieve, decide_store};
pub use document::{CanonicalDocument, is_digest, parse_client_timestamp};
pub use mask::{mask_secret, masked};
pub use rewrite::{
    CUSTODY_PLACEHOLDER, NewTokens, custody_view, refresh_token, restore_custody, with_new_tokens,
};
pub use token_quality::{MIN_TOKEN_LENGTH, check_token_quality};

/// A rejected input, named by the dotted path of the offending field (`auth.tokens.access_token`)
/// so the API can answer 422 / `INVALID_ARGUMENT` pointing at it. Messages never quote a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
