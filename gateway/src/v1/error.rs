//! Errors of the OpenAI-compatible API, in OpenAI's shape:
//! `{"error":{"message","type","code"}}` (SDKs read `type` and `code`).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use codex_central_common::Error;
use codex_central_common::error::Kind;
use codex_central_proto::status::decode;
use serde_json::json;

use crate::plumbing::error::http_status;

#[derive(Debug)]
pub struct V1Error {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    /// A service's specific reason (e.g. `model_not_allowed`); shown as `code` when set.
    pub reason: Option<Box<str>>,
    /// The dotted path of the offending field, when one was named.
    pub param: Option<Box<str>>,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl V1Error {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        V1Error {
            status,
            kind,
            code: None,
            reason: None,
            param: None,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        V1Error::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn upstream(status: StatusCode, message: impl Into<String>) -> Self {
        V1Error::new(status, "upstream_error", message)
    }

    /// A failure of the gateway itself: logged here (in the request's span, so with its
    /// request id), shown to the client as a fixed message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        V1Error::from(Error::internal(cause.to_string()))
    }

    /// The code the request log keeps: the specific reason, else the code, else the type.
    pub fn log_code(&self) -> &str {
        self.reason.as_deref().or(self.code).unwrap_or(self.kind)
    }

    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
}

/// OpenAI's error type for each kind, and the `code` SDKs expect when a service named no
/// more specific reason.
fn openai_shape(kind: Kind) -> (&'static str, Option<&'static str>) {
    match kind {
        Kind::Unauthenticated => ("authentication_error", Some("invalid_api_key")),
        Kind::PermissionDenied => ("permission_error", None),
        Kind::NotFound => ("invalid_request_error", Some("model_not_found")),
        Kind::InvalidArgument => ("invalid_request_error", None),
        Kind::RateLimited => ("rate_limit_error", None),
        Kind::Unavailable | Kind::DeadlineExceeded => ("upstream_error", None),
        Kind::AlreadyExists | Kind::FailedPrecondition | Kind::Gone => {
            ("invalid_request_error", None)
        }
        Kind::Unimplemented | Kind::Cancelled | Kind::Internal => ("server_error", None),
    }
}

/// The OpenAI shape of a base error: the same decoded value the REST envelope renders.
impl From<Error> for V1Error {
    fn from(err: Error) -> Self {
        let (kind, default_code) = openai_shape(err.kind());
        let status = match err.kind() {
            // OpenAI answers malformed requests with 400, not 422.
            Kind::InvalidArgument => StatusCode::BAD_REQUEST,
            other => http_status(other),
        };
        V1Error {
            status,
            kind,
            code: default_code,
            reason: (err.reason() != err.kind().default_reason()).then(|| err.reason().into()),
            param: err.fields().first().map(|f| f.field.as_str().into()),
            message: err.public_message().to_string(),
            retry_after_secs: err.retry_after_secs(),
        }
    }
}

impl From<tonic::Status> for V1Error {
    fn from(status: tonic::Status) -> Self {
        V1Error::from(decode(&status))
    }
}

impl IntoResponse for V1Error {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "code": self.reason.as_deref().or(self.code),
                "param": self.param,
            }
        });
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}
