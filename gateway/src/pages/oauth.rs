//! `/oauth/start/{provider}` and `/oauth/callback/{provider}`: the browser side of OAuth/OIDC
//! sign-in. The state travels in the URL and, bound to this browser, in a short-lived cookie:
//! a callback whose state does not match the cookie is refused, so nobody can sign a victim's
//! browser into the attacker's account with a crafted callback link.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use codex_central_common::crypto::constant_time_eq;
use codex_central_proto::auth::v1::{BeginOAuthLoginRequest, CompleteOAuthLoginRequest};
use serde::Deserialize;

use super::{
    Frame, Notice, form_csrf_matches, page, redirect, set_session_cookie, user_agent,
    viewer_session,
};
use crate::plumbing::caller::{Caller, client_ip};
use crate::plumbing::extract::{Path, RawBody};
use crate::{ApiError, GatewayState};

const STATE_COOKIE: &str = "cc_oauth_state";
/// Where the dashboard's My account page lives: a link started there returns there.
const DASHBOARD_ACCOUNT: &str = "/admin/#/account";
const BAD_STATE: &str = "invalid or expired OAuth state";

#[derive(Deserialize, Default)]
pub struct StartQuery {
    return_to: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The answer to a link started in the dashboard: its CSP (`form-action 'self'`) forbids a
/// form's redirect to another origin, so this page of ours moves on to the provider itself.
#[derive(Template)]
#[template(path = "pages/link_continue.html")]
struct LinkContinue<'a> {
    frame: Frame<'a>,
    provider: &'a str,
    url: &'a str,
}

#[derive(Template)]
#[template(path = "pages/signin_failed.html")]
struct SignInFailed<'a> {
    frame: Frame<'a>,
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let frame = Frame::form("Sign-in failed", Notice::Error(message.into()));
    page(status, &SignInFailed { frame })
}

fn state_cookie(state: &GatewayState, value: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if state.cookie_secure() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{STATE_COOKIE}={value}; Path=/oauth/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .ok()
}

async fn begin(
    state: &GatewayState,
    caller: Caller,
    provider: String,
    return_to: String,
    link: bool,
) -> Response {
    let from_dashboard = link && return_to == DASHBOARD_ACCOUNT;
    let req = caller.request(
        state,
        BeginOAuthLoginRequest {
            provider_id: provider.clone(),
            return_to,
            link,
        },
    );
    let url = match state
        .clients()
        .sign_in_providers()
        .begin_o_auth_login(req)
        .await
    {
        Ok(r) => r.into_inner().authorization_url,
        Err(s) => {
            let e = ApiError::from(s);
            return error_page(e.status, &e.message);
        }
    };
    let issued = url::Url::parse(&url).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
    });
    let mut res = if from_dashboard {
        let frame = Frame::form("Linking an account", Notice::None);
        page(
            StatusCode::OK,
            &LinkContinue {
                frame,
                provider: &provider,
                url: &url,
            },
        )
    } else {
        let mut res = redirect(&url);
        *res.status_mut() = StatusCode::FOUND;
        res
    };
    if let Some(s) = issued
        && let Some(v) = state_cookie(state, &s, 600)
    {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

/// `GET /oauth/start/{provider}`: sign in.
pub async fn start(
    State(state): State<GatewayState>,
    Path(provider): Path<String>,
    parts: Parts,
    query: Result<Query<StartQuery>, QueryRejection>,
) -> Response {
    if !state.auth_mode_on() {
        return error_page(
            StatusCode::CONFLICT,
            "this server runs in local mode (auth mode off): nobody signs in",
        );
    }
    let return_to = query.ok().and_then(|q| q.0.return_to).unwrap_or_default();
    begin(
        &state,
        Caller::anonymous(client_ip(&parts, &state)),
        provider,
        return_to,
        false,
    )
    .await
}

/// `POST /oauth/start/{provider}` from the account page: link another account to the signed-in
/// user (a form with the session's CSRF token).
pub async fn start_link(
    State(state): State<GatewayState>,
    Path(provider): Path<String>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    let (principal, session) = match viewer_session(&parts, &state).await {
        Ok(Some(v)) => v,
        Ok(None) => return redirect("/admin/login?next=/admin/account"),
        Err(e) => return e.into_response(),
    };
    if !form_csrf_matches(&session, &body) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Missing or invalid CSRF token: reload the page and try again",
        );
    }
    let caller = Caller {
        principal: Some(principal),
        client_ip: client_ip(&parts, &state),
        session: Some(session),
    };
    // The dashboard's form says so; anything else returns to the account page.
    let return_to = match super::form_fields(&body).remove("return_to") {
        Some(r) if r == DASHBOARD_ACCOUNT => r,
        _ => "/admin/account".into(),
    };
    begin(&state, caller, provider, return_to, true).await
}

/// `GET /oauth/callback/{provider}`: the provider sends the browser back here.
pub async fn callback(
    State(state): State<GatewayState>,
    Path(provider): Path<String>,
    parts: Parts,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|q| q.0).unwrap_or_default();
    let mut res = match finish(&state, &provider, &parts, q).await {
        Ok(res) => res,
        Err((status, message)) => error_page(status, &message),
    };
    // The state is spent either way.
    if let Some(v) = state_cookie(&state, "", 0) {
        res.headers_mut().append(SET_COOKIE, v);
    }
    res
}

async fn finish(
    state: &GatewayState,
    provider: &str,
    parts: &Parts,
    q: CallbackQuery,
) -> Result<Response, (StatusCode, String)> {
    if let Some(error) = q.error {
        let detail = q.error_description.unwrap_or_default();
        return Err((
            StatusCode::BAD_REQUEST,
            format!("the provider refused the sign-in: {error} {detail}")
                .trim()
                .to_string(),
        ));
    }
    let query_state = q.state.unwrap_or_default();
    let bound =
        codex_central_common::wire::cookie(&parts.headers, STATE_COOKIE).unwrap_or_default();
    if query_state.is_empty() || !constant_time_eq(query_state.as_bytes(), bound.as_bytes()) {
        return Err((StatusCode::BAD_REQUEST, BAD_STATE.into()));
    }
    let req = Caller::anonymous(client_ip(parts, state)).request(
        state,
        CompleteOAuthLoginRequest {
            provider_id: provider.to_string(),
            code: q.code.unwrap_or_default(),
            state: query_state,
            user_agent: user_agent(&parts.headers),
        },
    );
    let done = match state
        .clients()
        .sign_in_providers()
        .complete_o_auth_login(req)
        .await
    {
        Ok(r) => r.into_inner(),
        Err(s) => {
            let e = ApiError::from(s);
            let status = match e.status {
                StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
                StatusCode::SERVICE_UNAVAILABLE => StatusCode::BAD_GATEWAY,
                other => other,
            };
            return Err((status, e.message));
        }
    };
    if done.linked {
        if done.return_to == DASHBOARD_ACCOUNT {
            return Ok(redirect(DASHBOARD_ACCOUNT));
        }
        return Ok(redirect("/admin/account?done=linked"));
    }
    let mut res = redirect(&super::safe_next(Some(&done.return_to)));
    set_session_cookie(state, &mut res, &done.session_token);
    Ok(res)
}
