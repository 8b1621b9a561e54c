//! Bearer tokens: 256 random bits, prefixed by kind, stored only as SHA-256 digests.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::rng;
use super::secret::Secret;
use crate::Result;

/// Random bytes per token: 256 bits (SPEC §13).
const TOKEN_BYTES: usize = 32;
/// Hex characters of the random part shown by [`token_display_prefix`]: 32 of 256 bits.
const DISPLAY_HEX_CHARS: usize = 8;

/// What a token is for; the prefix makes leaked tokens recognisable (secret scanners, humans).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Service / API key (`cct_`).
    Service,
    /// Personal bearer token, mimo2codex-compatible (`m2c_`).
    Personal,
    /// Per-host key used by `cdx` (`cch_`).
    Host,
    /// Dashboard login session (`ccs_`).
    Session,
    /// One-time installer token (`cci_`).
    Installer,
    /// One-time auth seed token (`ccd_`).
    Seed,
}

impl TokenKind {
    pub const ALL: [TokenKind; 6] = [
        TokenKind::Service,
        TokenKind::Personal,
        TokenKind::Host,
        TokenKind::Session,
        TokenKind::Installer,
        TokenKind::Seed,
    ];

    pub const fn prefix(self) -> &'static str {
        match self {
            TokenKind::Service => "cct",
            TokenKind::Personal => "m2c",
            TokenKind::Host => "cch",
            TokenKind::Session => "ccs",
            TokenKind::Installer => "cci",
            TokenKind::Seed => "ccd",
        }
    }

    /// Whether `token` is exactly `<prefix>_<64 hex>` for this kind.
    pub fn shapes(self, token: &str) -> bool {
        token
            .strip_prefix(self.prefix())
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|hex| {
                hex.len() == 2 * TOKEN_BYTES && hex.bytes().all(|b| b.is_ascii_hexdigit())
            })
    }

    /// The kind named by a token's prefix, if the token has the `<prefix>_` shape.
    pub fn of_token(token: &str) -> Option<TokenKind> {
        split_kind(token).map(|(kind, _)| kind)
    }
}

/// `<prefix>_<rest>` with a known prefix, split into the kind and the rest.
fn split_kind(token: &str) -> Option<(TokenKind, &str)> {
    let (prefix, rest) = token.split_once('_')?;
    let kind = TokenKind::ALL.into_iter().find(|k| k.prefix() == prefix)?;
    Some((kind, rest))
}

/// A new token `<prefix>_<64 lowercase hex>` from 32 OS-random bytes. Show it once, store
/// [`token_digest`].
pub fn generate_token(kind: TokenKind) -> Result<Secret<String>> {
    let bytes = Zeroizing::new(rng::array::<TOKEN_BYTES>()?);
    let hex = Zeroizing::new(hex::encode(*bytes));
    Ok(Secret::new(format!("{}_{}", kind.prefix(), hex.as_str())))
}

/// Lowercase hex SHA-256 of the whole token text: what the database stores and looks up.
/// A fast hash suffices because tokens carry 256 random bits (no dictionary to attack).
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A value derived from a secret token for another purpose (e.g. a session's CSRF token):
/// lowercase hex SHA-256 over a purpose label and the token, so it reveals nothing of the token
/// and differs from its stored digest.
pub fn derived_token_value(label: &str, token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"codex-central/");
    h.update(label.as_bytes());
    h.update([0u8]);
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// Host keys: ours (`cch_<64 hex>`) and the peer's (64 hex, kept so imported hosts keep working).
pub fn is_host_key_shape(key: &str) -> bool {
    TokenKind::Host.shapes(key)
        || (key.len() == 2 * TOKEN_BYTES && key.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `token` hashes to `digest_hex`, compared in constant time.
pub fn token_matches_digest(token: &str, digest_hex: &str) -> bool {
    constant_time_eq(token_digest(token).as_bytes(), digest_hex.as_bytes())
}

/// A log- and UI-safe label: kind prefix, underscore and at most the first 8 hex characters,
/// e.g. `cct_1a2b3c4d`. Anything not shaped like one of our tokens yields `<unrecognized>`, since
/// even a few characters of a foreign secret could matter.
pub fn token_display_prefix(token: &str) -> String {
    let Some((kind, rest)) = split_kind(token) else {
        return "<unrecognized>".to_string();
    };
    let shown: String = rest
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .take(DISPLAY_HEX_CHARS)
        .collect();
    format!("{}_{shown}", kind.prefix())
}

/// Constant-time equality for secrets and digests (length differences are not hidden).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn format_and_length() {
        for kind in TokenKind::ALL {
            let t = generate_token(kind).unwrap();
            let s = t.expose();
            let (prefix, hex) = s.split_once('_').unwrap();
            assert_eq!(prefix, kind.prefix());
            assert_eq!(prefix.len(), 3);
            assert_eq!(hex.len(), 64);
            assert!(
                hex.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
            assert_eq!(TokenKind::of_token(s), Some(kind));
            assert_eq!(format!("{t:?}"), "<redacted>");
        }
        let a = generate_token(TokenKind::Service).unwrap();
        let b = generate_token(TokenKind::Service).unwrap();
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn prefixes() {
        let got: Vec<_> = TokenKind::ALL.iter().map(|k| k.prefix()).collect();
        assert_eq!(got, ["cct", "m2c", "cch", "ccs", "cci", "ccd"]);
    }

    #[test]
    fn digest_is_sha256_hex_of_whole_token() {
        // SHA-256("abc"), FIPS 180-2 example.
        assert_eq!(
            token_digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let t = generate_token(TokenKind::Host).unwrap();
        let d = token_digest(t.expose());
        assert_eq!(d.len(), 64);
        assert!(!d.contains(&t.expose()[4..]));
        assert!(token_matches_digest(t.expose(), &d));
        assert!(!token_matches_digest(
            t.expose(),
            &token_digest("cch_other")
        ));
        // The prefix is part of the digest.
        assert_ne!(token_digest(&t.expose()[4..]), d);
    }

    #[test]
    fn display_prefix_is_short_and_safe() {
        let t = generate_token(TokenKind::Personal).unwrap();
        let p = token_display_prefix(t.expose());
        assert_eq!(p.len(), 4 + 8);
        assert!(t.expose().starts_with(&p));
        assert_eq!(token_display_prefix("cct_abc"), "cct_abc");
        assert_eq!(token_display_prefix("cct_"), "cct_");
        assert_eq!(token_display_prefix("cct_12zz34"), "cct_12");
        assert_eq!(token_display_prefix("sk-proj-abcdef"), "<unrecognized>");
        assert_eq!(token_display_prefix("xyz_0123456789"), "<unrecognized>");
        assert_eq!(token_display_prefix(""), "<unrecognized>");
        assert_eq!(token_display_prefix("cct_é0123456789"), "cct_");
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
