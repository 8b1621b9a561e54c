//! Errors of the OpenAI-compatible API, in OpenAI's shape:
//! `{"error":{"message","type","code"}}` (SDKs read `type` and `code`).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct V1Error {
    pub status: StatusCode,
    pub kind: &'static str,
    pub code: Option<&'static str>,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl V1Error {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        V1Error {
            status,
            kind,
            code: None,
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

    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
}

impl From<tonic::Status> for V1Error {
    fn from(s: tonic::Status) -> Self {
        use tonic::Code;
        let (status, kind, code) = match s.code() {
            Code::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                Some("invalid_api_key"),
            ),
            Code::PermissionDenied => (StatusCode::FORBIDDEN, "permission_error", None),
            Code::NotFound => (
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                Some("model_not_found"),
            ),
            Code::InvalidArgument => (StatusCode::BAD_REQUEST, "invalid_request_error", None),
            Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", None),
            Code::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "upstream_error", None),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", None),
        };
        let retry_after_secs = s
            .metadata()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        // Internal failures keep their detail in the logs, not in the answer.
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(status = ?s.code(), message = s.message(), "service call failed");
            "internal error".to_string()
        } else {
            s.message().to_string()
        };
        V1Error {
            status,
            kind,
            code,
            message,
            retry_after_secs,
        }
    }
}

impl IntoResponse for V1Error {
    fn into_response(self) -> Response {
        let body = json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "code": self.code,
                "param": null,
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
