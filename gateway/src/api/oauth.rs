//! `/api/v1/oauth/providers` (admin): GitHub, Gitee and OpenID Connect sign-in providers; and
//! `/api/v1/account/links`: the caller's linked sign-in accounts.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use codex_central_proto::auth::v1::{
    CreateOAuthProviderRequest, DeleteOAuthProviderRequest, GetOAuthProviderRequest,
    LinkedIdentity, ListLinkedIdentitiesRequest, ListOAuthProvidersRequest, OAuthProvider,
    OAuthProviderKind, UnlinkIdentityRequest, UpdateOAuthProviderRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::{ok, ok_with};
use crate::plumbing::extract::{Json, Path};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

fn kind_name(kind: i32) -> &'static str {
    match OAuthProviderKind::try_from(kind) {
        Ok(OAuthProviderKind::OauthProviderKindGithub) => "github",
        Ok(OAuthProviderKind::OauthProviderKindGitee) => "gitee",
        Ok(OAuthProviderKind::OauthProviderKindOidc) => "oidc",
        _ => "unknown",
    }
}

fn kind_of(name: &str) -> Result<OAuthProviderKind, ApiError> {
    match name {
        "github" => Ok(OAuthProviderKind::OauthProviderKindGithub),
        "gitee" => Ok(OAuthProviderKind::OauthProviderKindGitee),
        "oidc" => Ok(OAuthProviderKind::OauthProviderKindOidc),
        _ => Err(ApiError::invalid_field(
            "kind",
            "kind must be github, gitee or oidc",
        )),
    }
}

fn provider_json(p: &OAuthProvider) -> Value {
    json!({
        "name": p.id,
        "kind": kind_name(p.kind),
        "display_name": p.display_name,
        "client_id": p.client_id,
        "client_secret_set": p.client_secret_set,
        "issuer_url": p.issuer_url,
        "scopes": p.scopes,
        "enabled": p.enabled,
        "callback_url": p.callback_url,
        "created_at": rfc3339(p.created_at.as_ref()),
        "updated_at": rfc3339(p.updated_at.as_ref()),
    })
}

fn link_json(i: &LinkedIdentity) -> Value {
    json!({
        "id": i.id,
        "provider": i.provider_id,
        "kind": kind_name(i.provider_kind),
        "subject": i.subject,
        "display": i.display,
        "linked_at": rfc3339(i.linked_at.as_ref()),
        "last_login_at": rfc3339(i.last_login_at.as_ref()),
    })
}

pub async fn list(State(state): State<GatewayState>, caller: Caller) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .sign_in_providers()
        .list_o_auth_providers(caller.request(&state, ListOAuthProvidersRequest {}))
        .await?
        .into_inner();
    let providers: Vec<Value> = res.providers.iter().map(provider_json).collect();
    Ok(ok(json!({ "providers": providers })))
}

pub async fn get(
    State(state): State<GatewayState>,
    caller: Caller,
    path: Result<Path<String>, ApiError>,
) -> Result<Response, ApiError> {
    let Path(id) = path?;
    let res = state
        .clients()
        .sign_in_providers()
        .get_o_auth_provider(caller.request(&state, GetOAuthProviderRequest { id }))
        .await?
        .into_inner();
    Ok(ok(
        json!({ "provider": res.provider.as_ref().map(provider_json) }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    kind: String,
    #[serde(default)]
    display_name: String,
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    issuer_url: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

pub async fn create(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<CreateBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .sign_in_providers()
        .create_o_auth_provider(caller.request(
            &state,
            CreateOAuthProviderRequest {
                id: b.name,
                kind: kind_of(&b.kind)? as i32,
                display_name: b.display_name,
                client_id: b.client_id,
                client_secret: b.client_secret,
                issuer_url: b.issuer_url,
                scopes: b.scopes,
                enabled: b.enabled,
            },
        ))
        .await?
        .into_inner();
    Ok(ok_with(
        StatusCode::CREATED,
        json!({ "provider": res.provider.as_ref().map(provider_json) }),
    ))
}

/// Edits: absent fields keep their value; a blank or absent secret keeps the stored one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    issuer_url: String,
    #[serde(default)]
    scopes: Vec<String>,
    enabled: Option<bool>,
}

pub async fn update(
    State(state): State<GatewayState>,
    caller: Caller,
    path: Result<Path<String>, ApiError>,
    body: Result<Json<UpdateBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Path(id) = path?;
    let Json(b) = body?;
    let enabled = match b.enabled {
        Some(e) => e,
        None => state
            .clients()
            .sign_in_providers()
            .get_o_auth_provider(caller.request(&state, GetOAuthProviderRequest { id: id.clone() }))
            .await?
            .into_inner()
            .provider
            .is_some_and(|p| p.enabled),
    };
    let res = state
        .clients()
        .sign_in_providers()
        .update_o_auth_provider(caller.request(
            &state,
            UpdateOAuthProviderRequest {
                id,
                display_name: b.display_name,
                client_id: b.client_id,
                client_secret: b.client_secret,
                issuer_url: b.issuer_url,
                scopes: b.scopes,
                enabled,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(
        json!({ "provider": res.provider.as_ref().map(provider_json) }),
    ))
}

pub async fn delete(
    State(state): State<GatewayState>,
    caller: Caller,
    path: Result<Path<String>, ApiError>,
) -> Result<Response, ApiError> {
    let Path(id) = path?;
    state
        .clients()
        .sign_in_providers()
        .delete_o_auth_provider(caller.request(&state, DeleteOAuthProviderRequest { id }))
        .await?;
    Ok(ok(json!({ "deleted": true })))
}

pub async fn links(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .sign_in_providers()
        .list_linked_identities(caller.request(&state, ListLinkedIdentitiesRequest {}))
        .await?
        .into_inner();
    let links: Vec<Value> = res.identities.iter().map(link_json).collect();
    Ok(ok(json!({ "links": links })))
}

/// `GET /api/v1/account/links/{provider}`: the caller's link to one provider.
pub async fn link(
    State(state): State<GatewayState>,
    caller: Caller,
    path: Result<Path<String>, ApiError>,
) -> Result<Response, ApiError> {
    let Path(provider) = path?;
    let res = state
        .clients()
        .sign_in_providers()
        .list_linked_identities(caller.request(&state, ListLinkedIdentitiesRequest {}))
        .await?
        .into_inner();
    let found = res
        .identities
        .iter()
        .find(|i| i.provider_id == provider || i.id == provider)
        .ok_or_else(|| ApiError::not_found("no linked account for this provider"))?;
    Ok(ok(json!({ "link": link_json(found) })))
}

/// `DELETE /api/v1/account/links/{provider}` (a provider name or a link id).
pub async fn unlink(
    State(state): State<GatewayState>,
    caller: Caller,
    path: Result<Path<String>, ApiError>,
) -> Result<Response, ApiError> {
    let Path(id) = path?;
    state
        .clients()
        .sign_in_providers()
        .unlink_identity(caller.request(&state, UnlinkIdentityRequest { id }))
        .await?;
    Ok(ok(json!({ "unlinked": true })))
}
