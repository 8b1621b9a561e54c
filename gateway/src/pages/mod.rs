//! Small server-rendered pages: first-run setup, sign-in, registration and the account page.
//! No scripts and no external assets, so they work before (and beside) the dashboard SPA,
//! which `dashboard` serves.
//! Every POST accepts a form (then redirects or re-renders with the error) or JSON (then
//! answers in the API envelope). The HTML is in `gateway/templates/pages/`: askama templates
//! checked at compile time, where every value is HTML-escaped unless a template says otherwise.

mod account;
mod dashboard;
mod oauth;
mod signin;

use askama::Template;
use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use codex_central_common::Principal;
use codex_central_common::wire::SESSION_COOKIE;

use crate::GatewayState;
use crate::plumbing::caller::{SessionCredential, csrf_matches, session_of};

pub fn router() -> Router<GatewayState> {
    Router::new()
        .route("/admin", get(signin::home))
        .route("/admin/", get(signin::home))
        .route("/admin/assets/{*path}", get(dashboard::asset))
        .route("/admin/setup", get(signin::setup_page).post(signin::setup))
        .route("/admin/login", get(signin::login_page).post(signin::login))
        .route("/admin/logout", post(signin::logout))
        .route(
            "/admin/register",
            get(signin::register_page).post(signin::register),
        )
        .route("/admin/account", get(account::show))
        .route("/admin/account/password", post(account::password))
        .route("/admin/account/tokens", post(account::create_token))
        .route(
            "/admin/account/tokens/{id}/revoke",
            post(account::revoke_token),
        )
        .route("/admin/account/byok", post(account::set_byok))
        .route("/admin/account/links/{id}/unlink", post(account::unlink))
        .route(
            "/oauth/start/{provider}",
            get(oauth::start).post(oauth::start_link),
        )
        .route("/oauth/callback/{provider}", get(oauth::callback))
        .route(
            "/admin/account/byok/{provider}/delete",
            post(account::delete_byok),
        )
}

/// A notice above a form.
pub enum Notice {
    None,
    Error(String),
    Ok(String),
}

/// Who is looking at a page, for the header.
pub enum Viewer<'a> {
    /// Auth mode off: nobody signs in.
    LocalMode,
    SignedOut,
    SignedIn {
        name: &'a str,
        csrf: &'a str,
    },
}

/// What every page shows around its body (`templates/pages/layout.html`). `narrow` suits
/// single forms.
pub struct Frame<'a> {
    pub title: &'a str,
    pub viewer: Viewer<'a>,
    pub narrow: bool,
    pub notice: Notice,
}

impl<'a> Frame<'a> {
    /// A single form for someone not signed in.
    pub fn form(title: &'a str, notice: Notice) -> Self {
        Frame {
            title,
            viewer: Viewer::SignedOut,
            narrow: true,
            notice,
        }
    }
}

/// The page that explains local mode (auth mode off) where accounts would be.
#[derive(Template)]
#[template(path = "pages/local_mode.html")]
pub struct LocalModePage<'a> {
    pub frame: Frame<'a>,
    /// The account page's wording rather than the sign-in pages'.
    pub account: bool,
}

impl<'a> LocalModePage<'a> {
    pub fn new(title: &'a str, account: bool) -> Self {
        LocalModePage {
            frame: Frame {
                title,
                viewer: Viewer::LocalMode,
                narrow: true,
                notice: Notice::None,
            },
            account,
        }
    }
}

/// A whole page, never cached.
pub fn page(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut res = (status, Html(html)).into_response();
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "page failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn redirect(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(LOCATION, v);
    }
    res
}

/// Only same-site paths are followed after sign-in (no open redirects).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/admin/".into(),
    }
}

pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

/// Whether the client asked for a JSON answer (`Accept: application/json`).
pub fn wants_json_answer(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().contains("application/json"))
}

/// Form fields as pairs (last one wins on repeats).
pub fn form_fields(body: &[u8]) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Whether a form carries the session's CSRF token in its `csrf_token` field.
pub fn form_csrf_matches(session: &SessionCredential, body: &[u8]) -> bool {
    let presented = form_fields(body).remove("csrf_token").unwrap_or_default();
    csrf_matches(session, &presented)
}

fn cookie_value(state: &GatewayState, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if state.cookie_secure() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .ok()
}

/// Sets the session cookie (7 days, renewed by the server-side sliding expiry on use).
pub fn set_session_cookie(state: &GatewayState, res: &mut Response, token: &str) {
    if let Some(v) = cookie_value(state, token, 7 * 24 * 3600) {
        res.headers_mut().append(SET_COOKIE, v);
    }
}

pub fn clear_session_cookie(state: &GatewayState, res: &mut Response) {
    if let Some(v) = cookie_value(state, "", 0) {
        res.headers_mut().append(SET_COOKIE, v);
    }
}

/// The signed-in viewer of a page, if any.
pub async fn viewer_session(
    parts: &Parts,
    state: &GatewayState,
) -> Result<Option<(Principal, SessionCredential)>, crate::ApiError> {
    session_of(parts, state).await
}

pub fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .chars()
        .take(255)
        .collect()
}
