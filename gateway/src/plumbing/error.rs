//! The REST error envelope, rendered from the base error (which services send as gRPC rich
//! error details), and the one mapping from error kinds to HTTP statuses (SPEC §2).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use codex_central_common::Error;
use codex_central_common::error::Kind;
use codex_central_proto::status::decode;
use serde_json::{Map, Value, json};

/// An error as a REST client sees it:
/// `{"status":"error","message":"...","code":"...","details":{...},"errors":{...}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    /// A service's specific reason (e.g. `ip_not_allowed`); shown as `code` when set.
    pub reason: Option<String>,
    pub message: String,
    pub details: Option<Box<Map<String, Value>>>,
    /// Field errors for 422: dotted path -> messages.
    pub errors: Option<Box<Map<String, Value>>>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            reason: None,
            message: message.into(),
            details: None,
            errors: None,
            retry_after_secs: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A failure of the gateway itself: logged here (in the request's span, so with its
    /// request id), shown to the client as a fixed message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::from(Error::internal(cause.to_string()))
    }

    /// 422 with one field error.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut errors = Map::new();
        errors.insert(field.to_string(), json!([message.clone()]));
        ApiError {
            errors: Some(Box::new(errors)),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_argument",
                message,
            )
        }
    }
}

impl ApiError {
    /// Field errors under `from` (a service's field path) renamed to start with `to` (where
    /// the REST body carries that field), so that a 422 names the field the client sent.
    pub fn with_field_prefix(mut self, from: &str, to: &str) -> Self {
        if let Some(errors) = self.errors.as_mut() {
            let renamed: Map<String, Value> = std::mem::take(errors.as_mut())
                .into_iter()
                .map(|(k, v)| match k.strip_prefix(from) {
                    Some(rest) => (format!("{to}{rest}"), v),
                    None => (k, v),
                })
                .collect();
            **errors = renamed;
        }
        self
    }
}

/// The HTTP status of each kind of error, for every JSON surface.
pub fn http_status(kind: Kind) -> StatusCode {
    match kind {
        Kind::InvalidArgument => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::Unauthenticated => StatusCode::UNAUTHORIZED,
        Kind::PermissionDenied => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::AlreadyExists | Kind::FailedPrecondition => StatusCode::CONFLICT,
        Kind::Gone => StatusCode::GONE,
        Kind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Kind::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Kind::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Kind::Cancelled => StatusCode::REQUEST_TIMEOUT,
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The envelope of a base error: the stable reason as `code`, field violations as `errors`,
/// `ErrorInfo` context as `details`, the retry delay as `Retry-After`.
impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        let mut api = ApiError::new(http_status(err.kind()), "", err.public_message());
        api.code = err.kind().default_reason();
        if err.reason() != api.code {
            api.reason = Some(err.reason().to_string());
        }
        api.retry_after_secs = err.retry_after_secs();
        if !err.metadata().is_empty() {
            api.details = Some(Box::new(
                err.metadata()
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect(),
            ));
        }
        if !err.fields().is_empty() {
            let mut errors = Map::new();
            for violation in err.fields() {
                match errors
                    .entry(violation.field.clone())
                    .or_insert_with(|| json!([]))
                {
                    Value::Array(list) => list.push(json!(violation.description)),
                    other => *other = json!([violation.description]),
                }
            }
            api.errors = Some(Box::new(errors));
        } else if err.kind() == Kind::InvalidArgument {
            // A 422 always names a field; a service that named none refused the body as such.
            let mut errors = Map::new();
            errors.insert("body".into(), json!([err.message()]));
            api.errors = Some(Box::new(errors));
        }
        api
    }
}

/// A service's answer, decoded once from its rich details.
impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        ApiError::from(decode(&status))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::invalid_field("query", rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("status".into(), json!("error"));
        body.insert("message".into(), json!(self.message));
        body.insert(
            "code".into(),
            json!(self.reason.as_deref().unwrap_or(self.code)),
        );
        if let Some(details) = self.details {
            body.insert("details".into(), Value::Object(*details));
        }
        if let Some(errors) = self.errors {
            body.insert("errors".into(), Value::Object(*errors));
        }
        let mut response = (self.status, Json(Value::Object(body))).into_response();
        if let Some(secs) = self.retry_after_secs
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

/// The success envelope: `{"status":"ok","data":...}`.
pub fn ok<T: serde::Serialize>(data: T) -> Response {
    Json(Success { status: "ok", data }).into_response()
}

/// The success envelope with another status (e.g. 201 Created).
pub fn ok_with(status: StatusCode, data: impl serde::Serialize) -> Response {
    (status, Json(Success { status: "ok", data })).into_response()
}

/// `{"status": "ok", "data": …}`, written straight from the data (not through a `Value`).
#[derive(serde::Serialize)]
struct Success<T> {
    status: &'static str,
    data: T,
}
