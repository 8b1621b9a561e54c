//! Extractors whose rejections are the API's JSON error envelope (axum's own answer in plain
//! text): JSON bodies (one parser for every route, naming the failing field), the raw body of
//! routes that parse it themselves, and query strings.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

use crate::ApiError;

/// The request body as bytes; 413 in the envelope above the body limit.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        "request body too large",
                    )
                } else {
                    ApiError::bad_request("could not read the request body")
                }
            })
    }
}

/// A query string; 422 naming `query` when it does not parse.
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Q(v))
            .map_err(ApiError::from)
    }
}

/// Path parameters, deserialized like axum's `Path`, with rejections in the JSON envelope:
/// a parameter that is not UTF-8 names nothing (404), one holding a control character (NUL
/// included) is refused naming the parameter (422), before any database sees it.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("no such resource: the path is not valid UTF-8"))?;
        if let Some((name, _)) = raw.iter().find(|(_, v)| v.chars().any(char::is_control)) {
            return Err(ApiError::invalid_field(
                name,
                "must not contain control characters",
            ));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| ApiError::invalid_field("path", e.body_text()))
    }
}

/// A JSON request body (`Content-Type: application/json`). Invalid JSON is 400; a value of the
/// wrong shape is 422 naming the field's dotted path (`usages.3.input`), never just `body`.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ));
        }
        let RawBody(bytes) = RawBody::from_request(req, state).await?;
        parse_json(&bytes, "request body is not valid JSON").map(Json)
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// The body of a peer-compatible host route: empty means "no fields", anything else must be
/// JSON (400 with `invalid_message` otherwise, as the peer answers).
pub fn lenient_json<T: DeserializeOwned + Default>(
    bytes: &[u8],
    invalid_message: &'static str,
) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(bytes, invalid_message)
}

/// Parses JSON into `T` (which may borrow from `bytes`), naming the failing field on a shape
/// error. Strings holding NUL are refused here, once for every route: no database stores them
/// alike (PostgreSQL rejects them).
pub fn parse_json<'de, T: serde::Deserialize<'de>>(
    bytes: &'de [u8],
    invalid_message: &'static str,
) -> Result<T, ApiError> {
    if let Some(field) = nul_field(bytes) {
        return Err(ApiError::invalid_field(
            &field,
            "must not contain NUL characters",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value =
        serde_path_to_error::deserialize(&mut de).map_err(|e| shape_error(e, invalid_message))?;
    de.end()
        .map_err(|_| ApiError::bad_request(invalid_message))?;
    Ok(value)
}

fn shape_error(
    err: serde_path_to_error::Error<serde_json::Error>,
    invalid_message: &'static str,
) -> ApiError {
    let inner = err.inner();
    if !inner.is_data() {
        return ApiError::bad_request(invalid_message);
    }
    let message = without_position(&inner.to_string());
    let mut path: Vec<String> = err
        .path()
        .iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect();
    // serde reports a missing field at its parent; name the field itself.
    if let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        path.push(missing.to_string());
    }
    let field = if path.is_empty() {
        "body".to_string()
    } else {
        path.join(".")
    };
    ApiError::invalid_field(&field, message)
}

/// serde_json's data errors end in " at line L column C", which helps nobody reading a 422.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_string(),
        _ => message.to_string(),
    }
}

/// The dotted path of the first string (key or value) that holds a NUL, if any. JSON can only
/// carry NUL escaped, so the common case is one scan for `\u0000` and no second parse.
fn nul_field(bytes: &[u8]) -> Option<String> {
    if !has_escaped_nul(bytes) {
        return None;
    }
    let value: Value = serde_json::from_slice(bytes).ok()?;
    find_nul(&value, &mut Vec::new())
}

fn has_escaped_nul(bytes: &[u8]) -> bool {
    bytes.windows(6).enumerate().any(|(at, w)| {
        w.eq_ignore_ascii_case(b"\\u0000")
            && bytes[..at]
                .iter()
                .rev()
                .take_while(|b| **b == b'\\')
                .count()
                % 2
                == 0
    })
}

fn find_nul(value: &Value, path: &mut Vec<String>) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(dotted(path)),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            path.push(i.to_string());
            let found = find_nul(item, path);
            path.pop();
            found
        }),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            path.push(key.replace('\0', "\\u0000"));
            let found = if key.contains('\0') {
                Some(dotted(path))
            } else {
                find_nul(item, path)
            };
            path.pop();
            found
        }),
        _ => None,
    }
}

fn dotted(path: &[String]) -> String {
    if path.is_empty() {
        "body".into()
    } else {
        path.join(".")
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Usage {
        input: u64,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Batch {
        usages: Vec<Usage>,
        digest: Option<String>,
    }

    fn field_of(body: &str) -> (u16, String) {
        let err = parse_json::<Batch>(body.as_bytes(), "bad").unwrap_err();
        let field = err
            .errors
            .as_ref()
            .and_then(|e| e.keys().next().cloned())
            .unwrap_or_default();
        (err.status.as_u16(), field)
    }

    #[test]
    fn shape_errors_name_the_dotted_path() {
        assert_eq!(
            field_of(r#"{"usages":[{"input":1},{"input":"x"}]}"#),
            (422, "usages.1.input".into())
        );
        assert_eq!(
            field_of(r#"{"usages":[], "digest": 12345}"#),
            (422, "digest".into())
        );
        assert_eq!(
            field_of(r#"{"usages":[{}]}"#),
            (422, "usages.0.input".into())
        );
        assert_eq!(field_of(r#"{"digest":"a"}"#), (422, "usages".into()));
        assert_eq!(field_of("\"x\""), (422, "body".into()));
        assert_eq!(field_of("{"), (400, String::new()));
        assert_eq!(field_of(r#"{"usages":[]} x"#), (400, String::new()));
    }

    #[test]
    fn raw_values_keep_their_text() {
        #[derive(Deserialize)]
        struct Raw {
            auth: Box<serde_json::value::RawValue>,
        }
        let raw: Raw = parse_json(br#"{"auth": {"b": 1.50, "a": 2}}"#, "bad").unwrap();
        assert_eq!(raw.auth.get(), r#"{"b": 1.50, "a": 2}"#);
    }

    #[test]
    fn nul_is_refused_with_its_path() {
        assert_eq!(
            field_of(r#"{"usages":[], "digest": "a\u0000b"}"#),
            (422, "digest".into())
        );
        // An escaped backslash before `u0000` is text, not NUL.
        assert!(parse_json::<Batch>(br#"{"usages":[], "digest": "a\\u0000b"}"#, "bad").is_ok());
        assert_eq!(
            nul_field(br#"{"a":[{"b":"x"},{"c\u0000":1}]}"#).as_deref(),
            Some("a.1.c\\u0000")
        );
    }
}
