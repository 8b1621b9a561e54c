//! `/admin/` entry, first-run setup, sign-in, sign-out and open registration.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use codex_central_proto::auth::v1::{
    CompleteSetupRequest, GetRegistrationPolicyRequest, GetSetupStatusRequest,
    ListLoginProvidersRequest, LoginProvider, LoginRequest, LogoutRequest, RegisterRequest, User,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Frame, LocalModePage, Notice, Viewer, clear_session_cookie, dashboard, form_csrf_matches,
    form_fields, page, redirect, safe_next, set_session_cookie, user_agent, viewer_session,
    wants_json, wants_json_answer,
};
use crate::plumbing::caller::{Caller, client_ip, csrf_matches};
use crate::plumbing::error::ok_with;
use crate::plumbing::extract::{RawBody, parse_json};
use crate::plumbing::views::user_json;
use crate::{ApiError, GatewayState};

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

/// What the sign-in forms and JSON bodies carry.
#[derive(Default)]
struct Credentials {
    username: String,
    password: String,
    display_name: String,
    next: Option<String>,
}

fn credentials(json: bool, body: &[u8]) -> Result<Credentials, ApiError> {
    if json {
        let v: Value = parse_json(body, "request body is not valid JSON")?;
        let field = |name: &str, required: bool| -> Result<String, ApiError> {
            match v.get(name) {
                Some(Value::String(s)) => Ok(s.clone()),
                None | Some(Value::Null) if !required => Ok(String::new()),
                None | Some(Value::Null) => {
                    Err(ApiError::invalid_field(name, format!("{name} is required")))
                }
                Some(_) => Err(ApiError::invalid_field(
                    name,
                    format!("{name} must be a string"),
                )),
            }
        };
        Ok(Credentials {
            username: field("username", true)?,
            password: field("password", true)?,
            display_name: field("display_name", false)?,
            next: None,
        })
    } else {
        let mut f = form_fields(body);
        if let Some(name) = f.iter().find_map(|(k, v)| v.contains('\0').then_some(k)) {
            return Err(ApiError::invalid_field(
                name,
                "must not contain NUL characters",
            ));
        }
        Ok(Credentials {
            username: f.remove("username").unwrap_or_default(),
            password: f.remove("password").unwrap_or_default(),
            display_name: f.remove("display_name").unwrap_or_default(),
            next: f.remove("next"),
        })
    }
}

fn local_mode_page(title: &str) -> Response {
    page(StatusCode::OK, &LocalModePage::new(title, false))
}

async fn setup_required(state: &GatewayState, parts: &Parts) -> Result<bool, ApiError> {
    Ok(state
        .clients()
        .users()
        .get_setup_status(
            Caller::anonymous(client_ip(parts, state)).request(state, GetSetupStatusRequest {}),
        )
        .await?
        .into_inner()
        .setup_required)
}

/// A signed-in answer: JSON envelope or a redirect, with the session cookie.
fn signed_in(
    state: &GatewayState,
    json: bool,
    status: StatusCode,
    user: Option<User>,
    token: &str,
    csrf: String,
    next: Option<&str>,
) -> Response {
    let mut res = if json {
        ok_with(
            status,
            json!({"user": user.as_ref().map(user_json), "csrf_token": csrf}),
        )
    } else {
        redirect(&safe_next(next))
    };
    set_session_cookie(state, &mut res, token);
    res
}

/// Renders a form again with the error (forms) or answers the envelope (JSON).
fn failed(
    json: bool,
    e: ApiError,
    render: impl FnOnce(StatusCode, Notice) -> Response,
) -> Response {
    if json {
        return e.into_response();
    }
    let retry = e.retry_after_secs;
    let mut res = render(e.status, Notice::Error(e.message));
    if let Some(secs) = retry
        && let Ok(v) = secs.to_string().parse()
    {
        res.headers_mut().insert(RETRY_AFTER, v);
    }
    res
}

/// What setup, sign-in and registration share: the credentials from a form or JSON, refused in
/// local mode. `Err` is the answer to send (the form again with the error, or the envelope).
fn accepted(
    state: &GatewayState,
    parts: &Parts,
    body: &[u8],
    form: impl FnOnce(StatusCode, Notice) -> Response,
    local_message: &str,
    title: &str,
) -> Result<(bool, Credentials), Box<Response>> {
    let json = wants_json(&parts.headers);
    let creds = credentials(json, body).map_err(|e| Box::new(failed(json, e, form)))?;
    if !state.auth_mode_on() {
        let e = ApiError::new(StatusCode::CONFLICT, "local_mode", local_message);
        return Err(Box::new(failed(json, e, |_, _| local_mode_page(title))));
    }
    Ok((json, creds))
}

/// `/admin/`: the dashboard SPA for a signed-in viewer (anyone in local mode). A server built
/// without the dashboard's files shows a small landing page that says how to build them.
pub async fn home(State(state): State<GatewayState>, parts: Parts) -> Result<Response, ApiError> {
    if !state.auth_mode_on() {
        return Ok(dashboard::index("").unwrap_or_else(|| landing(Viewer::LocalMode)));
    }
    if setup_required(&state, &parts).await? {
        return Ok(redirect("/admin/setup"));
    }
    match viewer_session(&parts, &state).await? {
        Some((p, s)) => Ok(dashboard::index(&s.csrf).unwrap_or_else(|| {
            landing(Viewer::SignedIn {
                name: &p.name,
                csrf: &s.csrf,
            })
        })),
        None => Ok(redirect("/admin/login?next=/admin/")),
    }
}

#[derive(Template)]
#[template(path = "pages/landing.html")]
struct Landing<'a> {
    frame: Frame<'a>,
}

fn landing(viewer: Viewer<'_>) -> Response {
    let frame = Frame {
        title: "Dashboard",
        viewer,
        narrow: false,
        notice: Notice::None,
    };
    page(StatusCode::OK, &Landing { frame })
}

/// First-run setup and open registration: the same fields, posted to different places.
#[derive(Template)]
#[template(path = "pages/new_account.html")]
struct NewAccountForm<'a> {
    frame: Frame<'a>,
    setup: bool,
    username: &'a str,
    display_name: &'a str,
}

fn setup_form(status: StatusCode, notice: Notice, username: &str, display_name: &str) -> Response {
    let form = NewAccountForm {
        frame: Frame::form("First-run setup", notice),
        setup: true,
        username,
        display_name,
    };
    page(status, &form)
}

pub async fn setup_page(
    State(state): State<GatewayState>,
    parts: Parts,
) -> Result<Response, ApiError> {
    if !state.auth_mode_on() {
        return Ok(local_mode_page("First-run setup"));
    }
    if !setup_required(&state, &parts).await? {
        return Ok(redirect("/admin/login"));
    }
    Ok(setup_form(StatusCode::OK, Notice::None, "", ""))
}

pub async fn setup(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    let (json, creds) = match accepted(
        &state,
        &parts,
        &body,
        |s, n| setup_form(s, n, "", ""),
        "this server runs in local mode (auth mode off): there is nothing to set up",
        "First-run setup",
    ) {
        Ok(v) => v,
        Err(res) => return *res,
    };
    let req = Caller::anonymous(client_ip(&parts, &state)).request(
        &state,
        CompleteSetupRequest {
            username: creds.username.clone(),
            display_name: creds.display_name.clone(),
            password: creds.password,
        },
    );
    match state.clients().users().complete_setup(req).await {
        Ok(res) => {
            let r = res.into_inner();
            signed_in(
                &state,
                json,
                StatusCode::CREATED,
                r.user,
                &r.session_token,
                r.csrf_token,
                Some("/admin/"),
            )
        }
        Err(status) => {
            let mut e = ApiError::from(status);
            if e.status == StatusCode::CONFLICT {
                if !json {
                    return redirect("/admin/login");
                }
                e.code = "setup_done";
            }
            failed(json, e, |s, n| {
                setup_form(s, n, &creds.username, &creds.display_name)
            })
        }
    }
}

#[derive(Template)]
#[template(path = "pages/login.html")]
struct LoginForm<'a> {
    frame: Frame<'a>,
    username: &'a str,
    next: &'a str,
    /// `next` as a query value, for the OAuth buttons.
    return_to: String,
    providers: &'a [LoginProvider],
    register: bool,
}

fn login_form(
    status: StatusCode,
    notice: Notice,
    username: &str,
    next: &str,
    register: bool,
    providers: &[LoginProvider],
) -> Response {
    let form = LoginForm {
        frame: Frame::form("Sign in", notice),
        username,
        next,
        return_to: form_urlencoded::byte_serialize(next.as_bytes()).collect(),
        providers,
        register,
    };
    page(status, &form)
}

/// The enabled OAuth/OIDC providers, for the sign-in buttons (none when unreachable).
async fn login_providers(state: &GatewayState, parts: &Parts) -> Vec<LoginProvider> {
    state
        .clients()
        .sign_in_providers()
        .list_login_providers(
            Caller::anonymous(client_ip(parts, state)).request(state, ListLoginProvidersRequest {}),
        )
        .await
        .map(|r| r.into_inner().providers)
        .unwrap_or_default()
}

async fn registration_open(state: &GatewayState, parts: &Parts) -> bool {
    state
        .clients()
        .users()
        .get_registration_policy(
            Caller::anonymous(client_ip(parts, state))
                .request(state, GetRegistrationPolicyRequest {}),
        )
        .await
        .ok()
        .and_then(|r| r.into_inner().policy)
        .is_some_and(|p| p.open_registration)
}

pub async fn login_page(
    State(state): State<GatewayState>,
    parts: Parts,
    query: Result<Query<NextQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    if !state.auth_mode_on() {
        return Ok(local_mode_page("Sign in"));
    }
    let next = safe_next(query.as_ref().ok().and_then(|q| q.next.as_deref()));
    if setup_required(&state, &parts).await? {
        return Ok(redirect("/admin/setup"));
    }
    if viewer_session(&parts, &state).await?.is_some() {
        return Ok(redirect(&next));
    }
    let open = registration_open(&state, &parts).await;
    let providers = login_providers(&state, &parts).await;
    Ok(login_form(
        StatusCode::OK,
        Notice::None,
        "",
        &next,
        open,
        &providers,
    ))
}

pub async fn login(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    let (json, creds) = match accepted(
        &state,
        &parts,
        &body,
        |s, n| login_form(s, n, "", "/admin/", false, &[]),
        "this server runs in local mode (auth mode off): nobody signs in",
        "Sign in",
    ) {
        Ok(v) => v,
        Err(res) => return *res,
    };
    let next = safe_next(creds.next.as_deref());
    let req = Caller::anonymous(client_ip(&parts, &state)).request(
        &state,
        LoginRequest {
            username: creds.username.clone(),
            password: creds.password,
            user_agent: user_agent(&parts.headers),
        },
    );
    match state.clients().sessions().login(req).await {
        Ok(res) => {
            let r = res.into_inner();
            signed_in(
                &state,
                json,
                StatusCode::OK,
                r.user,
                &r.session_token,
                r.csrf_token,
                Some(&next),
            )
        }
        Err(status) => {
            let providers = login_providers(&state, &parts).await;
            failed(json, ApiError::from(status), |s, n| {
                login_form(s, n, &creds.username, &next, false, &providers)
            })
        }
    }
}

/// Signs out: needs the session's CSRF token (the `X-CSRF-Token` header whenever it is sent,
/// else the form field) so another site cannot sign people out. Without a live session it just clears the cookie.
pub async fn logout(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    let csrf_header = parts
        .headers
        .get(codex_central_common::wire::CSRF_HEADER)
        .map(|v| v.to_str().unwrap_or_default());
    // A script sending the header with no body at all wants JSON back, as a JSON body does.
    let json = wants_json(&parts.headers)
        || wants_json_answer(&parts.headers)
        || (csrf_header.is_some() && body.is_empty());
    let session = match viewer_session(&parts, &state).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    if let Some((_, cred)) = &session {
        let ok = match csrf_header {
            Some(header) => csrf_matches(cred, header),
            None => form_csrf_matches(cred, &body),
        };
        if !ok {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf_failed",
                "Missing or invalid CSRF token",
            )
            .into_response();
        }
        let req = Caller::anonymous(client_ip(&parts, &state)).request(
            &state,
            LogoutRequest {
                session_token: cred.token.clone(),
            },
        );
        if let Err(status) = state.clients().sessions().logout(req).await {
            return ApiError::from(status).into_response();
        }
    }
    let mut res = if json {
        ok_with(StatusCode::OK, json!({"signed_out": session.is_some()}))
    } else {
        redirect("/admin/login")
    };
    clear_session_cookie(&state, &mut res);
    res
}

fn register_form(
    status: StatusCode,
    notice: Notice,
    username: &str,
    display_name: &str,
) -> Response {
    let form = NewAccountForm {
        frame: Frame::form("Create an account", notice),
        setup: false,
        username,
        display_name,
    };
    page(status, &form)
}

#[derive(Template)]
#[template(path = "pages/registration_closed.html")]
struct RegistrationClosed<'a> {
    frame: Frame<'a>,
}

fn registration_closed(status: StatusCode) -> Response {
    let frame = Frame::form("Registration closed", Notice::None);
    page(status, &RegistrationClosed { frame })
}

pub async fn register_page(State(state): State<GatewayState>, parts: Parts) -> Response {
    if !state.auth_mode_on() {
        return local_mode_page("Create an account");
    }
    if !registration_open(&state, &parts).await {
        return registration_closed(StatusCode::FORBIDDEN);
    }
    register_form(StatusCode::OK, Notice::None, "", "")
}

pub async fn register(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    let (json, creds) = match accepted(
        &state,
        &parts,
        &body,
        |s, n| register_form(s, n, "", ""),
        "this server runs in local mode (auth mode off): accounts are not used",
        "Create an account",
    ) {
        Ok(v) => v,
        Err(res) => return *res,
    };
    let req = Caller::anonymous(client_ip(&parts, &state)).request(
        &state,
        RegisterRequest {
            username: creds.username.clone(),
            display_name: creds.display_name.clone(),
            password: creds.password,
        },
    );
    match state.clients().users().register(req).await {
        Ok(res) => {
            let r = res.into_inner();
            signed_in(
                &state,
                json,
                StatusCode::CREATED,
                r.user,
                &r.session_token,
                r.csrf_token,
                Some("/admin/"),
            )
        }
        Err(status) => {
            let e = ApiError::from(status);
            if !json && e.status == StatusCode::FORBIDDEN {
                return registration_closed(StatusCode::FORBIDDEN);
            }
            failed(json, e, |s, n| {
                register_form(s, n, &creds.username, &creds.display_name)
            })
        }
    }
}
