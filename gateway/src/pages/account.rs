//! `/admin/account`: the signed-in person's tokens, own upstream keys and password. Forms post
//! back here with the session's CSRF token as a field.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use codex_central_common::Principal;
use codex_central_proto::auth::v1::{
    ByokKeyStatus, ChangePasswordRequest, CreatePersonalTokenRequest, DeleteByokKeyRequest,
    ListByokKeysRequest, ListLinkedIdentitiesRequest, ListLoginProvidersRequest,
    ListPersonalTokensRequest, LoginProvider, PersonalTokenStatus, RevokePersonalTokenRequest,
    SetByokKeyRequest, UnlinkIdentityRequest,
};
use serde::Deserialize;

use super::{Frame, LocalModePage, Notice, Viewer, form_fields, page, redirect, viewer_session};
use crate::plumbing::caller::{Caller, SessionCredential, client_ip, csrf_matches};
use crate::plumbing::extract::{Path, RawBody};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

#[derive(Deserialize, Default)]
pub struct Flash {
    done: Option<String>,
}

fn flash_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "revoked" => "Token revoked.",
        "key-saved" => "Key saved. It is stored encrypted and never shown again.",
        "key-deleted" => "Key deleted.",
        "password" => "Password changed.",
        "linked" => "Account linked: you can now sign in with it.",
        "unlinked" => "Account unlinked.",
        _ => return None,
    })
}

fn when(ts: Option<&prost_types::Timestamp>) -> String {
    match rfc3339(ts) {
        serde_json::Value::String(s) => s.get(..16).unwrap_or(&s).replace('T', " "),
        _ => "never".into(),
    }
}

/// The page's caller, or a redirect to sign-in (or an explanation in local mode).
async fn signed_in(
    state: &GatewayState,
    parts: &Parts,
) -> Result<Result<(Caller, Principal, SessionCredential), Response>, ApiError> {
    if !state.auth_mode_on() {
        return Ok(Err(page(
            StatusCode::OK,
            &LocalModePage::new("Account", true),
        )));
    }
    match viewer_session(parts, state).await? {
        Some((p, s)) => Ok(Ok((
            Caller {
                principal: Some(p.clone()),
                client_ip: client_ip(parts, state),
                session: Some(s.clone()),
            },
            p,
            s,
        ))),
        None => Ok(Err(redirect("/admin/login?next=/admin/account"))),
    }
}

#[derive(Template)]
#[template(path = "pages/account.html")]
struct AccountPage<'a> {
    frame: Frame<'a>,
    /// A token just created, shown this once.
    secret: Option<&'a str>,
    name: &'a str,
    role: &'static str,
    csrf: &'a str,
    tokens: Vec<TokenRow<'a>>,
    keys: Vec<KeyRow<'a>>,
    links: Vec<LinkRow<'a>>,
    /// Providers the person could still link.
    link_providers: Vec<&'a LoginProvider>,
}

struct TokenRow<'a> {
    id: &'a str,
    name: &'a str,
    prefix: &'a str,
    created: String,
    last_used: String,
    status: &'static str,
}

struct KeyRow<'a> {
    provider: &'a str,
    masked: &'a str,
    updated: String,
    needs_reentry: bool,
}

struct LinkRow<'a> {
    id: &'a str,
    provider: &'a str,
    display: &'a str,
    linked: String,
}

async fn render(
    state: &GatewayState,
    caller: &Caller,
    principal: &Principal,
    csrf: &str,
    status: StatusCode,
    notice: Notice,
    secret: Option<&str>,
) -> Result<Response, ApiError> {
    let tokens = state
        .clients()
        .tokens()
        .list_personal_tokens(caller.request(state, ListPersonalTokensRequest::default()))
        .await?
        .into_inner()
        .tokens;
    let keys = state
        .clients()
        .byok()
        .list_byok_keys(caller.request(state, ListByokKeysRequest {}))
        .await?
        .into_inner()
        .keys;
    let identities = state
        .clients()
        .sign_in_providers()
        .list_linked_identities(caller.request(state, ListLinkedIdentitiesRequest {}))
        .await?
        .into_inner()
        .identities;
    let providers = state
        .clients()
        .sign_in_providers()
        .list_login_providers(caller.request(state, ListLoginProvidersRequest {}))
        .await?
        .into_inner()
        .providers;
    let token_rows = tokens
        .iter()
        .map(|t| TokenRow {
            id: &t.id,
            name: &t.name,
            prefix: &t.prefix,
            created: when(t.created_at.as_ref()),
            last_used: when(t.last_used_at.as_ref()),
            status: match PersonalTokenStatus::try_from(t.status) {
                Ok(PersonalTokenStatus::Expired) => "expired",
                Ok(PersonalTokenStatus::Revoked) => "revoked",
                _ => "active",
            },
        })
        .collect();
    let key_rows = keys
        .iter()
        .map(|k| KeyRow {
            provider: &k.provider_id,
            masked: &k.masked_suffix,
            updated: when(k.updated_at.as_ref()),
            needs_reentry: k.status == ByokKeyStatus::NeedsReentry as i32,
        })
        .collect();
    let links = identities
        .iter()
        .map(|i| LinkRow {
            id: &i.id,
            provider: &i.provider_id,
            display: &i.display,
            linked: when(i.linked_at.as_ref()),
        })
        .collect();
    let link_providers = providers
        .iter()
        .filter(|p| !identities.iter().any(|i| i.provider_id == p.id))
        .collect();
    let account = AccountPage {
        frame: Frame {
            title: "Account",
            viewer: Viewer::SignedIn {
                name: &principal.name,
                csrf,
            },
            narrow: false,
            notice,
        },
        secret,
        name: &principal.name,
        role: if principal.role == codex_central_common::Role::Admin {
            "admin"
        } else {
            "member"
        },
        csrf,
        tokens: token_rows,
        keys: key_rows,
        links,
        link_providers,
    };
    Ok(page(status, &account))
}

pub async fn show(
    State(state): State<GatewayState>,
    parts: Parts,
    query: Result<Query<Flash>, QueryRejection>,
) -> Result<Response, ApiError> {
    let flash = query.ok().and_then(|q| q.0.done);
    let (caller, principal, session) = match signed_in(&state, &parts).await? {
        Ok(v) => v,
        Err(res) => return Ok(res),
    };
    let notice = flash
        .as_deref()
        .and_then(flash_text)
        .map(|t| Notice::Ok(t.into()))
        .unwrap_or(Notice::None);
    render(
        &state,
        &caller,
        &principal,
        &session.csrf,
        StatusCode::OK,
        notice,
        None,
    )
    .await
}

/// Runs a form action: signed in, CSRF field checked, then `act`; errors re-render the page.
async fn action<F, Fut>(state: GatewayState, parts: Parts, body: &[u8], act: F) -> Response
where
    F: FnOnce(GatewayState, Caller, std::collections::HashMap<String, String>) -> Fut,
    Fut: std::future::Future<Output = Result<Response, ApiError>>,
{
    let (caller, principal, session) = match signed_in(&state, &parts).await {
        Ok(Ok(v)) => v,
        Ok(Err(res)) => return res,
        Err(e) => return e.into_response(),
    };
    let fields = form_fields(body);
    let presented = fields.get("csrf_token").cloned().unwrap_or_default();
    if !csrf_matches(&session, &presented) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "Missing or invalid CSRF token: reload the page and try again",
        )
        .into_response();
    }
    match act(state.clone(), caller.clone(), fields).await {
        Ok(res) => res,
        Err(e) => render(
            &state,
            &caller,
            &principal,
            &session.csrf,
            e.status,
            Notice::Error(e.message),
            None,
        )
        .await
        .unwrap_or_else(IntoResponse::into_response),
    }
}

pub async fn create_token(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    action(state, parts, &body, |state, caller, f| async move {
        let created = state
            .clients()
            .tokens()
            .create_personal_token(caller.request(
                &state,
                CreatePersonalTokenRequest {
                    name: f.get("name").cloned().unwrap_or_default(),
                    expires_in_seconds: None,
                    policy: None,
                },
            ))
            .await?
            .into_inner();
        // `action` only runs for a signed-in caller with a session.
        let (Some(p), Some(session)) = (caller.principal.clone(), caller.session.clone()) else {
            return Ok(redirect("/admin/login?next=/admin/account"));
        };
        render(
            &state,
            &caller,
            &p,
            &session.csrf,
            StatusCode::CREATED,
            Notice::None,
            Some(&created.secret),
        )
        .await
    })
    .await
}

pub async fn revoke_token(
    State(state): State<GatewayState>,
    Path(id): Path<String>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    action(state, parts, &body, |state, caller, _| async move {
        state
            .clients()
            .tokens()
            .revoke_personal_token(caller.request(&state, RevokePersonalTokenRequest { id }))
            .await?;
        Ok(redirect("/admin/account?done=revoked"))
    })
    .await
}

pub async fn set_byok(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    action(state, parts, &body, |state, caller, f| async move {
        state
            .clients()
            .byok()
            .set_byok_key(caller.request(
                &state,
                SetByokKeyRequest {
                    provider_id: f.get("provider").cloned().unwrap_or_default(),
                    key: f.get("key").cloned().unwrap_or_default(),
                },
            ))
            .await?;
        Ok(redirect("/admin/account?done=key-saved"))
    })
    .await
}

pub async fn delete_byok(
    State(state): State<GatewayState>,
    Path(provider): Path<String>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    action(state, parts, &body, |state, caller, _| async move {
        state
            .clients()
            .byok()
            .delete_byok_key(caller.request(
                &state,
                DeleteByokKeyRequest {
                    provider_id: provider,
                },
            ))
            .await?;
        Ok(redirect("/admin/account?done=key-deleted"))
    })
    .await
}

pub async fn password(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    action(state, parts, &body, |state, caller, f| async move {
        state
            .clients()
            .users()
            .change_password(caller.request(
                &state,
                ChangePasswordRequest {
                    current_password: f.get("current_password").cloned().unwrap_or_default(),
                    new_password: f.get("new_password").cloned().unwrap_or_default(),
                },
            ))
            .await?;
        Ok(redirect("/admin/account?done=password"))
    })
    .await
}

pub async fn unlink(
    State(state): State<GatewayState>,
    Path(id): Path<String>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Response {
    action(state, parts, &body, |state, caller, _| async move {
        state
            .clients()
            .sign_in_providers()
            .unlink_identity(caller.request(&state, UnlinkIdentityRequest { id }))
            .await?;
        Ok(redirect("/admin/account?done=unlinked"))
    })
    .await
}
