//! `GET /install/{token}`: the single-use installer. `HEAD` and browser/link previews
//! (`Accept` preferring `text/html`) only inspect the link; any other `GET` (curl) consumes it
//! and receives the script. Errors are scripts too, so `curl … | bash` prints the reason.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use codex_central_proto::fleet::v1::{
    ConsumeInstallerTokenRequest, EnrollmentTokenState, InspectInstallerTokenRequest,
};

use crate::plumbing::caller::{Caller, client_ip};
use crate::plumbing::extract::Path;
use crate::plumbing::shell::{error_script, script_response, service_error_script};
use crate::{ApiError, GatewayState};

pub fn router() -> Router<GatewayState> {
    Router::new().route("/install/{token}", get(install))
}

fn prefers_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = accept
        .split(',')
        .next()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    matches!(first, "text/html" | "application/xhtml+xml")
}

/// What a browser or link preview sees instead of the script.
#[derive(Template)]
#[template(path = "install_preview.html")]
struct Preview<'a> {
    title: &'a str,
    /// The command to run, while the link is valid.
    command: Option<&'a str>,
    /// The link was used or expired: a new one is needed.
    spent: bool,
}

fn preview_page(status: StatusCode, preview: &Preview<'_>) -> Response {
    let page = match preview.render() {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(error = %e, "installer preview failed to render");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut res = (status, page).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn install(
    State(state): State<GatewayState>,
    token: Result<Path<String>, ApiError>,
    parts: axum::http::request::Parts,
) -> Response {
    let Path(token) = match token {
        Ok(token) => token,
        Err(e) => return error_script(e.status, &e.message),
    };
    // The token is the credential: no principal, whatever headers came along.
    let anonymous = Caller::anonymous(client_ip(&parts, &state));
    let method = parts.method.clone();
    let headers = &parts.headers;
    if method == Method::HEAD || prefers_html(headers) {
        let inspected = state
            .clients()
            .fleet()
            .inspect_installer_token(
                anonymous.request(&state, InspectInstallerTokenRequest { token }),
            )
            .await;
        return match inspected {
            Ok(res) => {
                let res = res.into_inner();
                let (status, title, command) = match res.state() {
                    EnrollmentTokenState::Valid => (
                        StatusCode::OK,
                        format!("Install cdx on {}", res.fqdn),
                        Some(res.command.as_str()),
                    ),
                    EnrollmentTokenState::Used => {
                        (StatusCode::GONE, "Installer already used".into(), None)
                    }
                    _ => (StatusCode::GONE, "Installer expired".into(), None),
                };
                if method == Method::HEAD {
                    status.into_response()
                } else {
                    let preview = Preview {
                        title: &title,
                        command,
                        spent: command.is_none(),
                    };
                    preview_page(status, &preview)
                }
            }
            Err(err) => {
                let err = ApiError::from(err);
                if method == Method::HEAD {
                    err.status.into_response()
                } else {
                    let preview = Preview {
                        title: &err.message,
                        command: None,
                        spent: false,
                    };
                    preview_page(err.status, &preview)
                }
            }
        };
    }
    let consumed = state
        .clients()
        .fleet()
        .consume_installer_token(anonymous.request(&state, ConsumeInstallerTokenRequest { token }))
        .await;
    match consumed {
        Ok(res) => {
            let res = res.into_inner();
            let mut response = script_response(StatusCode::OK, res.script);
            let expires = crate::plumbing::views::rfc3339(res.expires_at.as_ref());
            if let Some(v) = expires.as_str().and_then(|e| HeaderValue::from_str(e).ok()) {
                response.headers_mut().insert("x-installer-expires-at", v);
            }
            response
        }
        Err(err) => service_error_script(err),
    }
}
