//! `config.toml` in the peer's shape: hosts sync their baked copy (`POST /config/retrieve`),
//! admins read, preview and store the template (`/admin/config…`).

use std::collections::HashMap;

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use codex_central_proto::config::v1::{
    BakeConfigRequest, ContentSyncStatus, GetConfigTemplateRequest, RenderConfigRequest,
    RequirementsFile, UpdateConfigTemplateRequest,
};
use codex_central_proto::fleet::v1::HostCallKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::content::{save_reply, sync_status_text};
use crate::api::config_json::{TemplateJson, document_json, profile_file_json};
use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Json, RawBody, lenient_json};
use crate::plumbing::host_caller::{Reported, authenticate, host_key};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

#[derive(Deserialize, Default)]
struct RetrieveBody {
    #[serde(default)]
    sha256: Option<String>,
    /// Ours: profile name → sha256 of the profile files the host has.
    #[serde(default)]
    profiles: Option<HashMap<String, String>>,
    /// Ours: sha256 of the requirements.toml the host has.
    #[serde(default)]
    requirements_sha256: Option<String>,
}

/// `POST /config/retrieve`: `missing` (no template: the host removes its copy), `unchanged`
/// or `updated` (+ `content`), compared with the file baked for this host; plus the profile
/// files, the default profile and requirements.toml (ours; the peer's wrapper ignores them).
pub async fn host_retrieve(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let (caller, host) = authenticate(
        &state,
        &parts,
        HostCallKind::General,
        false,
        Reported::default(),
    )
    .await?;
    let b: RetrieveBody = lenient_json(&raw, "Invalid JSON payload")?;
    let res = state
        .hot()
        .bake_config(
            &caller,
            BakeConfigRequest {
                known_sha256: b.sha256.unwrap_or_default(),
                mcp_bearer_token: host_key(&parts),
                model_override: host.model_override,
                reasoning_effort_override: host.reasoning_effort_override,
                compare_profiles: b.profiles.is_some(),
                known_profiles: b.profiles.unwrap_or_default(),
                known_requirements_sha256: b.requirements_sha256.unwrap_or_default(),
            },
        )
        .await?;
    let status = res.status();
    let updated = status == ContentSyncStatus::Updated;
    let c = res.config.as_ref();
    let mut data = json!({
        "status": sync_status_text(status),
        "sha256": c.map(|c| c.sha256.as_str()),
        "base_sha256": c.map(|c| c.base_sha256.as_str()),
        "updated_at": rfc3339(c.and_then(|c| c.updated_at.as_ref())),
        "size_bytes": c.map_or(0, |c| c.size_bytes),
        "profiles": c.map_or_else(Vec::new, |c| {
            c.profiles.iter().map(|p| profile_file_json(p, updated)).collect()
        }),
        "default_profile": res.default_profile,
        "requirements": requirements_json(res.requirements.unwrap_or_default()),
    });
    if let Some(c) = c.filter(|_| updated) {
        data["content"] = json!(c.content);
    }
    Ok(ok(data))
}

/// The host's requirements.toml: `missing` (remove it), `unchanged` or `updated` (+content).
fn requirements_json(r: RequirementsFile) -> Value {
    let status = r.status();
    let mut v = json!({
        "status": sync_status_text(status),
        "sha256": (!r.sha256.is_empty()).then_some(r.sha256),
        "path": "/etc/codex/requirements.toml",
    });
    if status == ContentSyncStatus::Updated {
        v["content"] = json!(r.content);
    }
    v
}

/// `GET /admin/config`: `ok` with the template (`settings`) and the base file, or `missing`.
pub async fn admin_get(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_config_template(caller.request(&state, GetConfigTemplateRequest {}))
        .await?
        .into_inner();
    Ok(ok(match res.document.as_ref() {
        Some(d) => {
            let mut v = document_json(d);
            v["status"] = json!("ok");
            v
        }
        None => json!({
            "status": "missing",
            "sha256": Value::Null,
            "updated_at": Value::Null,
            "size_bytes": 0,
            "content": Value::Null,
            "settings": TemplateJson::default(),
        }),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderBody {
    /// Unset: the stored template.
    #[serde(default)]
    settings: Option<TemplateJson>,
    /// Apply this host's override block.
    #[serde(default)]
    host_id: Option<u64>,
}

/// `POST /admin/config/render`: the file a host would receive (its key shown as a
/// placeholder) and the profile files, without saving anything.
pub async fn admin_render(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<RenderBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .render_config(caller.request(
            &state,
            RenderConfigRequest {
                template: b.settings.map(Into::into),
                host_id: b.host_id.map(|h| h.to_string()).unwrap_or_default(),
                ..Default::default()
            },
        ))
        .await
        .map_err(|e| ApiError::from(e).with_field_prefix("template.", "settings."))?
        .into_inner();
    let c = res.config.unwrap_or_default();
    Ok(ok(json!({
        "status": "ok",
        "content": c.content,
        "sha256": c.sha256,
        "base_sha256": c.base_sha256,
        "size_bytes": c.size_bytes,
        "profiles": c.profiles.iter().map(|p| profile_file_json(p, true)).collect::<Vec<_>>(),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreBody {
    settings: TemplateJson,
    /// The digest of the copy the editor started from (optimistic lock; 409 when stale).
    #[serde(default, alias = "expected_sha256")]
    sha256: String,
}

/// `POST /admin/config/store`: `created`, `updated` or `unchanged`; 409 when `sha256` is not
/// the current copy's; 422 naming the field (or the line and column in a free block).
pub async fn admin_store(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<StoreBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .update_config_template(caller.request(
            &state,
            UpdateConfigTemplateRequest {
                template: Some(b.settings.into()),
                expected_sha256: b.sha256,
            },
        ))
        .await
        .map_err(|e| ApiError::from(e).with_field_prefix("template.", "settings."))?
        .into_inner();
    let status = res.status();
    let data = res.document.as_ref().map_or(Value::Null, document_json);
    Ok(save_reply(status, data))
}
