//! Wrapper distribution: `GET /wrapper` and `GET /wrapper/download` for hosts (contract §2),
//! and the admin routes that publish releases and manage the fleet's Codex version.

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{delete, get, post};
use codex_central_proto::fleet::v1::{
    CheckCodexVersionsRequest, DeleteWrapperReleaseRequest, DownloadWrapperRequest,
    GetWrapperReleaseRequest, HostCallKind, ListWrapperReleasesRequest,
    PublishWrapperReleaseRequest, SetCodexVersionPolicyRequest, WrapperKind, WrapperRelease,
    download_wrapper_response::Item,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Json, Path};
use crate::plumbing::extract::{Q, RawBody};
use crate::plumbing::host_caller::{Reported, authenticate, host_key};
use crate::{ApiError, GatewayState};

/// A wrapper binary plus slack; uploads above it get 413.
const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

pub fn router() -> Router<GatewayState> {
    Router::new()
        .route("/wrapper", get(metadata))
        .route("/wrapper/download", get(download))
        .route(
            "/admin/wrappers",
            get(list).merge(post(publish).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))),
        )
        .route("/admin/wrappers/{platform}/{version}", delete(remove))
        .route("/admin/versions/check", post(check_versions))
        .route("/admin/codex-version", post(set_codex_version))
}

/// `?platform=linux-x86_64`, or the installer's `?os=$(uname -s)&arch=$(uname -m)`.
#[derive(Deserialize, Default)]
struct PlatformQuery {
    platform: Option<String>,
    os: Option<String>,
    arch: Option<String>,
}

impl PlatformQuery {
    fn platform(&self) -> String {
        match (&self.platform, &self.os, &self.arch) {
            (Some(p), _, _) => p.clone(),
            (None, Some(os), Some(arch)) => format!("{os} {arch}"),
            _ => String::new(),
        }
    }
}

fn release_json(r: &WrapperRelease) -> Value {
    json!({
        "version": r.version,
        "platform": r.platform,
        "kind": if r.kind == WrapperKind::LegacyScript as i32 { "script" } else { "binary" },
        "sha256": r.sha256,
        "size_bytes": r.size_bytes,
        "updated_at": crate::plumbing::views::rfc3339(r.updated_at.as_ref()),
        "url": r.url,
    })
}

async fn metadata(
    State(state): State<GatewayState>,
    Q(q): Q<PlatformQuery>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let (caller, _) = authenticate(
        &state,
        &parts,
        HostCallKind::General,
        false,
        Reported::default(),
    )
    .await?;
    let res = state
        .clients()
        .fleet()
        .get_wrapper_release(caller.request(
            &state,
            GetWrapperReleaseRequest {
                platform: q.platform(),
                api_key: host_key(&parts),
            },
        ))
        .await?
        .into_inner();
    let release = res
        .release
        .ok_or_else(|| ApiError::not_found("Wrapper not available"))?;
    Ok(ok(release_json(&release)))
}

async fn download(
    State(state): State<GatewayState>,
    Q(q): Q<PlatformQuery>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let (caller, _) = authenticate(
        &state,
        &parts,
        HostCallKind::General,
        false,
        Reported::default(),
    )
    .await?;
    let mut stream = state
        .clients()
        .fleet()
        .download_wrapper(caller.request(
            &state,
            DownloadWrapperRequest {
                platform: q.platform(),
                api_key: host_key(&parts),
            },
        ))
        .await?
        .into_inner();
    let mut release = None;
    let mut content = Vec::new();
    while let Some(msg) = stream.message().await? {
        match msg.item {
            Some(Item::Release(r)) => release = Some(r),
            Some(Item::Chunk(c)) => content.extend_from_slice(&c),
            None => {}
        }
    }
    let release = release.ok_or_else(|| ApiError::not_found("Wrapper not available"))?;
    let script = release.kind == WrapperKind::LegacyScript as i32;
    let file_name = if script {
        format!("cdx-{}.sh", release.version)
    } else {
        format!("cdx-{}-{}", release.version, release.platform)
    };
    let etag = format!("\"{}\"", release.sha256);
    let not_modified = parts
        .headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let (status, body) = if not_modified {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else {
        (StatusCode::OK, Body::from(content))
    };
    let header_value = |v: &str| {
        HeaderValue::from_str(v).map_err(|_| ApiError::internal("unrepresentable header"))
    };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if script {
            "text/x-shellscript; charset=utf-8"
        } else {
            "application/octet-stream"
        }),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        header_value(&format!("attachment; filename=\"{file_name}\""))?,
    );
    h.insert("x-sha256", header_value(&release.sha256)?);
    h.insert("x-wrapper-version", header_value(&release.version)?);
    h.insert(header::ETAG, header_value(&etag)?);
    // Scripts carry the host key: never cached by anything in between.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

async fn list(State(state): State<GatewayState>, caller: Caller) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .fleet()
        .list_wrapper_releases(caller.request(&state, ListWrapperReleasesRequest {}))
        .await?
        .into_inner();
    let releases: Vec<Value> = res.releases.iter().map(release_json).collect();
    Ok(ok(json!({ "releases": releases })))
}

#[derive(Deserialize, Default)]
struct PublishQuery {
    version: Option<String>,
    platform: Option<String>,
    kind: Option<String>,
    sha256: Option<String>,
}

/// `POST /admin/wrappers?version=…&platform=…[&kind=script|binary][&sha256=…]`, the artifact
/// as the raw body. `platform=script` publishes the legacy bash template.
async fn publish(
    State(state): State<GatewayState>,
    caller: Caller,
    Q(q): Q<PublishQuery>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let required = |field: &str, v: &Option<String>| {
        v.clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::invalid_field(field, format!("{field} is required")))
    };
    let version = required("version", &q.version)?;
    let platform = required("platform", &q.platform)?;
    let kind = match q.kind.as_deref() {
        None | Some("") => WrapperKind::Unspecified,
        Some("script") => WrapperKind::LegacyScript,
        Some("binary") => WrapperKind::Binary,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "kind",
                "kind must be script or binary",
            ));
        }
    };
    let sha256 = q.sha256.clone().or_else(|| {
        parts
            .headers
            .get("x-sha256")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let res = state
        .clients()
        .fleet()
        .publish_wrapper_release(caller.request(
            &state,
            PublishWrapperReleaseRequest {
                version,
                platform,
                kind: kind as i32,
                content: body.to_vec(),
                sha256: sha256.unwrap_or_default(),
            },
        ))
        .await?
        .into_inner();
    let release = res.release.unwrap_or_default();
    Ok(crate::plumbing::error::ok_with(
        StatusCode::CREATED,
        json!({ "release": release_json(&release) }),
    ))
}

async fn remove(
    State(state): State<GatewayState>,
    caller: Caller,
    Path((platform, version)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    state
        .clients()
        .fleet()
        .delete_wrapper_release(
            caller.request(&state, DeleteWrapperReleaseRequest { version, platform }),
        )
        .await?;
    Ok(ok(json!({ "deleted": true })))
}

/// `POST /admin/versions/check`: asks the background job for a fresh check (it runs within
/// seconds; no outbound call happens on this request) and answers with what is known now.
async fn check_versions(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .fleet()
        .check_codex_versions(caller.request(&state, CheckCodexVersionsRequest {}))
        .await?
        .into_inner();
    state.policy_cache().invalidate().await;
    let text_or_null = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
    let versions = res.versions.unwrap_or_default();
    Ok(ok(json!({
        "available_client": {
            "version": text_or_null(&res.available_version),
            "updated_at": crate::plumbing::views::rfc3339(res.checked_at.as_ref()),
            "source": res.source,
        },
        "versions": {
            "client_version": text_or_null(&versions.client_version),
            "client_version_checked_at": crate::plumbing::views::rfc3339(versions.client_version_checked_at.as_ref()),
            "client_version_source": versions.client_version_source,
            "wrapper_version": text_or_null(&versions.wrapper_version),
            "wrapper_sha256": text_or_null(&versions.wrapper_sha256),
            "wrapper_url": versions.wrapper_url,
            "installation_id": versions.installation_id,
        },
        "check_requested": true,
    })))
}

#[derive(Deserialize)]
struct CodexVersionBody {
    #[serde(default)]
    selection: Option<String>,
}

/// `POST /admin/codex-version {"selection": "latest" | "auto" | "x.y.z"}`.
async fn set_codex_version(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<CodexVersionBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let selection = b
        .selection
        .ok_or_else(|| ApiError::invalid_field("selection", "selection is required"))?;
    let res = state
        .clients()
        .fleet()
        .set_codex_version_policy(
            caller.request(&state, SetCodexVersionPolicyRequest { selection }),
        )
        .await?
        .into_inner();
    state.policy_cache().invalidate().await;
    let version = res
        .policy
        .unwrap_or_default()
        .codex_version
        .unwrap_or_default();
    Ok(ok(json!({
        "locked_version": version.pinned.then_some(version.version),
        "locked_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })))
}
