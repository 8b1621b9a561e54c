//! `/admin/account`: the signed-in person's tokens, own upstream keys and password. Forms post
//! back here with the session's CSRF token as a field.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use codex_central_common::Principal;
use codex_central_proto::auth::v1::{
    ByokKeyStatus, ChangePasswordRequest, CreatePersonalTokenRequest, DeleteByokKeyRequest,
    ListByokKeysRequest, ListLinkedIdentitiesRequest, ListLoginProvidersRequest,
    ListPersonalTokensRequest, PersonalTokenStatus, RevokePersonalTokenRequest, SetByokKeyRequest,
    UnlinkIdentityRequest,
};
use serde::Deserialize;

use super::{Notice, Viewer, esc, form_fields, page, redirect, viewer_session};
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
            "Account",
            &Viewer {
                principal: None,
                csrf: None,
                local_mode: true,
            },
            true,
            &Notice::None,
            r#"<div class="card"><h1>Local mode</h1><p>This server runs with <code>auth_mode = off</code>: there are no personal accounts, tokens or keys. <code>/v1</code> is open to this machine.</p></div>"#,
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
        .auth()
        .list_personal_tokens(caller.request(state, ListPersonalTokensRequest::default()))
        .await?
        .into_inner()
        .tokens;
    let keys = state
        .clients()
        .auth()
        .list_byok_keys(caller.request(state, ListByokKeysRequest {}))
        .await?
        .into_inner()
        .keys;
    let identities = state
        .clients()
        .auth()
        .list_linked_identities(caller.request(state, ListLinkedIdentitiesRequest {}))
        .await?
        .into_inner()
        .identities;
    let providers = state
        .clients()
        .auth()
        .list_login_providers(caller.request(state, ListLoginProvidersRequest {}))
        .await?
        .into_inner()
        .providers;
    let csrf_field = format!(
        r#"<input type="hidden" name="csrf_token" value="{}">"#,
        esc(csrf)
    );
    let secret_html = secret
        .map(|s| {
            format!(
                r#"<div class="notice ok" role="status">Your new token (copy it now, it is not shown again):<code class="secret">{}</code></div>"#,
                esc(s)
            )
        })
        .unwrap_or_default();
    let mut token_rows = String::new();
    for t in &tokens {
        let status = match PersonalTokenStatus::try_from(t.status) {
            Ok(PersonalTokenStatus::Expired) => "expired",
            Ok(PersonalTokenStatus::Revoked) => "revoked",
            _ => "active",
        };
        token_rows.push_str(&format!(
            r#"<tr><td>{}<br><span class="muted prefix">{}…</span></td><td>{}</td><td>{}</td><td>{status}</td><td><form class="inline" method="post" action="/admin/account/tokens/{}/revoke">{csrf_field}<button class="link" type="submit">Revoke</button></form></td></tr>"#,
            esc(&t.name),
            esc(&t.prefix),
            when(t.created_at.as_ref()),
            when(t.last_used_at.as_ref()),
            esc(&t.id),
        ));
    }
    if tokens.is_empty() {
        token_rows = r#"<tr><td colspan="5" class="muted">No tokens yet.</td></tr>"#.into();
    }
    let mut key_rows = String::new();
    for k in &keys {
        let status = if k.status == ByokKeyStatus::NeedsReentry as i32 {
            r#"<strong>needs re-entry</strong>"#
        } else {
            "ok"
        };
        key_rows.push_str(&format!(
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{status}</td><td><form class="inline" method="post" action="/admin/account/byok/{}/delete">{csrf_field}<button class="link" type="submit">Delete</button></form></td></tr>"#,
            esc(&k.provider_id),
            esc(&k.masked_suffix),
            when(k.updated_at.as_ref()),
            esc(&k.provider_id),
        ));
    }
    if keys.is_empty() {
        key_rows = r#"<tr><td colspan="5" class="muted">No keys of your own: requests use the shared keys.</td></tr>"#.into();
    }
    let mut link_rows = String::new();
    for i in &identities {
        link_rows.push_str(&format!(
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td><form class="inline" method="post" action="/admin/account/links/{}/unlink">{csrf_field}<button class="link" type="submit">Unlink</button></form></td></tr>"#,
            esc(&i.provider_id),
            esc(&i.display),
            when(i.linked_at.as_ref()),
            esc(&i.id),
        ));
    }
    if identities.is_empty() {
        link_rows = r#"<tr><td colspan="4" class="muted">No linked accounts.</td></tr>"#.into();
    }
    let mut link_buttons = String::new();
    for p in providers
        .iter()
        .filter(|p| !identities.iter().any(|i| i.provider_id == p.id))
    {
        link_buttons.push_str(&format!(
            r#"<form class="inline" method="post" action="/oauth/start/{}">{csrf_field}<button type="submit">Link {}</button></form> "#,
            esc(&p.id),
            esc(&p.display_name)
        ));
    }
    let body = format!(
        r#"{secret_html}<div class="card"><h1>{name}</h1><p class="muted">Role: {role}</p></div>
<div class="card"><h2>Personal API tokens</h2><p class="muted">Use a token as <code>Authorization: Bearer m2c_…</code> for <code>/v1</code> (Codex, OpenAI SDKs) and the REST API.</p>
<table><thead><tr><th>Name</th><th>Created</th><th>Last used</th><th>Status</th><th></th></tr></thead><tbody>{token_rows}</tbody></table>
<form method="post" action="/admin/account/tokens">{csrf_field}<label for="token_name">New token name <span class="muted">(optional)</span></label><input id="token_name" name="name" type="text" maxlength="128"><button type="submit">Create token</button></form></div>
<div class="card"><h2>Your upstream keys</h2><p class="muted">Keys you bring for an upstream provider are used for your requests instead of the shared key.</p>
<table><thead><tr><th>Provider</th><th>Key</th><th>Updated</th><th>Status</th><th></th></tr></thead><tbody>{key_rows}</tbody></table>
<form method="post" action="/admin/account/byok">{csrf_field}<div class="row"><div><label for="provider">Provider</label><input id="provider" name="provider" type="text" required maxlength="64"></div><div><label for="key">Key</label><input id="key" name="key" type="password" required autocomplete="off"></div></div><button type="submit">Save key</button></form></div>
<div class="card"><h2>Linked sign-in accounts</h2>
<table><thead><tr><th>Provider</th><th>Account</th><th>Linked</th><th></th></tr></thead><tbody>{link_rows}</tbody></table>{link_buttons}</div>
<div class="card"><h2>Change password</h2><form method="post" action="/admin/account/password">{csrf_field}<label for="current_password">Current password</label><input id="current_password" name="current_password" type="password" autocomplete="current-password" required><label for="new_password">New password <span class="muted">(at least 8 characters)</span></label><input id="new_password" name="new_password" type="password" autocomplete="new-password" required minlength="8"><button type="submit">Change password</button></form></div>"#,
        name = esc(&principal.name),
        role = if principal.role == codex_central_common::Role::Admin {
            "admin"
        } else {
            "member"
        },
    );
    Ok(page(
        status,
        "Account",
        &Viewer {
            principal: Some(principal),
            csrf: Some(csrf),
            local_mode: false,
        },
        false,
        &notice,
        &body,
    ))
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
            .auth()
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
            .auth()
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
            .auth()
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
            .auth()
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
            .auth()
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
            .auth()
            .unlink_identity(caller.request(&state, UnlinkIdentityRequest { id }))
            .await?;
        Ok(redirect("/admin/account?done=unlinked"))
    })
    .await
}
