//! Keyset pagination: bounded page sizes and opaque page tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use codex_central_common::Error;
use tonic::Status;

use crate::status::encode;

pub const DEFAULT_PAGE_SIZE: u32 = 50;
pub const MAX_PAGE_SIZE: u32 = 500;

/// 0 means "the default"; anything above the maximum is clamped rather than refused.
pub fn page_limit(page_size: u32) -> u64 {
    let size = if page_size == 0 {
        DEFAULT_PAGE_SIZE
    } else {
        page_size.min(MAX_PAGE_SIZE)
    };
    u64::from(size)
}

/// Encodes the last key of a page as an opaque token.
pub fn encode_token(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key.as_bytes())
}

/// Decodes a page token; an empty token means "first page".
pub fn decode_token(token: &str) -> Result<Option<String>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .map_err(|_| invalid_token())?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| invalid_token())
}

/// Decodes a token whose key is a numeric id (a row id); empty means "first page".
pub fn decode_id_token(token: &str) -> Result<Option<i64>, Status> {
    decode_token(token)?
        .map(|key| key.parse::<i64>().map_err(|_| invalid_token()))
        .transpose()
}

/// The token of the page after `rows`: the last row's `key` when the page came back full
/// (`limit` rows), else empty (no more pages).
pub fn next_page_token<T, K: std::fmt::Display>(
    rows: &[T],
    limit: u64,
    key: impl Fn(&T) -> K,
) -> String {
    match rows.last() {
        Some(last) if rows.len() as u64 == limit => encode_token(&key(last).to_string()),
        _ => String::new(),
    }
}

fn invalid_token() -> Status {
    encode(&Error::invalid_field(
        "page.page_token",
        "page_token is not a valid page token",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_tokens() {
        assert_eq!(page_limit(0), 50);
        assert_eq!(page_limit(10_000), 500);
        assert_eq!(
            decode_token(&encode_token("abc")).unwrap().as_deref(),
            Some("abc")
        );
        assert_eq!(decode_token("").unwrap(), None);
        assert!(decode_token("!!").is_err());
        assert_eq!(decode_id_token(&encode_token("42")).unwrap(), Some(42));
        assert_eq!(decode_id_token("").unwrap(), None);
        assert!(decode_id_token(&encode_token("x")).is_err());
        assert_eq!(next_page_token(&[1, 2], 2, |n| *n), encode_token("2"));
        assert_eq!(next_page_token(&[1], 2, |n| *n), "");
        assert_eq!(next_page_token::<i32, i32>(&[], 2, |n| *n), "");
    }
}
