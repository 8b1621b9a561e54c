//! `/api/v1/config/requirements…`: the fleet requirements.toml (Codex's managed requirements),
//! saved with an optimistic lock, versioned and restorable.

use axum::extract::State;
use axum::response::Response;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::config::v1::{
    FreeTomlBlock, GetRequirementsRequest, ListRequirementsVersionsRequest, Requirements,
    RequirementsDocument, RestoreRequirementsVersionRequest, UpdateRequirementsRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::config_docs::{PageQuery, RestoreBody};
use super::config_json::{VersionMeta, version_json};
use crate::peer::content::save_reply;
use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Json, Path, Q};
use crate::{ApiError, GatewayState};

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RequirementsJson {
    allowed_approval_policies: Vec<String>,
    allowed_sandbox_modes: Vec<String>,
    allowed_web_search_modes: Vec<String>,
    free_blocks: Vec<BlockJson>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct BlockJson {
    name: String,
    toml: String,
}

impl From<RequirementsJson> for Requirements {
    fn from(r: RequirementsJson) -> Self {
        Requirements {
            allowed_approval_policies: r.allowed_approval_policies,
            allowed_sandbox_modes: r.allowed_sandbox_modes,
            allowed_web_search_modes: r.allowed_web_search_modes,
            free_blocks: r
                .free_blocks
                .into_iter()
                .map(|b| FreeTomlBlock {
                    name: b.name,
                    toml: b.toml,
                })
                .collect(),
        }
    }
}

impl From<&Requirements> for RequirementsJson {
    fn from(r: &Requirements) -> Self {
        RequirementsJson {
            allowed_approval_policies: r.allowed_approval_policies.clone(),
            allowed_sandbox_modes: r.allowed_sandbox_modes.clone(),
            allowed_web_search_modes: r.allowed_web_search_modes.clone(),
            free_blocks: r
                .free_blocks
                .iter()
                .map(|b| BlockJson {
                    name: b.name.clone(),
                    toml: b.toml.clone(),
                })
                .collect(),
        }
    }
}

fn document_json(d: &RequirementsDocument) -> Value {
    version_json(
        VersionMeta {
            version: d.version,
            sha256: &d.sha256,
            size_bytes: d.size_bytes,
            updated_at: d.updated_at.as_ref(),
            updated_by: &d.updated_by,
            note: &d.note,
        },
        d.requirements
            .as_ref()
            .map(|r| (json!(RequirementsJson::from(r)), d.content.as_str())),
    )
}

/// `GET /api/v1/config/requirements`: `ok` with the file, or `missing`.
pub async fn get(State(state): State<GatewayState>, caller: Caller) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_requirements(caller.request(&state, GetRequirementsRequest {}))
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
            "content": Value::Null,
            "settings": RequirementsJson::default(),
        }),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreBody {
    settings: RequirementsJson,
    #[serde(default, alias = "expected_sha256")]
    sha256: String,
}

/// `PUT /api/v1/config/requirements` `{settings, sha256?}`: `created`, `updated` or
/// `unchanged`; 409 when stale; 422 naming the field or the line and column of a block.
pub async fn put(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<StoreBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .update_requirements(caller.request(
            &state,
            UpdateRequirementsRequest {
                requirements: Some(b.settings.into()),
                expected_sha256: b.sha256,
            },
        ))
        .await
        .map_err(|e| ApiError::from(e).with_field_prefix("requirements.", "settings."))?
        .into_inner();
    let status = res.status();
    Ok(save_reply(
        status,
        res.document.as_ref().map_or(Value::Null, document_json),
    ))
}

/// `GET /api/v1/config/requirements/versions` (paged, newest first).
pub async fn versions(
    State(state): State<GatewayState>,
    caller: Caller,
    Q(q): Q<PageQuery>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .list_requirements_versions(caller.request(
            &state,
            ListRequirementsVersionsRequest {
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

/// `POST /api/v1/config/requirements/versions/{version}/restore` `{sha256?}`.
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
        .restore_requirements_version(caller.request(
            &state,
            RestoreRequirementsVersionRequest {
                version,
                expected_sha256: b.sha256,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(res.document.as_ref().map_or(Value::Null, document_json)))
}
