//! Skills in the peer's shape (contract §2, §3): hosts list them, fetch changed ones and push
//! their own (`/skills…`); admins list, read, upsert and retire them (`/admin/skills…`). A
//! skill is `SKILL.md` (`manifest`) plus optional `files` (`path`, base64 `content`); the
//! peer's wrapper knows only the manifest, which it writes as one file.

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use codex_central_proto::config::v1::{
    ContentSyncStatus, GetSkillRequest, ListSkillsRequest, PushSkillRequest, RetireSkillRequest,
    RetrieveSkillRequest, SaveSkillRequest, Skill, SkillFile,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::content::{host_caller, push_reply, save_reply, sync_status_text};
use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Json, Path, RawBody, lenient_json};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

fn entry(s: &Skill) -> Value {
    json!({
        "id": s.id,
        "slug": s.slug,
        "sha256": s.sha256,
        "display_name": s.display_name,
        "description": s.description,
        "updated_at": rfc3339(s.updated_at.as_ref()),
        "deleted_at": rfc3339(s.deleted_at.as_ref()),
    })
}

fn files_json(files: &[SkillFile]) -> Value {
    files
        .iter()
        .map(|f| json!({ "path": f.path, "content_base64": B64.encode(&f.content), "sha256": f.sha256 }))
        .collect()
}

fn with_content(s: &Skill) -> Value {
    let mut v = entry(s);
    v["manifest"] = json!(s.manifest);
    v["files"] = files_json(&s.files);
    v["updated_by"] = json!(s.updated_by);
    v
}

/// A file as sent: `content_base64`, or `content` as text.
#[derive(Deserialize)]
struct FileBody {
    path: String,
    #[serde(default)]
    content_base64: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

fn file_drafts(files: Vec<FileBody>) -> Result<Vec<SkillFile>, ApiError> {
    files
        .into_iter()
        .enumerate()
        .map(|(i, f)| {
            let content = match (f.content_base64, f.content) {
                (Some(b64), _) => B64.decode(b64.trim()).map_err(|_| {
                    ApiError::invalid_field(
                        &format!("files.{i}.content_base64"),
                        "content_base64 is not base64",
                    )
                })?,
                (None, Some(text)) => text.into_bytes(),
                (None, None) => Vec::new(),
            };
            Ok(SkillFile {
                path: f.path,
                content,
                sha256: String::new(),
            })
        })
        .collect()
}

async fn list_all(state: &GatewayState, caller: &Caller) -> Result<Vec<Skill>, ApiError> {
    Ok(state
        .clients()
        .config()
        .list_skills(caller.request(
            state,
            ListSkillsRequest {
                include_retired: true,
            },
        ))
        .await?
        .into_inner()
        .skills)
}

/// `GET /skills`: every skill, retired ones included so hosts delete them.
pub async fn host_list(
    State(state): State<GatewayState>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let caller = host_caller(&state, &parts).await?;
    let skills = list_all(&state, &caller).await?;
    Ok(ok(
        json!({ "skills": skills.iter().map(entry).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize, Default)]
struct RetrieveBody {
    #[serde(default, alias = "filename")]
    slug: String,
    #[serde(default)]
    sha256: Option<String>,
}

/// `POST /skills/retrieve`: `missing`, `deleted`, `unchanged` or `updated` (+ `manifest`,
/// `files`).
pub async fn host_retrieve(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let caller = host_caller(&state, &parts).await?;
    let b: RetrieveBody = lenient_json(&raw, "Invalid JSON payload")?;
    let res = state
        .clients()
        .config()
        .retrieve_skill(caller.request(
            &state,
            RetrieveSkillRequest {
                slug: b.slug.clone(),
                known_sha256: b.sha256.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    let status = res.status();
    let s = res.skill.unwrap_or_default();
    let mut data = json!({
        "status": sync_status_text(status),
        "slug": b.slug,
        "sha256": (!s.sha256.is_empty()).then_some(&s.sha256),
        "display_name": s.display_name,
        "description": s.description,
        "updated_at": rfc3339(s.updated_at.as_ref()),
    });
    match status {
        ContentSyncStatus::Updated => {
            data["manifest"] = json!(s.manifest);
            data["files"] = files_json(&s.files);
        }
        ContentSyncStatus::Deleted => data["deleted_at"] = rfc3339(s.deleted_at.as_ref()),
        _ => {}
    }
    Ok(ok(data))
}

#[derive(Deserialize, Default)]
struct StoreBody {
    #[serde(default, alias = "filename")]
    slug: String,
    #[serde(default, alias = "content")]
    manifest: String,
    #[serde(default)]
    files: Vec<FileBody>,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    sha256: String,
}

/// `POST /skills/store`: a host's new or edited skill, as `host_content_push` allows.
pub async fn host_store(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let caller = host_caller(&state, &parts).await?;
    let b: StoreBody = lenient_json(&raw, "Invalid JSON payload")?;
    let res = state
        .clients()
        .config()
        .push_skill(caller.request(
            &state,
            PushSkillRequest {
                slug: b.slug,
                manifest: b.manifest,
                files: file_drafts(b.files)?,
                display_name: b.display_name,
                description: b.description,
                sha256: b.sha256,
            },
        ))
        .await?
        .into_inner();
    let status = res.status();
    let s = res.skill.unwrap_or_default();
    let data = json!({
        "slug": s.slug,
        "sha256": s.sha256,
        "updated_at": rfc3339(s.updated_at.as_ref()),
    });
    Ok(push_reply(status, data, res.proposal_id))
}

/// `GET /admin/skills`: every skill (retired ones included), without content.
pub async fn admin_list(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let skills = list_all(&state, &caller).await?;
    Ok(ok(
        json!({ "skills": skills.iter().map(entry).collect::<Vec<_>>() }),
    ))
}

/// `GET /admin/skills/{slug}`: one live skill with its manifest and files.
pub async fn admin_get(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .get_skill(caller.request(&state, GetSkillRequest { slug }))
        .await?
        .into_inner();
    Ok(ok(
        json!({ "skill": with_content(&res.skill.unwrap_or_default()) }),
    ))
}

#[derive(Deserialize)]
pub struct AdminStoreBody {
    slug: String,
    #[serde(alias = "content")]
    manifest: String,
    #[serde(default)]
    files: Vec<FileBody>,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    description: String,
    /// The digest of the copy the editor started from (optimistic lock; 409 when stale).
    #[serde(default)]
    expected_sha256: String,
}

/// `POST /admin/skills/store`: create or edit a skill.
pub async fn admin_store(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<AdminStoreBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .config()
        .save_skill(caller.request(
            &state,
            SaveSkillRequest {
                slug: b.slug,
                manifest: b.manifest,
                files: file_drafts(b.files)?,
                display_name: b.display_name,
                description: b.description,
                expected_sha256: b.expected_sha256,
            },
        ))
        .await?
        .into_inner();
    Ok(save_reply(
        res.status(),
        with_content(&res.skill.unwrap_or_default()),
    ))
}

/// `DELETE /admin/skills/{slug}`: retire a skill (404 when there is none).
pub async fn admin_retire(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .retire_skill(caller.request(&state, RetireSkillRequest { slug }))
        .await?
        .into_inner();
    Ok(ok(
        json!({ "skill": entry(&res.skill.unwrap_or_default()) }),
    ))
}
