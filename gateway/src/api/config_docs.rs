//! `/api/v1/config/…` for the config.toml template's versions (history, diff, restore), its
//! profiles and the per-host overrides. The template itself is stored through the peer's
//! `/admin/config…` routes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::config::v1::{
    CreateProfileRequest, DeleteHostConfigOverrideRequest, DeleteProfileRequest,
    DiffConfigVersionsRequest, GetConfigVersionRequest, GetHostConfigOverrideRequest,
    GetProfileRequest, HostConfigOverride, ListConfigVersionsRequest, ListProfilesRequest,
    RenameProfileRequest, RestoreConfigVersionRequest, SetHostConfigOverrideRequest,
    UpdateProfileRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::config_json::{ProfileJson, document_json, profile_file_json, profile_json};
use crate::plumbing::caller::Caller;
use crate::plumbing::error::{ok, ok_with};
use crate::plumbing::extract::{Json, Path, Q};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[serde(default)]
    pub page_size: u32,
    #[serde(default)]
    pub page_token: String,
}

/// `GET /api/v1/config/versions`: saved versions newest first (paged).
pub async fn versions(
    State(state): State<GatewayState>,
    caller: Caller,
    Q(q): Q<PageQuery>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .list_config_versions(caller.request(
            &state,
            ListConfigVersionsRequest {
                page: Some(PageRequest {
                    page_size: q.page_size,
                    page_token: q.page_token,
                }),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "versions": res.versions.iter().map(document_json).collect::<Vec<_>>(),
        "next_page_token": res.next_page_token,
    })))
}

/// `GET /api/v1/config/versions/{version}`: the template, profiles and files of a version.
pub async fn version(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(version): Path<u32>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_config_version(caller.request(&state, GetConfigVersionRequest { version }))
        .await?
        .into_inner();
    let mut v = res.document.as_ref().map_or(Value::Null, document_json);
    v["profiles"] = json!(res.profiles.iter().map(profile_json).collect::<Vec<_>>());
    v["files"] = json!(
        res.files
            .iter()
            .map(|f| profile_file_json(f, true))
            .collect::<Vec<_>>()
    );
    Ok(ok(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    from: u32,
    /// Unset: the current version.
    #[serde(default)]
    to: u32,
}

/// `GET /api/v1/config/diff?from=&to=`: a unified diff of every file that differs.
pub async fn diff(
    State(state): State<GatewayState>,
    caller: Caller,
    Q(q): Q<DiffQuery>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .diff_config_versions(caller.request(
            &state,
            DiffConfigVersionsRequest {
                from_version: q.from,
                to_version: q.to,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({"from": q.from, "to": q.to, "diff": res.diff})))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RestoreBody {
    /// The current version's sha256 as the editor saw it (409 when stale).
    #[serde(default)]
    pub sha256: String,
}

/// `POST /api/v1/config/versions/{version}/restore`: that version saved again as the newest.
pub async fn restore(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(version): Path<u32>,
    body: Result<Json<RestoreBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .restore_config_version(caller.request(
            &state,
            RestoreConfigVersionRequest {
                version,
                expected_sha256: b.sha256,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(res.document.as_ref().map_or(Value::Null, document_json)))
}

/// `GET /api/v1/config/profiles`.
pub async fn profiles(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .list_profiles(caller.request(&state, ListProfilesRequest {}))
        .await?
        .into_inner();
    Ok(ok(json!({
        "profiles": res.profiles.iter().map(profile_json).collect::<Vec<_>>(),
    })))
}

/// `GET /api/v1/config/profiles/{name}`.
pub async fn profile(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_profile(caller.request(&state, GetProfileRequest { name }))
        .await?
        .into_inner();
    Ok(ok(res.profile.as_ref().map_or(Value::Null, profile_json)))
}

fn profile_error(e: tonic::Status) -> ApiError {
    ApiError::from(e).with_field_prefix("profile.", "")
}

/// `POST /api/v1/config/profiles`: 201 with the profile.
pub async fn create_profile(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<ProfileJson>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .create_profile(caller.request(
            &state,
            CreateProfileRequest {
                profile: Some(b.into()),
            },
        ))
        .await
        .map_err(profile_error)?
        .into_inner();
    Ok(ok_with(
        StatusCode::CREATED,
        res.profile.as_ref().map_or(Value::Null, profile_json),
    ))
}

/// `PUT /api/v1/config/profiles/{name}`: replaces the profile's overrides.
pub async fn update_profile(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<ProfileJson>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(mut b) = body?;
    if !b.name.is_empty() && b.name != name {
        return Err(ApiError::invalid_field(
            "name",
            "use POST /api/v1/config/profiles/{name}/rename to rename a profile",
        ));
    }
    b.name = name;
    let res = state
        .clients()
        .config()
        .update_profile(caller.request(
            &state,
            UpdateProfileRequest {
                profile: Some(b.into()),
            },
        ))
        .await
        .map_err(profile_error)?
        .into_inner();
    Ok(ok(res.profile.as_ref().map_or(Value::Null, profile_json)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    new_name: String,
}

/// `POST /api/v1/config/profiles/{name}/rename` `{new_name}`.
pub async fn rename_profile(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<RenameBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .rename_profile(caller.request(
            &state,
            RenameProfileRequest {
                name,
                new_name: b.new_name,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(res.profile.as_ref().map_or(Value::Null, profile_json)))
}

/// `DELETE /api/v1/config/profiles/{name}`.
pub async fn delete_profile(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    state
        .clients()
        .config()
        .delete_profile(caller.request(&state, DeleteProfileRequest { name: name.clone() }))
        .await?;
    Ok(ok(json!({ "deleted": name })))
}

fn override_json(host_id: u64, o: Option<&HostConfigOverride>) -> Value {
    json!({
        "host_id": host_id,
        "extra_toml": o.map_or("", |o| o.extra_toml.as_str()),
        "default_profile": o.map_or("", |o| o.default_profile.as_str()),
        "requirements_toml": o.map_or("", |o| o.requirements_toml.as_str()),
        "updated_at": rfc3339(o.and_then(|o| o.updated_at.as_ref())),
    })
}

/// `GET /api/v1/config/hosts/{id}/override`: empty values when the host has none.
pub async fn host_override(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_host_config_override(caller.request(
            &state,
            GetHostConfigOverrideRequest {
                host_id: id.to_string(),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(override_json(id, res.host_override.as_ref())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    #[serde(default)]
    extra_toml: String,
    #[serde(default)]
    default_profile: String,
    #[serde(default)]
    requirements_toml: String,
}

/// `PUT /api/v1/config/hosts/{id}/override` `{extra_toml, default_profile, requirements_toml}`.
pub async fn set_host_override(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<u64>,
    body: Result<Json<OverrideBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .set_host_config_override(caller.request(
            &state,
            SetHostConfigOverrideRequest {
                host_override: Some(HostConfigOverride {
                    host_id: id.to_string(),
                    extra_toml: b.extra_toml,
                    default_profile: b.default_profile,
                    requirements_toml: b.requirements_toml,
                    updated_at: None,
                }),
            },
        ))
        .await
        .map_err(|e| ApiError::from(e).with_field_prefix("host_override.", ""))?
        .into_inner();
    Ok(ok(override_json(id, res.host_override.as_ref())))
}

/// `DELETE /api/v1/config/hosts/{id}/override`: 404 when the host has none.
pub async fn delete_host_override(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    state
        .clients()
        .config()
        .delete_host_config_override(caller.request(
            &state,
            DeleteHostConfigOverrideRequest {
                host_id: id.to_string(),
            },
        ))
        .await?;
    Ok(ok(json!({ "deleted": id })))
}
