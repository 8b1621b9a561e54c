//! Admin REST for the gateway's upstream providers (`/api/v1/providers`) and each user's
//! runtime override (`/api/v1/account/override`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use codex_central_proto::config::v1::{
    ClearRuntimeOverrideRequest, CreateUpstreamProviderRequest, DeleteUpstreamProviderRequest,
    GetRuntimeOverrideRequest, GetUpstreamProviderRequest, ListUpstreamProvidersRequest,
    RuntimeOverride, SetRuntimeOverrideRequest, UpdateUpstreamProviderRequest, UpstreamKind,
    UpstreamModel, UpstreamProvider, WireApi,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::{ok, ok_with};
use crate::plumbing::extract::{Json, Path};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

pub fn provider_json(p: &UpstreamProvider) -> Value {
    let kind = match p.kind() {
        UpstreamKind::Openai => "openai",
        UpstreamKind::Mimo => "mimo",
        UpstreamKind::Deepseek => "deepseek",
        UpstreamKind::OpenaiCompatible | UpstreamKind::Unspecified => "openai-compatible",
    };
    let wire = match p.wire_api() {
        WireApi::Responses => "responses",
        WireApi::Chat | WireApi::Unspecified => "chat",
    };
    let models: Vec<Value> = p
        .models
        .iter()
        .map(|m| {
            json!({
                "name": m.id,
                "upstream": m.upstream_model,
                "display_name": m.display_name,
                "enabled": m.enabled,
                "context_window": m.context_window,
                "reasoning": m.supports_reasoning,
                "max_output_tokens": m.max_output_tokens,
            })
        })
        .collect();
    json!({
        "name": p.name,
        "kind": kind,
        "base_url": p.base_url,
        "wire_api": wire,
        "models": models,
        "enabled": p.enabled,
        "preset": p.preset,
        "api_key_set": p.shared_key_set,
        // Only the last characters, ever.
        "api_key_suffix": p.shared_key_set.then(|| format!("…{}", p.shared_key_suffix)),
        "created_at": rfc3339(p.created_at.as_ref()),
        "updated_at": rfc3339(p.updated_at.as_ref()),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelBody {
    name: String,
    #[serde(default)]
    upstream: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    context_window: Option<u32>,
    #[serde(default)]
    reasoning: bool,
    #[serde(default)]
    max_output_tokens: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderBody {
    #[serde(default)]
    name: Option<String>,
    kind: String,
    base_url: String,
    #[serde(default)]
    wire_api: Option<String>,
    #[serde(default)]
    models: Vec<ModelBody>,
    /// Write-only. On edit, absent or blank keeps the stored key.
    #[serde(default)]
    api_key: Option<String>,
    /// On edit: remove the stored key.
    #[serde(default)]
    clear_api_key: bool,
    #[serde(default)]
    enabled: Option<bool>,
}

fn to_proto(name: String, b: &ProviderBody, enabled: bool) -> Result<UpstreamProvider, ApiError> {
    let kind = match b.kind.as_str() {
        "openai" => UpstreamKind::Openai,
        "mimo" => UpstreamKind::Mimo,
        "deepseek" => UpstreamKind::Deepseek,
        "openai-compatible" => UpstreamKind::OpenaiCompatible,
        _ => {
            return Err(ApiError::invalid_field(
                "kind",
                "kind must be openai, mimo, deepseek or openai-compatible",
            ));
        }
    };
    // OpenAI speaks Responses natively; the others are Chat Completions servers.
    let default_wire = if kind == UpstreamKind::Openai {
        "responses"
    } else {
        "chat"
    };
    let wire = match b.wire_api.as_deref().unwrap_or(default_wire) {
        "responses" => WireApi::Responses,
        "chat" => WireApi::Chat,
        _ => {
            return Err(ApiError::invalid_field(
                "wire_api",
                "wire_api must be responses or chat",
            ));
        }
    };
    Ok(UpstreamProvider {
        id: name.clone(),
        name,
        kind: kind as i32,
        base_url: b.base_url.clone(),
        wire_api: wire as i32,
        models: b
            .models
            .iter()
            .map(|m| UpstreamModel {
                id: m.name.clone(),
                upstream_model: m.upstream.clone(),
                display_name: m.display_name.clone(),
                enabled: m.enabled.unwrap_or(true),
                context_window: m.context_window,
                supports_reasoning: m.reasoning,
                max_output_tokens: m.max_output_tokens,
            })
            .collect(),
        enabled,
        ..Default::default()
    })
}

pub async fn list(State(state): State<GatewayState>, caller: Caller) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .list_upstream_providers(caller.request(
            &state,
            ListUpstreamProvidersRequest {
                include_disabled: true,
            },
        ))
        .await?
        .into_inner();
    let providers: Vec<Value> = res.providers.iter().map(provider_json).collect();
    Ok(ok(json!({ "providers": providers })))
}

pub async fn create(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<ProviderBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let name = b
        .name
        .clone()
        .ok_or_else(|| ApiError::invalid_field("name", "name is required"))?;
    let provider = to_proto(name, &b, b.enabled.unwrap_or(true))?;
    let res = state
        .clients()
        .config()
        .create_upstream_provider(caller.request(
            &state,
            CreateUpstreamProviderRequest {
                provider: Some(provider),
                shared_key: b.api_key.clone().unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    Ok(ok_with(
        StatusCode::CREATED,
        json!({ "provider": res.provider.as_ref().map(provider_json) }),
    ))
}

async fn fetch(
    state: &GatewayState,
    caller: &Caller,
    name: String,
) -> Result<UpstreamProvider, ApiError> {
    state
        .clients()
        .config()
        .get_upstream_provider(caller.request(state, GetUpstreamProviderRequest { id: name }))
        .await?
        .into_inner()
        .provider
        .ok_or_else(|| ApiError::not_found("no such provider"))
}

pub async fn get(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let p = fetch(&state, &caller, name).await?;
    Ok(ok(json!({ "provider": provider_json(&p) })))
}

/// `PUT` replaces the provider's settings. Without `enabled`, it stays as it is, except that a
/// preset is enabled by its first key (presets are seeded disabled until a key is set).
pub async fn put(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Json<ProviderBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    if b.name.as_ref().is_some_and(|n| n != &name) {
        return Err(ApiError::invalid_field(
            "name",
            "a provider cannot be renamed; create a new one",
        ));
    }
    let current = fetch(&state, &caller, name.clone()).await?;
    let new_key = b.api_key.as_deref().is_some_and(|k| !k.trim().is_empty());
    let enabled = b
        .enabled
        .unwrap_or(current.enabled || (current.preset && !current.shared_key_set && new_key));
    let provider = to_proto(name, &b, enabled)?;
    let res = state
        .clients()
        .config()
        .update_upstream_provider(caller.request(
            &state,
            UpdateUpstreamProviderRequest {
                provider: Some(provider),
                shared_key: b.api_key.clone().unwrap_or_default(),
                clear_shared_key: b.clear_api_key,
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
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    state
        .clients()
        .config()
        .delete_upstream_provider(
            caller.request(&state, DeleteUpstreamProviderRequest { id: name }),
        )
        .await?;
    Ok(ok(json!({ "deleted": true })))
}

fn override_json(o: Option<&RuntimeOverride>) -> Value {
    o.map_or(Value::Null, |o| {
        json!({
            "provider": o.provider_id,
            "model": o.model,
            "set_at": rfc3339(o.set_at.as_ref()),
        })
    })
}

pub async fn get_override(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_runtime_override(caller.request(&state, GetRuntimeOverrideRequest::default()))
        .await?
        .into_inner();
    Ok(ok(
        json!({ "override": override_json(res.runtime_override.as_ref()) }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    provider: String,
    model: String,
}

pub async fn put_override(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<OverrideBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .set_runtime_override(caller.request(
            &state,
            SetRuntimeOverrideRequest {
                user_id: String::new(),
                provider_id: b.provider,
                model: b.model,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(
        json!({ "override": override_json(res.runtime_override.as_ref()) }),
    ))
}

pub async fn delete_override(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    state
        .clients()
        .config()
        .clear_runtime_override(caller.request(&state, ClearRuntimeOverrideRequest::default()))
        .await?;
    Ok(ok(json!({ "override": Value::Null })))
}
