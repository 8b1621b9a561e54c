//! Small server-rendered pages: first-run setup, sign-in, registration and the account page.
//! No scripts and no external assets, so they work before (and beside) the dashboard SPA.
//! Every POST accepts a form (then redirects or re-renders with the error) or JSON (then
//! answers in the API envelope).

mod account;
mod oauth;
mod signin;

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

const STYLE: &str = include_str!("style.css");

/// HTML-escapes text for element content and quoted attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A notice above a form.
pub enum Notice {
    None,
    Error(String),
    Ok(String),
}

impl Notice {
    fn html(&self) -> String {
        match self {
            Notice::None => String::new(),
            Notice::Error(m) => {
                format!(r#"<div class="notice error" role="alert">{}</div>"#, esc(m))
            }
            Notice::Ok(m) => format!(r#"<div class="notice ok" role="status">{}</div>"#, esc(m)),
        }
    }
}

/// Who is looking at a page, for the header.
pub struct Viewer<'a> {
    pub principal: Option<&'a Principal>,
    pub csrf: Option<&'a str>,
    pub local_mode: bool,
}

fn nav(viewer: &Viewer<'_>) -> String {
    if viewer.local_mode {
        return r#"<nav><span class="muted">local mode</span></nav>"#.into();
    }
    match (viewer.principal, viewer.csrf) {
        (Some(p), Some(csrf)) => format!(
            r#"<nav><a href="/admin/account">{}</a><form class="inline" method="post" action="/admin/logout"><input type="hidden" name="csrf_token" value="{}"><button class="link" type="submit">Sign out</button></form></nav>"#,
            esc(&p.name),
            esc(csrf)
        ),
        _ => r#"<nav><a href="/admin/login">Sign in</a></nav>"#.into(),
    }
}

/// A whole page. `narrow` suits single forms.
pub fn page(
    status: StatusCode,
    title: &str,
    viewer: &Viewer<'_>,
    narrow: bool,
    notice: &Notice,
    body: &str,
) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} · codex-central</title><style>{STYLE}</style></head>
<body><header><a class="brand" href="/admin/">codex-central</a>{nav}</header>
<main{class}>{notice}{body}</main></body></html>"#,
        title = esc(title),
        nav = nav(viewer),
        class = if narrow { r#" class="narrow""# } else { "" },
        notice = notice.html(),
    );
    let mut res = (status, Html(html)).into_response();
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
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
