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

/// A service error as a script: the same status and public message as the JSON envelope.
pub fn service_error_script(err: tonic::Status) -> Response {
    let api = ApiError::from(err);
    error_script(api.status, &api.message)
}
