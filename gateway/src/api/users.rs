//! `/api/v1/users`: people's accounts (admin).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use codex_central_proto::auth::v1::{
    CreateUserRequest, DeleteUserRequest, GetUserRequest, ListUsersRequest,
    ResetUserPasswordRequest, SetUserEnabledRequest, SetUserRoleRequest, UpdateUserRequest, User,
};
use codex_central_proto::common::v1::{PageRequest, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::{ok, ok_with};
use crate::plumbing::extract::{Json, Path};
use crate::plumbing::flex::FlexBool;
use crate::plumbing::views::user_json;
use crate::{ApiError, GatewayState};

fn role(text: &str) -> Result<Role, ApiError> {
    match text {
        "admin" => Ok(Role::Admin),
        "member" => Ok(Role::Member),
        _ => Err(ApiError::invalid_field(
            "role",
            "role must be admin or member",
        )),
    }
}

fn one(u: Option<User>) -> Response {
    ok(json!({ "user": u.as_ref().map(user_json) }))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    include_disabled: Option<FlexBool>,
    page_size: Option<u32>,
    page_token: Option<String>,
}

pub async fn list(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .users()
        .list_users(caller.request(
            &state,
            ListUsersRequest {
                page: Some(PageRequest {
                    page_size: q.page_size.unwrap_or(0),
                    page_token: q.page_token.unwrap_or_default(),
                }),
                query: q.q.unwrap_or_default(),
                include_disabled: q.include_disabled.map(|f| f.0).unwrap_or(true),
            },
        ))
        .await?
        .into_inner();
    let users: Vec<Value> = res.users.iter().map(user_json).collect();
    let next = (!res.next_page_token.is_empty()).then_some(res.next_page_token);
    Ok(ok(json!({ "users": users, "next_page_token": next })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    username: String,
    password: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: Option<String>,
}

pub async fn create(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<CreateBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let role = role(b.role.as_deref().unwrap_or("member"))?;
    let res = state
        .clients()
        .users()
        .create_user(caller.request(
            &state,
            CreateUserRequest {
                username: b.username,
                display_name: b.display_name,
                password: b.password,
                role: role as i32,
            },
        ))
        .await?
        .into_inner();
    Ok(ok_with(
        StatusCode::CREATED,
        json!({ "user": res.user.as_ref().map(user_json) }),
    ))
}

pub async fn get(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .users()
        .get_user(caller.request(&state, GetUserRequest { id }))
        .await?
        .into_inner();
    Ok(one(res.user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    #[serde(default)]
    display_name: Option<String>,
}

pub async fn patch(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<PatchBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .users()
        .update_user(caller.request(
            &state,
            UpdateUserRequest {
                id,
                display_name: b.display_name,
            },
        ))
        .await?
        .into_inner();
    Ok(one(res.user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    role: String,
}

pub async fn set_role(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<RoleBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let role = role(&b.role)?;
    let res = state
        .clients()
        .users()
        .set_user_role(caller.request(
            &state,
            SetUserRoleRequest {
                id,
                role: role as i32,
            },
        ))
        .await?
        .into_inner();
    Ok(one(res.user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnabledBody {
    enabled: FlexBool,
}

pub async fn set_enabled(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<EnabledBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .users()
        .set_user_enabled(caller.request(
            &state,
            SetUserEnabledRequest {
                id,
                enabled: b.enabled.0,
            },
        ))
        .await?
        .into_inner();
    Ok(one(res.user))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

pub async fn reset_password(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<PasswordBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .users()
        .reset_user_password(caller.request(
            &state,
            ResetUserPasswordRequest {
                id,
                new_password: b.password,
            },
        ))
        .await?
        .into_inner();
    Ok(one(res.user))
}

pub async fn delete(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .clients()
        .users()
        .delete_user(caller.request(&state, DeleteUserRequest { id }))
        .await?;
    Ok(ok(json!({ "deleted": true })))
}
