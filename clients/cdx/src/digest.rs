//! The digest of an `auth.json` as the server computes it: SHA-256 of the compact text that
//! Python's `json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))` writes
//! (member order kept, strings re-encoded the Python way, number text kept as written).

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The compact text of a JSON document, or None when it is not valid JSON.
pub fn compact_json(text: &str) -> Option<String> {
    // Validate first (and reject lone surrogates), so the scan below can assume good JSON.
    serde_json::from_str::<serde::de::IgnoredAny>(text).ok()?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => rest = &rest[1..],
            '"' => {
                let end = string_end(rest)?;
                let decoded: String = serde_json::from_str(&rest[..end]).ok()?;
                write_python_string(&mut out, &decoded);
                rest = &rest[end..];
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Some(out)
}

/// The byte index just past the string token that starts `s` (which begins with `"`).
fn string_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Only `"`, `\` and U+0000–U+001F are escaped (short forms where JSON has them, else
/// `\u00xx` in lowercase); `/` and non-ASCII text are written raw.
fn write_python_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The digest of an auth.json text (None when it is not JSON).
pub fn auth_digest(text: &str) -> Option<String> {
    compact_json(text).map(|c| sha256_hex(c.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Vector {
        name: String,
        raw: String,
        compact: String,
        sha256: String,
    }

    /// The server's vectors, generated with Python's json module: cdx and the server must agree.
    #[test]
    fn matches_the_servers_python_vectors() {
        let vectors: Vec<Vector> = serde_json::from_str(include_str!(
            "../../../services/auth/testdata/auth_json_vectors.json"
        ))
        .unwrap();
        assert!(vectors.len() >= 15);
        let mut checked = 0;
        for v in vectors {
            // Duplicate keys are refused by the server; Python would collapse them. Skip those.
            let Some(compact) = compact_json(&v.raw) else {
                continue;
            };
            assert_eq!(compact, v.compact, "{}", v.name);
            assert_eq!(sha256_hex(compact.as_bytes()), v.sha256, "{}", v.name);
            checked += 1;
        }
        assert!(checked >= 15, "only {checked} vectors checked");
    }

    #[test]
    fn pretty_codex_file_has_the_digest_of_its_compact_form() {
        let pretty = "{\n  \"OPENAI_API_KEY\": null,\n  \"tokens\": {\n    \"id_token\": \"a/b\",\n    \"account_id\": \"acct\"\n  },\n  \"last_refresh\": \"2026-11-23T17:57:41.929059500Z\",\n  \"n\": 1.50\n}\n";
        let compact = "{\"OPENAI_API_KEY\":null,\"tokens\":{\"id_token\":\"a/b\",\"account_id\":\"acct\"},\"last_refresh\":\"2026-11-23T17:57:41.929059500Z\",\"n\":1.50}";
        assert_eq!(compact_json(pretty).unwrap(), compact);
        assert_eq!(auth_digest(pretty).unwrap(), sha256_hex(compact.as_bytes()));
        assert_eq!(
            compact_json("[\"\\u00e9\\/\\u001F x\"]").unwrap(),
            "[\"é/\\u001f x\"]"
        );
        assert_eq!(compact_json("{}").unwrap(), "{}");
        assert!(compact_json("{").is_none());
        assert!(compact_json("[\"\\ud83d\"]").is_none());
    }
}
