//! "Tokens must look like tokens" (contract §4): catches the obvious junk a hand-edited or
//! half-written `auth.json` carries before it is pushed to a whole fleet.

use super::FieldError;

/// The peer's `TOKEN_MIN_LENGTH` default; real access, refresh and id tokens and API keys are far
/// longer.
pub const MIN_TOKEN_LENGTH: usize = 24;

/// Fewer distinct characters than this cannot be a random secret.
const MIN_DISTINCT_CHARS: usize = 6;

/// Values people paste while testing (the peer's list), compared case-insensitively.
const PLACEHOLDERS: [&str; 8] = [
    "token",
    "newer-token",
    "placeholder",
    "changeme",
    "dummy",
    "test",
    "example",
    "example-token",
];

/// Checks one token-like value, reporting on `field`. The message never repeats the value.
pub fn check_token_quality(field: &str, value: &str) -> Result<(), FieldError> {
    let fail = |message: String| Err(FieldError::new(field, message));
    if value.is_empty() {
        return fail("must not be empty".into());
    }
    if value.chars().any(char::is_whitespace) {
        return fail("must not contain whitespace".into());
    }
    if let Some(p) = PLACEHOLDERS.iter().find(|p| p.eq_ignore_ascii_case(value)) {
        return fail(format!("is a placeholder ({p:?}), not a real token"));
    }
    let length = value.chars().count();
    if length < MIN_TOKEN_LENGTH {
        return fail(format!(
            "is too short to be a token ({length} characters, at least {MIN_TOKEN_LENGTH})"
        ));
    }
    let mut distinct: Vec<char> = value.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() == 1 {
        return fail("is a single repeated character, not a real token".into());
    }
    if distinct.len() < MIN_DISTINCT_CHARS {
        return fail(format!(
            "has only {} distinct characters (at least {MIN_DISTINCT_CHARS}), not a real token",
            distinct.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(value: &str) -> String {
        check_token_quality("auth.x", value).unwrap_err().message
    }

    #[test]
    fn accepts_real_looking_tokens() {
        for value in [
            "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
            "rt_0123456789abcdefABCDEF",
            "abcdef".repeat(4).as_str(),
        ] {
            assert_eq!(check_token_quality("auth.x", value), Ok(()), "{value}");
        }
    }

    #[test]
    fn rejects_each_kind_of_junk() {
        assert_eq!(message(""), "must not be empty");
        assert_eq!(
            message("abc def ghijklmnopqrstuvwxyz"),
            "must not contain whitespace"
        );
        assert_eq!(
            message("abcdefghijklmnopqrstuvwxyz\n"),
            "must not contain whitespace"
        );
        assert_eq!(
            message("abcdefghijklm\u{a0}nopqrstuvwxyz"),
            "must not contain whitespace"
        );
        assert!(message("abcdefghijklmnopqrstu").contains("too short"));
        assert!(message("abcdefghijklmnopqrstu").contains("21 characters, at least 24"));
        assert_eq!(
            message(&"x".repeat(40)),
            "is a single repeated character, not a real token"
        );
        assert!(message(&"abcde".repeat(8)).contains("only 5 distinct characters"));
    }

    #[test]
    fn rejects_placeholders_case_insensitively() {
        for value in [
            "token",
            "newer-token",
            "placeholder",
            "changeme",
            "dummy",
            "test",
            "example",
            "example-token",
            "TOKEN",
            "ChangeMe",
            "Example-Token",
        ] {
            assert!(message(value).contains("is a placeholder"), "{value}");
        }
    }

    #[test]
    fn reports_the_given_field_and_never_the_value() {
        let err = check_token_quality("auth.tokens.access_token", "short-secret").unwrap_err();
        assert_eq!(err.field, "auth.tokens.access_token");
        assert!(!err.to_string().contains("short-secret"));
    }
}
