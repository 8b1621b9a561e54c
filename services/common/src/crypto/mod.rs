//! Crypto for secrets at rest, tokens and passwords (SPEC §13).
//!
//! - [`Secret`]: a wrapper whose `Debug`/`Display` print `<redacted>` and which zeroizes on drop.
//! - [`MasterKey`] and [`Keyring`]: XSalsa20-Poly1305 secretbox (byte-compatible with libsodium's
//!   `crypto_secretbox_easy`) under a master key, stored as `cc1:<key_id>:<base64>` so keys can
//!   rotate; [`load_keyring`] reads the key from env or `<data_dir>/master.key`.
//! - [`decrypt_peer_sbox`]: reads codex-orchestrator's `sbox:v1:` values for import.
//! - [`generate_token`] / [`token_digest`]: kind-prefixed 256-bit tokens stored as SHA-256.
//! - [`hash_password`] / [`verify_password`]: Argon2id PHC strings.
//!
//! See docs/adr/0002-secretbox-crate.md for why the secretbox comes from RustCrypto.

mod key;
mod keyring;
mod master_key;
mod password;
mod rng;
mod secret;
mod secretbox;
mod token;

pub use key::MasterKey;
pub use keyring::{Keyring, STORED_PREFIX};
pub use master_key::{
    ENV_MASTER_KEY, ENV_MASTER_KEY_PREVIOUS, KeySource, MASTER_KEY_FILE_NAME, load_keyring,
    load_keyring_file, write_keyring_file,
};
pub use password::{hash_password, verify_password};
pub use secret::Secret;
pub use secretbox::{PEER_SBOX_PREFIX, decrypt_peer_sbox, peer_key_from_str};
pub use token::{
    TokenKind, constant_time_eq, derived_token_value, generate_token, is_host_key_shape,
    token_digest, token_display_prefix, token_matches_digest,
};
