//! The REST error envelope and the one mapping from gRPC status codes to HTTP (SPEC §2).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tonic::Code;

/// An error as a REST client sees it:
/// `{"status":"error","message":"...","code":"...","details":{...},"errors":{...}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
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

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        let (http, code) = match status.code() {
            Code::Ok => (StatusCode::OK, "ok"),
            Code::InvalidArgument => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument"),
            Code::OutOfRange => (StatusCode::UNPROCESSABLE_ENTITY, "out_of_range"),
            Code::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Code::AlreadyExists => (StatusCode::CONFLICT, "already_exists"),
            Code::Aborted => (StatusCode::CONFLICT, "aborted"),
            Code::FailedPrecondition => (StatusCode::CONFLICT, "failed_precondition"),
            Code::PermissionDenied => (StatusCode::FORBIDDEN, "permission_denied"),
            Code::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Code::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Code::DeadlineExceeded => (StatusCode::GATEWAY_TIMEOUT, "deadline_exceeded"),
            Code::Unimplemented => (StatusCode::NOT_IMPLEMENTED, "not_implemented"),
            Code::Cancelled => (StatusCode::REQUEST_TIMEOUT, "cancelled"),
            Code::Unknown | Code::Internal | Code::DataLoss => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        let message = if http == StatusCode::INTERNAL_SERVER_ERROR {
            // Internal details were logged where they happened; clients get a stable message.
            "internal server error".to_string()
        } else {
            status.message().to_string()
        };
        let retry_after_secs = status
            .metadata()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let mut err = ApiError::new(http, code, message);
        err.retry_after_secs = retry_after_secs;
        // Context the services attach as `x-detail-<name>` metadata (e.g. the IP binding's
        // expected and received addresses) becomes the envelope's `details` object.
        let details: Map<String, Value> = status
            .metadata()
            .iter()
            .filter_map(|entry| match entry {
                tonic::metadata::KeyAndValueRef::Ascii(k, v) => {
                    let name = k.as_str().strip_prefix("x-detail-")?;
                    Some((name.replace('-', "_"), json!(v.to_str().ok()?)))
                }
                tonic::metadata::KeyAndValueRef::Binary(..) => None,
            })
            .collect();
        if !details.is_empty() {
            err.details = Some(Box::new(details));
        }
        if http == StatusCode::UNPROCESSABLE_ENTITY {
            let field = status
                .metadata()
                .get("x-field")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("body")
                .to_string();
            let mut errors = Map::new();
            errors.insert(field, json!([err.message.clone()]));
            err.errors = Some(Box::new(errors));
        }
        err
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => ApiError::invalid_field(
                "body",
                e.body_text().replace(
                    "Failed to deserialize the JSON body into the target type: ",
                    "",
                ),
            ),
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::bad_request("request body is not valid JSON")
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "request body too large",
                )
            }
            other => ApiError::bad_request(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::invalid_field("query", rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = Map::new();
        body.insert("status".into(), json!("error"));
        body.insert("message".into(), json!(self.message));
        body.insert("code".into(), json!(self.code));
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
    Json(json!({ "status": "ok", "data": data })).into_response()
}

/// The success envelope with another status (e.g. 201 Created).
pub fn ok_with(status: StatusCode, data: impl serde::Serialize) -> Response {
    (status, Json(json!({ "status": "ok", "data": data }))).into_response()
}
