//! Read-only policy documents of each service.

use axum::extract::State;
use axum::response::Response;
use codex_central_proto::config::v1::GetConfigSettingsRequest;
use codex_central_proto::fleet::v1::GetFleetPolicyRequest;
use codex_central_proto::memory::v1::{
    GetMemorySettingsRequest, MemorySettings, UpdateMemorySettingsRequest,
};
use codex_central_proto::usage::v1::GetQuotaPolicyRequest;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::{ApiError, GatewayState};

pub async fn fleet_policy(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .fleet()
        .get_fleet_policy(caller.request(&state, GetFleetPolicyRequest {}))
        .await?
        .into_inner();
    let Some(p) = res.policy else {
        return Ok(ok(Value::Null));
    };
    let version = p.codex_version.unwrap_or_default();
    Ok(ok(json!({
        "api_enabled": p.api_enabled,
        "silent_mode": p.silent_mode,
        "prune_inactive_days": p.prune_inactive_days,
        "codex_version": { "pinned": version.pinned, "version": version.version },
    })))
}

pub async fn quota_policy(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .usage()
        .get_quota_policy(caller.request(&state, GetQuotaPolicyRequest {}))
        .await?
        .into_inner();
    let p = res.policy.unwrap_or_default();
    Ok(ok(json!({
        "hard_fail": p.hard_fail,
        "limit_percent": p.limit_percent,
        "week_partition_days": p.week_partition_days,
    })))
}

pub async fn config_settings(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_config_settings(caller.request(&state, GetConfigSettingsRequest {}))
        .await?
        .into_inner();
    Ok(ok(super::config::settings_json(
        &res.settings.unwrap_or_default(),
    )))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemorySettingsBody {
    #[serde(default)]
    max_content_bytes: u32,
    #[serde(default)]
    workspace_quota_bytes: u64,
    #[serde(default)]
    workspace_enabled: Option<bool>,
    #[serde(default)]
    workspace_max_file_bytes: u64,
}

fn memory_settings_json(s: &MemorySettings) -> Value {
    json!({
        "max_content_bytes": s.max_content_bytes,
        "workspace_quota_bytes": s.workspace_quota_bytes,
        "workspace_enabled": s.workspace_enabled.unwrap_or(false),
        "workspace_max_file_bytes": s.workspace_max_file_bytes,
    })
}

/// `PUT /api/v1/memory/settings`: fields left out (or 0) keep their values.
pub async fn put_memory_settings(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<crate::plumbing::extract::Json<MemorySettingsBody>, ApiError>,
) -> Result<Response, ApiError> {
    let crate::plumbing::extract::Json(b) = body?;
    let res = state
        .clients()
        .memory()
        .update_memory_settings(caller.request(
            &state,
            UpdateMemorySettingsRequest {
                settings: Some(MemorySettings {
                    max_content_bytes: b.max_content_bytes,
                    workspace_quota_bytes: b.workspace_quota_bytes,
                    workspace_enabled: b.workspace_enabled,
                    workspace_max_file_bytes: b.workspace_max_file_bytes,
                }),
            },
        ))
        .await
        .map_err(|e| ApiError::from(e).with_field_prefix("settings.", ""))?
        .into_inner();
    Ok(ok(memory_settings_json(&res.settings.unwrap_or_default())))
}

pub async fn memory_settings(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .memory()
        .get_memory_settings(caller.request(&state, GetMemorySettingsRequest {}))
        .await?
        .into_inner();
    Ok(ok(memory_settings_json(&res.settings.unwrap_or_default())))
}
