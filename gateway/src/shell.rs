//! Answers meant for `curl … | bash`: install and seed scripts, and errors that are scripts
//! too, so the pipe prints the reason and fails instead of running an HTML or JSON body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// A shell script body, never cached and never sniffed as anything else.
pub fn script_response(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/x-shellscript; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// A script that prints `codex-central: <message>` to stderr and exits 1.
pub fn error_script(status: StatusCode, message: &str) -> Response {
    let quoted = format!(
        "'{}'",
        format!("codex-central: {message}").replace('\'', r"'\''")
    );
    script_response(
        status,
        format!("#!/usr/bin/env bash\necho {quoted} >&2\nexit 1\n"),
    )
}

/// HTTP status for a single-use link error: the services mark "used/expired" with 410
/// (`x-http-status`), everything else maps as usual.
pub fn status_of(err: &tonic::Status) -> StatusCode {
    err.metadata()
        .get("x-http-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u16>().ok())
        .and_then(|v| StatusCode::from_u16(v).ok())
        .unwrap_or_else(|| ApiError::from(err.clone()).status)
}
