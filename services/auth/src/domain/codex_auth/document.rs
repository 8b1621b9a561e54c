//! A validated canonical `auth.json`: its compact text, digest and `last_refresh`.

use std::fmt;

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone, Utc};

use super::json::Json;
use super::token_quality::check_token_quality;
use super::{FieldError, compact};

/// How far a `last_refresh` may lie ahead of the server clock: host clocks drift a little, but a
/// document from the future would win every comparison until that time comes.
const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);

/// The token fields of `tokens` that must pass the quality check when present.
const OPTIONAL_TOKENS: [&str; 2] = ["id_token", "refresh_token"];

/// An uploaded `auth.json` as it will be stored: exactly its compact text, nothing added or
/// rewritten, so `digest` equals what the host computes over the file.
#[derive(Clone, PartialEq, Eq)]
pub struct CanonicalDocument {
    /// The compact JSON text (see [`compact::compact_json`]).
    pub text: String,
    /// Lowercase hex SHA-256 of `text`.
    pub digest: String,
    /// `last_refresh` exactly as the document has it.
    pub last_refresh: String,
    /// `last_refresh` as an instant, for comparisons.
    pub last_refresh_at: DateTime<Utc>,
}

/// The text holds live tokens; debug output (and so logs) only gets the digest and timestamp.
impl fmt::Debug for CanonicalDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CanonicalDocument")
            .field("digest", &self.digest)
            .field("last_refresh", &self.last_refresh)
            .finish_non_exhaustive()
    }
}

impl CanonicalDocument {
    /// Compacts and validates an upload (SPEC §4, contract §4): a JSON object with a plausible
    /// `last_refresh` and either a non-empty `OPENAI_API_KEY` or `tokens.access_token`, every
    /// token passing the quality check. Errors name the field as `auth.<path>`.
    pub fn parse(raw: &str, now: DateTime<Utc>) -> Result<Self, FieldError> {
        let root = super::json::parse(raw)?;
        if !matches!(root, Json::Object(_)) {
            return Err(FieldError::new(
                "auth",
                format!("must be a JSON object, not {}", root.kind()),
            ));
        }
        let (last_refresh, last_refresh_at) = check_last_refresh(&root, now)?;
        check_credentials(&root)?;
        check_auths(&root)?;
        let text = root.to_compact();
        let digest = compact::sha256_hex(&text);
        Ok(Self {
            text,
            digest,
            last_refresh,
            last_refresh_at,
        })
    }
}

/// Parses the `last_refresh` a host sends with `retrieve` (field `last_refresh`). Only the
/// format is checked: any instant compares fine against the canonical one.
pub fn parse_client_timestamp(s: &str) -> Result<DateTime<Utc>, FieldError> {
    parse_timestamp("last_refresh", s)
}

/// Whether `s` looks like a SHA-256 hex digest (64 hex digits, either case; compare lowercase).
pub fn is_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_last_refresh(
    root: &Json,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), FieldError> {
    const FIELD: &str = "auth.last_refresh";
    let text = required_string(root, "last_refresh", FIELD)?;
    let at = parse_timestamp(FIELD, text)?;
    if at < earliest_plausible() {
        return Err(FieldError::new(
            FIELD,
            "is before 2000-01-01, which cannot be a real refresh time",
        ));
    }
    if at > now + MAX_CLOCK_SKEW {
        return Err(FieldError::new(
            FIELD,
            "is more than 5 minutes in the future (check the host's clock)",
        ));
    }
    Ok((text.to_owned(), at))
}

fn earliest_plausible() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// RFC 3339 with any offset and any fraction length (Codex writes nanoseconds). A time without
/// an offset is refused rather than guessed, since the guess would decide which copy wins.
fn parse_timestamp(field: &str, s: &str) -> Result<DateTime<Utc>, FieldError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(s) {
        return Ok(at.with_timezone(&Utc));
    }
    let message = if NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok() {
        "has no time zone offset; add Z or an offset such as +02:00"
    } else {
        "is not an RFC 3339 timestamp (expected e.g. 2025-01-01T00:00:00Z)"
    };
    Err(FieldError::new(field, message))
}

/// Either a non-empty `OPENAI_API_KEY` or a `tokens` object with an `access_token`; `null`
/// counts as absent because Codex writes `"OPENAI_API_KEY": null` in ChatGPT mode.
fn check_credentials(root: &Json) -> Result<(), FieldError> {
    let api_key = optional_string(root, "OPENAI_API_KEY", "auth.OPENAI_API_KEY")?
        .filter(|key| !key.is_empty());
    if let Some(key) = api_key {
        check_token_quality("auth.OPENAI_API_KEY", key)?;
    }
    let tokens = match root.get("tokens") {
        None | Some(Json::Null) => None,
        Some(tokens @ Json::Object(_)) => Some(tokens),
        Some(other) => {
            return Err(FieldError::new(
                "auth.tokens",
                format!("must be an object, not {}", other.kind()),
            ));
        }
    };
    if let Some(tokens) = tokens {
        check_tokens(tokens)?;
    }
    if api_key.is_none() && tokens.is_none() {
        return Err(FieldError::new(
            "auth",
            "needs either a non-empty OPENAI_API_KEY or a tokens object with an access_token",
        ));
    }
    Ok(())
}

fn check_tokens(tokens: &Json) -> Result<(), FieldError> {
    const ACCESS: &str = "auth.tokens.access_token";
    check_token_quality(ACCESS, required_string(tokens, "access_token", ACCESS)?)?;
    for name in OPTIONAL_TOKENS {
        let field = format!("auth.tokens.{name}");
        if let Some(token) = optional_string(tokens, name, &field)? {
            check_token_quality(&field, token)?;
        }
    }
    Ok(())
}

/// The peer's per-target credentials. Only checked, never synthesized: adding them would change
/// the text and so the digest the host computes.
fn check_auths(root: &Json) -> Result<(), FieldError> {
    let entries = match root.get("auths") {
        None | Some(Json::Null) => return Ok(()),
        Some(Json::Object(entries)) => entries,
        Some(other) => {
            return Err(FieldError::new(
                "auth.auths",
                format!("must be an object, not {}", other.kind()),
            ));
        }
    };
    for (target, entry) in entries {
        let entry_field = format!("auth.auths.{target}");
        if !matches!(entry, Json::Object(_)) {
            return Err(FieldError::new(
                entry_field,
                format!("must be an object, not {}", entry.kind()),
            ));
        }
        let field = format!("{entry_field}.token");
        check_token_quality(&field, required_string(entry, "token", &field)?)?;
    }
    Ok(())
}

/// A member that must be present as a string.
fn required_string<'a>(object: &'a Json, key: &str, field: &str) -> Result<&'a str, FieldError> {
    optional_string(object, key, field)?.ok_or_else(|| FieldError::new(field, "is required"))
}

/// A member that may be absent or `null`, and otherwise must be a string.
fn optional_string<'a>(
    object: &'a Json,
    key: &str,
    field: &str,
) -> Result<Option<&'a str>, FieldError> {
    match object.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(other) => Err(FieldError::new(
            field,
            format!("must be a string, not {}", other.kind()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const ACCESS: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhY2Nlc3MifQ.c2lnbmF0dXJlLWFjY2Vzcw";
    const ID: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJpZCJ9.c2lnbmF0dXJlLWlk";
    const REFRESH: &str = "rt_Qm9ndXNSZWZyZXNoVG9rZW4wMDAx";
    const API_KEY: &str = "sk-proj-Qm9ndXNBcGlLZXkwMDAxMjM0NTY3";

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-09-03T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn chatgpt() -> Value {
        json!({
            "OPENAI_API_KEY": null,
            "tokens": {
                "id_token": ID,
                "access_token": ACCESS,
                "refresh_token": REFRESH,
                "account_id": "3f9c1a2e-7b4d-4e8f-9a01-5c6d7e8f9a0b"
            },
            "last_refresh": "2025-09-03T11:00:00.123456789Z"
        })
    }

    fn parse(doc: &Value) -> Result<CanonicalDocument, FieldError> {
        CanonicalDocument::parse(&serde_json::to_string_pretty(doc).unwrap(), now())
    }

    /// The field and message of the error `doc` is rejected with.
    fn rejection(doc: &Value) -> (String, String) {
        let err = parse(doc).unwrap_err();
        (err.field, err.message)
    }

    fn with(mut doc: Value, pointer: &str, value: Value) -> Value {
        *doc.pointer_mut(pointer).unwrap() = value;
        doc
    }

    fn without(mut doc: Value, parent: &str, key: &str) -> Value {
        doc.pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .unwrap()
            .remove(key);
        doc
    }

    #[test]
    fn keeps_the_compact_text_and_digests_it() {
        let raw = "{\n  \"OPENAI_API_KEY\": null,\n  \"tokens\": {\"access_token\": \"".to_owned()
            + ACCESS
            + "\", \"extra\": {}, \"n\": 1.0},\n  \"last_refresh\": \"2025-09-03T11:00:00Z\"\n}\n";
        let doc = CanonicalDocument::parse(&raw, now()).unwrap();
        let expected = format!(
            "{{\"OPENAI_API_KEY\":null,\"tokens\":{{\"access_token\":\"{ACCESS}\",\"extra\":{{}},\"n\":1.0}},\"last_refresh\":\"2025-09-03T11:00:00Z\"}}"
        );
        assert_eq!(doc.text, expected);
        assert_eq!(doc.digest, compact::sha256_hex(&expected));
        assert_eq!(doc.last_refresh, "2025-09-03T11:00:00Z");
        assert_eq!(doc.last_refresh_at, at("2025-09-03T11:00:00Z"));
    }

    #[test]
    fn accepts_chatgpt_and_api_key_documents() {
        let doc = parse(&chatgpt()).unwrap();
        assert_eq!(doc.last_refresh, "2025-09-03T11:00:00.123456789Z");
        assert_eq!(doc.last_refresh_at.timestamp_subsec_nanos(), 123_456_789);

        let api = json!({"OPENAI_API_KEY": API_KEY, "last_refresh": "2025-09-03T11:00:00Z"});
        assert!(parse(&api).is_ok());
        let api_null_tokens = json!({"OPENAI_API_KEY": API_KEY, "tokens": null,
                                     "last_refresh": "2025-09-03T11:00:00Z"});
        assert!(parse(&api_null_tokens).is_ok());
        let both = with(chatgpt(), "/OPENAI_API_KEY", json!(API_KEY));
        assert!(parse(&both).is_ok());
        let empty_key_with_tokens = with(chatgpt(), "/OPENAI_API_KEY", json!(""));
        assert!(parse(&empty_key_with_tokens).is_ok());
        let minimal = without(
            without(chatgpt(), "/tokens", "id_token"),
            "/tokens",
            "refresh_token",
        );
        assert!(parse(&minimal).is_ok());
        let null_optional = with(chatgpt(), "/tokens/id_token", Value::Null);
        assert!(parse(&null_optional).is_ok());
    }

    #[test]
    fn debug_output_hides_the_tokens() {
        let doc = parse(&chatgpt()).unwrap();
        let debug = format!("{doc:?}");
        assert!(debug.contains(&doc.digest));
        assert!(!debug.contains(ACCESS));
    }

    #[test]
    fn must_be_an_object() {
        for raw in ["[]", "\"x\"", "1", "null"] {
            let err = CanonicalDocument::parse(raw, now()).unwrap_err();
            assert_eq!(err.field, "auth");
            assert!(
                err.message.starts_with("must be a JSON object, not "),
                "{raw}"
            );
        }
        let err = CanonicalDocument::parse("{", now()).unwrap_err();
        assert_eq!(err.field, "auth");
        assert!(err.message.starts_with("invalid JSON"));
        let dup = CanonicalDocument::parse(r#"{"last_refresh":"a","last_refresh":"b"}"#, now());
        assert!(dup.unwrap_err().message.starts_with("duplicate key"));
    }

    #[test]
    fn last_refresh_rules() {
        let field = "auth.last_refresh".to_owned();
        let missing = without(chatgpt(), "", "last_refresh");
        assert_eq!(rejection(&missing), (field.clone(), "is required".into()));
        let number = with(chatgpt(), "/last_refresh", json!(1_756_897_200));
        assert_eq!(
            rejection(&number),
            (field.clone(), "must be a string, not a number".into())
        );
        let null = with(chatgpt(), "/last_refresh", Value::Null);
        assert_eq!(rejection(&null), (field.clone(), "is required".into()));
        for bad in [
            "yesterday",
            "",
            "2025-09-03",
            "2025-13-01T00:00:00Z",
            "1756897200",
        ] {
            let (f, message) = rejection(&with(chatgpt(), "/last_refresh", json!(bad)));
            assert_eq!(f, field);
            assert!(
                message.starts_with("is not an RFC 3339 timestamp"),
                "{bad}: {message}"
            );
        }
        let naive = with(chatgpt(), "/last_refresh", json!("2025-09-03T11:00:00.5"));
        assert!(rejection(&naive).1.contains("no time zone offset"));
        let ancient = with(chatgpt(), "/last_refresh", json!("1999-12-31T23:59:59Z"));
        assert_eq!(rejection(&ancient).0, field);
        assert!(rejection(&ancient).1.contains("before 2000-01-01"));
        let future = with(
            chatgpt(),
            "/last_refresh",
            json!("2025-09-03T12:05:00.000000001Z"),
        );
        assert!(
            rejection(&future)
                .1
                .contains("more than 5 minutes in the future")
        );
    }

    #[test]
    fn last_refresh_bounds_are_inclusive() {
        for ok in [
            "2000-01-01T00:00:00Z",
            "2000-01-01T02:00:00+02:00",
            "2025-09-03T12:05:00Z",
        ] {
            let doc = parse(&with(chatgpt(), "/last_refresh", json!(ok))).unwrap();
            assert_eq!(doc.last_refresh, ok);
        }
        let shifted = with(
            chatgpt(),
            "/last_refresh",
            json!("2025-09-03T14:05:00+02:00"),
        );
        assert!(parse(&shifted).is_ok());
        let too_far = with(
            chatgpt(),
            "/last_refresh",
            json!("2025-09-03T14:05:01+02:00"),
        );
        assert!(parse(&too_far).is_err());
    }

    #[test]
    fn needs_some_credential() {
        let expected = (
            "auth".to_owned(),
            "needs either a non-empty OPENAI_API_KEY or a tokens object with an access_token"
                .to_owned(),
        );
        let nothing = json!({"last_refresh": "2025-09-03T11:00:00Z"});
        assert_eq!(rejection(&nothing), expected);
        let nulls = json!({"OPENAI_API_KEY": null, "tokens": null,
                           "last_refresh": "2025-09-03T11:00:00Z"});
        assert_eq!(rejection(&nulls), expected);
        let empty_key = json!({"OPENAI_API_KEY": "", "last_refresh": "2025-09-03T11:00:00Z"});
        assert_eq!(rejection(&empty_key), expected);
    }

    #[test]
    fn api_key_rules() {
        let field = "auth.OPENAI_API_KEY".to_owned();
        let doc =
            |key: Value| json!({"OPENAI_API_KEY": key, "last_refresh": "2025-09-03T11:00:00Z"});
        assert_eq!(
            rejection(&doc(json!(42))),
            (field.clone(), "must be a string, not a number".into())
        );
        assert_eq!(
            rejection(&doc(json!("sk-proj 0123456789abcdefghij"))),
            (field.clone(), "must not contain whitespace".into())
        );
        assert_eq!(rejection(&doc(json!("changeme"))).0, field);
        assert_eq!(rejection(&doc(json!("sk-short"))).0, field);
        // A bad key is reported even when tokens would have been enough.
        let both = with(chatgpt(), "/OPENAI_API_KEY", json!("dummy"));
        assert_eq!(rejection(&both).0, field);
    }

    #[test]
    fn tokens_rules() {
        assert_eq!(
            rejection(&with(chatgpt(), "/tokens", json!("abc"))),
            (
                "auth.tokens".into(),
                "must be an object, not a string".into()
            )
        );
        assert_eq!(
            rejection(&without(chatgpt(), "/tokens", "access_token")),
            ("auth.tokens.access_token".into(), "is required".into())
        );
        assert_eq!(
            rejection(&with(chatgpt(), "/tokens/access_token", Value::Null)),
            ("auth.tokens.access_token".into(), "is required".into())
        );
        assert_eq!(
            rejection(&with(chatgpt(), "/tokens/access_token", json!(["x"]))),
            (
                "auth.tokens.access_token".into(),
                "must be a string, not an array".into()
            )
        );
        assert_eq!(
            rejection(&with(chatgpt(), "/tokens/access_token", json!(""))),
            (
                "auth.tokens.access_token".into(),
                "must not be empty".into()
            )
        );
        // An API key does not excuse a tokens object without an access token.
        let api_and_empty_tokens = json!({"OPENAI_API_KEY": API_KEY, "tokens": {},
                                          "last_refresh": "2025-09-03T11:00:00Z"});
        assert_eq!(
            rejection(&api_and_empty_tokens).0,
            "auth.tokens.access_token"
        );
        for (name, junk) in [
            ("access_token", json!("token")),
            ("access_token", json!("newer-token")),
            ("id_token", json!("x".repeat(30))),
            ("id_token", json!(true)),
            ("refresh_token", json!("rt_ab ababababababababababab")),
            ("refresh_token", json!("PLACEHOLDER")),
            ("refresh_token", json!("abcabcabcabcabcabcabcabcabc")),
        ] {
            let pointer = format!("/tokens/{name}");
            let (field, message) = rejection(&with(chatgpt(), &pointer, junk));
            assert_eq!(field, format!("auth.tokens.{name}"), "{message}");
        }
    }

    fn add_root(key: &str, value: Value) -> Value {
        let mut doc = chatgpt();
        doc.as_object_mut().unwrap().insert(key.into(), value);
        doc
    }

    #[test]
    fn account_id_and_unknown_keys_are_left_alone() {
        let doc = with(chatgpt(), "/tokens/account_id", json!("a"));
        assert!(parse(&doc).is_ok());
        assert!(parse(&add_root("future_field", json!({"anything": [1, 2.5]}))).is_ok());
    }

    #[test]
    fn auths_rules() {
        let add_auths = |auths: Value| add_root("auths", auths);
        let entry =
            |token: Value| json!({"api.openai.com": {"token": token, "token_type": "bearer"}});
        assert!(parse(&add_auths(entry(json!(ACCESS)))).is_ok());
        assert!(parse(&add_auths(json!({}))).is_ok());
        assert!(parse(&add_auths(Value::Null)).is_ok());
        assert_eq!(
            rejection(&add_auths(json!([]))),
            (
                "auth.auths".into(),
                "must be an object, not an array".into()
            )
        );
        assert_eq!(
            rejection(&add_auths(json!({"api.openai.com": "tok"}))),
            (
                "auth.auths.api.openai.com".into(),
                "must be an object, not a string".into()
            )
        );
        assert_eq!(
            rejection(&add_auths(
                json!({"api.openai.com": {"token_type": "bearer"}})
            )),
            (
                "auth.auths.api.openai.com.token".into(),
                "is required".into()
            )
        );
        assert_eq!(
            rejection(&add_auths(entry(json!("")))),
            (
                "auth.auths.api.openai.com.token".into(),
                "must not be empty".into()
            )
        );
        assert_eq!(
            rejection(&add_auths(entry(json!(7)))),
            (
                "auth.auths.api.openai.com.token".into(),
                "must be a string, not a number".into()
            )
        );
        let (field, message) = rejection(&add_auths(entry(json!("example-token"))));
        assert_eq!(field, "auth.auths.api.openai.com.token");
        assert!(message.contains("placeholder"));
        let second_bad = json!({"a": {"token": ACCESS}, "b": {"token": "test"}});
        assert_eq!(rejection(&add_auths(second_bad)).0, "auth.auths.b.token");
    }

    #[test]
    fn nothing_is_added_or_rewritten() {
        let raw = format!(
            r#"{{"tokens":{{"access_token":"{ACCESS}"}},"last_refresh":"2025-09-03T13:00:00+02:00","z":1e5,"a":[]}}"#
        );
        let doc = CanonicalDocument::parse(&raw, now()).unwrap();
        assert_eq!(doc.text, raw);
        assert_eq!(doc.last_refresh, "2025-09-03T13:00:00+02:00");
        assert_eq!(doc.last_refresh_at, at("2025-09-03T11:00:00Z"));
    }

    #[test]
    fn client_timestamps() {
        let z = parse_client_timestamp("2025-01-01T10:00:00Z").unwrap();
        assert_eq!(
            parse_client_timestamp("2025-01-01T12:00:00+02:00").unwrap(),
            z
        );
        assert_eq!(
            parse_client_timestamp("2025-01-01T05:30:00-04:30").unwrap(),
            z
        );
        assert_eq!(
            parse_client_timestamp("2025-01-01T10:00:00+00:00").unwrap(),
            z
        );
        assert_eq!(
            parse_client_timestamp("2025-01-01T10:00:00.000Z").unwrap(),
            z
        );
        let micros = parse_client_timestamp("2025-01-01T00:00:00.123456Z").unwrap();
        assert_eq!(micros.timestamp_subsec_micros(), 123_456);
        let nanos = parse_client_timestamp("2025-01-01T00:00:00.123456789Z").unwrap();
        assert_eq!(nanos.timestamp_subsec_nanos(), 123_456_789);
        // Only the format matters here; plausibility is for stored documents.
        assert!(parse_client_timestamp("1970-01-01T00:00:00Z").is_ok());
        for bad in [
            "",
            "now",
            "2025-01-01",
            "2025-01-01T10:00:00",
            "01/01/2025 10:00",
        ] {
            let err = parse_client_timestamp(bad).unwrap_err();
            assert_eq!(err.field, "last_refresh", "{bad}");
        }
    }

    #[test]
    fn digests() {
        let lower = "a".repeat(64);
        assert!(is_digest(&lower));
        assert!(is_digest(&"0123456789ABCDEFabcdef".repeat(3)[..64]));
        assert!(is_digest(&parse(&chatgpt()).unwrap().digest));
        assert!(!is_digest(""));
        assert!(!is_digest(&"a".repeat(63)));
        assert!(!is_digest(&"a".repeat(65)));
        assert!(!is_digest(&format!("{}g", "a".repeat(63))));
        assert!(!is_digest(&format!("{} ", "a".repeat(63))));
    }
}
