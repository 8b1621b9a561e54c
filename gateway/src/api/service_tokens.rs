use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use codex_central_proto::auth::v1::{
    CreateServiceTokenRequest, ListServiceTokensRequest, RevokeServiceTokenRequest, ServiceToken,
    ServiceTokenScope,
};
use codex_central_proto::common::v1::PageRequest;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::{ok, ok_with};
use crate::plumbing::extract::{Json, Path};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

#[derive(Deserialize)]
pub struct CreateBody {
    name: String,
    #[serde(default)]
    scope: Option<String>,
    /// Seconds until the token expires; absent = never.
    #[serde(default)]
    expires_in: Option<i64>,
}

pub async fn create(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<CreateBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let scope = match body.scope.as_deref().unwrap_or("read") {
        "read" => ServiceTokenScope::Read,
        "admin" => ServiceTokenScope::Admin,
        _ => {
            return Err(ApiError::invalid_field(
                "scope",
                "scope must be \"admin\" or \"read\"",
            ));
        }
    };
    let res = state
        .clients()
        .tokens()
        .create_service_token(caller.request(
            &state,
            CreateServiceTokenRequest {
                name: body.name,
                scope: scope as i32,
                expires_in_seconds: body.expires_in,
            },
        ))
        .await?
        .into_inner();
    let mut token = res.token.as_ref().map(token_json).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut token {
        map.insert("secret".into(), json!(res.secret));
    }
    Ok(ok_with(StatusCode::CREATED, token))
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    page_size: u32,
    #[serde(default)]
    page_token: String,
    #[serde(default)]
    include_revoked: bool,
}

pub async fn list(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .tokens()
        .list_service_tokens(caller.request(
            &state,
            ListServiceTokensRequest {
                page: Some(PageRequest {
                    page_size: q.page_size,
                    page_token: q.page_token,
                }),
                include_revoked: q.include_revoked,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "tokens": res.tokens.iter().map(token_json).collect::<Vec<_>>(),
        "next_page_token": res.next_page_token,
    })))
}

pub async fn revoke(
    State(state): State<GatewayState>,
    caller: Caller,
    id: Result<Path<String>, ApiError>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let res = state
        .clients()
        .tokens()
        .revoke_service_token(caller.request(&state, RevokeServiceTokenRequest { id }))
        .await?
        .into_inner();
    Ok(ok(res
        .token
        .as_ref()
        .map(token_json)
        .unwrap_or(Value::Null)))
}

fn token_json(t: &ServiceToken) -> Value {
    let scope = match t.scope() {
        ServiceTokenScope::Admin => "admin",
        ServiceTokenScope::Read => "read",
        ServiceTokenScope::Unspecified => "",
    };
    json!({
        "id": t.id,
        "name": t.name,
        "scope": scope,
        "prefix": t.prefix,
        "created_by": t.created_by,
        "created_at": rfc3339(t.created_at.as_ref()),
        "expires_at": rfc3339(t.expires_at.as_ref()),
        "last_used_at": rfc3339(t.last_used_at.as_ref()),
        "revoked_at": rfc3339(t.revoked_at.as_ref()),
    })
}
