//! Masked copies of a canonical `auth.json` for admin views (SPEC §4: tokens only masked unless
//! an admin explicitly reveals them).

use super::json::{self, Json};

/// Keys whose string values are secrets, at any depth.
const SECRET_KEYS: [&str; 6] = [
    "access_token",
    "refresh_token",
    "id_token",
    "OPENAI_API_KEY",
    "token",
    "api_key",
];

/// Below this many characters, showing 4 + 4 of them would reveal most of the value.
const MIN_PARTIAL_LENGTH: usize = 12;

const SHOWN: usize = 4;

const ELLIPSIS: &str = "…";

/// The compact JSON of `doc_text` with every secret string (see [`SECRET_KEYS`], including
/// strings inside arrays under such a key) replaced by its first and last 4 characters around
/// `…`, or by `…` alone when shorter than 12 characters. Everything else is kept as is.
///
/// A text that does not parse yields `"…"`: a view must never fall back to the raw secret.
pub fn masked(doc_text: &str) -> String {
    match json::parse(doc_text) {
        Ok(mut value) => {
            mask_value(&mut value, false);
            value.to_compact()
        }
        Err(_) => format!("\"{ELLIPSIS}\""),
    }
}

fn mask_value(value: &mut Json, secret: bool) {
    match value {
        Json::String(s) if secret => *s = mask_secret(s),
        Json::Array(items) => items.iter_mut().for_each(|item| mask_value(item, secret)),
        Json::Object(members) => {
            for (key, member) in members {
                mask_value(member, SECRET_KEYS.contains(&key.as_str()));
            }
        }
        _ => {}
    }
}

/// A secret (or an identifier) as its first and last 4 characters around `…`.
pub fn mask_secret(secret: &str) -> String {
    let length = secret.chars().count();
    if length < MIN_PARTIAL_LENGTH {
        return ELLIPSIS.to_owned();
    }
    let head: String = secret.chars().take(SHOWN).collect();
    let tail: String = secret.chars().skip(length - SHOWN).collect();
    format!("{head}{ELLIPSIS}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_secret_key_at_any_depth() {
        let raw = r#"{
            "OPENAI_API_KEY": "sk-proj-abcdefghijklmnop1234",
            "tokens": {"id_token": "eyJhbGciOi.payload.sig9", "access_token": "eyJaccess-token-xyz9",
                       "refresh_token": "rt_refresh_token_value", "account_id": "acct-1234567890abcdef"},
            "auths": {"api.openai.com": {"token": "tok_abcdefghijkl", "token_type": "bearer",
                                         "api_base": "https://api.openai.com/v1"}},
            "extra": {"api_key": "short", "list": [{"token": "0123456789abcdefXYZ"}]},
            "last_refresh": "2025-09-03T11:00:00Z",
            "n": 1.0
        }"#;
        assert_eq!(
            masked(raw),
            concat!(
                r#"{"OPENAI_API_KEY":"sk-p…1234","#,
                r#""tokens":{"id_token":"eyJh…sig9","access_token":"eyJa…xyz9","#,
                r#""refresh_token":"rt_r…alue","account_id":"acct-1234567890abcdef"},"#,
                r#""auths":{"api.openai.com":{"token":"tok_…ijkl","token_type":"bearer","#,
                r#""api_base":"https://api.openai.com/v1"}},"#,
                r#""extra":{"api_key":"…","list":[{"token":"0123…fXYZ"}]},"#,
                r#""last_refresh":"2025-09-03T11:00:00Z","n":1.0}"#
            )
        );
    }

    #[test]
    fn length_threshold_and_unicode() {
        assert_eq!(masked(r#"{"token":"abcdefghijk"}"#), r#"{"token":"…"}"#);
        assert_eq!(
            masked(r#"{"token":"abcdefghijkl"}"#),
            r#"{"token":"abcd…ijkl"}"#
        );
        assert_eq!(masked(r#"{"token":""}"#), r#"{"token":"…"}"#);
        assert_eq!(
            masked(r#"{"token":"éééé1234567890ü"}"#),
            r#"{"token":"éééé…890ü"}"#
        );
    }

    #[test]
    fn secrets_inside_arrays_under_a_secret_key_are_masked() {
        assert_eq!(
            masked(r#"{"token":["abcdefghijklmnop", 5, null]}"#),
            r#"{"token":["abcd…mnop",5,null]}"#
        );
    }

    #[test]
    fn non_string_and_non_secret_values_are_untouched() {
        let raw = r#"{"token":null,"api_key":42,"tokens":{"account_id":"abcdefghijklmnop"},"Token":"abcdefghijklmnop"}"#;
        assert_eq!(masked(raw), raw);
    }

    #[test]
    fn unparseable_text_is_fully_masked() {
        assert_eq!(masked(r#"{"token":"abcdefghijklmnop""#), "\"…\"");
    }
}
