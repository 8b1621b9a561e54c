//! The canonical auth.json from an operator: direct upload (`/admin/auth/upload`), single-use
//! seed links (`/admin/auth/seed-command`, `/seed/auth/{token}`), and the admin view of what a
//! host holds (`/admin/hosts/{id}/auth`, tokens masked unless `reveal=1`, which is audited).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use codex_central_proto::auth::v1::{
    ListHostAuthStatesRequest, RevealCodexAuthRequest, StoreCodexAuthStatus, UploadCodexAuthRequest,
};
use codex_central_proto::fleet::v1::{
    ConsumeSeedTokenRequest, CreateSeedTokenRequest, EnrollmentTokenState, GetHostRequest,
    InspectSeedTokenRequest,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::plumbing::caller::{Caller, client_ip};
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Path, Q, RawBody, lenient_json, parse_json};
use crate::plumbing::shell::{error_script, script_response, service_error_script};
use crate::plumbing::views::host_json;
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

pub fn router() -> Router<GatewayState> {
    Router::new()
        .route("/admin/auth/upload", post(upload))
        .route("/admin/auth/seed-command", post(seed_command))
        .route("/seed/auth/{token}", get(seed_script).post(seed_upload))
        .route("/admin/hosts/{id}/auth", get(host_auth))
}

/// The auth.json text in a body: `{"auth": {...}}`, `{"auth": "<json text>"}`, or the document
/// itself (recognised by a top-level `last_refresh`). Raw text is kept so nothing is re-encoded.
pub fn auth_json_from(body: &str) -> Result<String, ApiError> {
    #[derive(Deserialize)]
    struct Wrapped {
        auth: Option<Box<RawValue>>,
        last_refresh: Option<Box<RawValue>>,
    }
    let wrapped: Wrapped = parse_json(body.as_bytes(), "Invalid JSON payload")?;
    match (wrapped.auth, wrapped.last_refresh) {
        (Some(raw), _) => {
            let text = raw.get();
            if text.starts_with('"') {
                serde_json::from_str::<String>(text).map_err(|_| {
                    ApiError::invalid_field("auth", "auth must be an object or JSON text")
                })
            } else {
                Ok(text.to_string())
            }
        }
        (None, Some(_)) => Ok(body.to_string()),
        (None, None) => Err(ApiError::invalid_field("auth", "auth is required")),
    }
}

fn store_status(s: StoreCodexAuthStatus) -> &'static str {
    match s {
        StoreCodexAuthStatus::Updated => "updated",
        StoreCodexAuthStatus::Unchanged => "unchanged",
        StoreCodexAuthStatus::Outdated => "outdated",
        StoreCodexAuthStatus::Unspecified => "validated",
    }
}

async fn upload_as(
    state: &GatewayState,
    caller: &Caller,
    auth_json: String,
    dry_run: bool,
    via_seed_link: bool,
) -> Result<Value, ApiError> {
    let res = state
        .clients()
        .codex_auth()
        .upload_codex_auth(caller.request(
            state,
            UploadCodexAuthRequest {
                auth_json,
                source_host_id: String::new(),
                dry_run,
                via_seed_link,
            },
        ))
        .await?
        .into_inner();
    Ok(json!({
        "status": store_status(res.status()),
        "canonical_digest": res.canonical_digest,
        "canonical_last_refresh": rfc3339(res.canonical_last_refresh.as_ref()),
    }))
}

/// `POST /admin/auth/upload`: JSON (`auth` object or text) or multipart with a `file` part.
async fn upload(
    State(state): State<GatewayState>,
    caller: Caller,
    request: Request,
) -> Result<Response, ApiError> {
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("multipart/form-data"));
    let auth_json = if is_multipart {
        let mut form = Multipart::from_request(request, &state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let mut file = None;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?
        {
            if field.name() == Some("file") {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| ApiError::bad_request(e.body_text()))?;
                file = Some(
                    String::from_utf8(bytes.to_vec())
                        .map_err(|_| ApiError::invalid_field("file", "file must be UTF-8 JSON"))?,
                );
            }
        }
        file.ok_or_else(|| ApiError::invalid_field("file", "a file part is required"))?
    } else {
        let bytes = Bytes::from_request(request, &state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| ApiError::bad_request("Invalid JSON payload"))?;
        auth_json_from(text)?
    };
    Ok(ok(
        upload_as(&state, &caller, auth_json, false, false).await?
    ))
}

#[derive(Deserialize, Default)]
struct SeedCommandBody {
    ttl_seconds: Option<u32>,
}

async fn seed_command(
    State(state): State<GatewayState>,
    caller: Caller,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let b: SeedCommandBody = lenient_json(&body, "Invalid JSON payload")?;
    let seed = state
        .clients()
        .fleet()
        .create_seed_token(caller.request(
            &state,
            CreateSeedTokenRequest {
                ttl_seconds: b.ttl_seconds,
            },
        ))
        .await?
        .into_inner()
        .seed
        .unwrap_or_default();
    Ok(ok(json!({
        "command": seed.command,
        "url": seed.url,
        "expires_at": rfc3339(seed.expires_at.as_ref()),
    })))
}

/// `GET /seed/auth/{token}`: the upload script (does not consume the link).
async fn seed_script(
    State(state): State<GatewayState>,
    token: Result<Path<String>, ApiError>,
    parts: axum::http::request::Parts,
) -> Response {
    let Path(token) = match token {
        Ok(token) => token,
        Err(e) => return error_script(e.status, &e.message),
    };
    let caller = Caller::anonymous(client_ip(&parts, &state));
    match state
        .clients()
        .fleet()
        .inspect_seed_token(caller.request(&state, InspectSeedTokenRequest { token }))
        .await
    {
        Ok(res) => {
            let res = res.into_inner();
            match res.state() {
                EnrollmentTokenState::Valid => script_response(StatusCode::OK, res.script),
                EnrollmentTokenState::Used => {
                    error_script(StatusCode::GONE, "Seed link already used")
                }
                _ => error_script(StatusCode::GONE, "Seed link expired"),
            }
        }
        Err(err) => service_error_script(err),
    }
}

/// `POST /seed/auth/{token}`: validate first, then burn the link, then store. An invalid
/// upload never burns it.
async fn seed_upload(
    State(state): State<GatewayState>,
    Path(token): Path<String>,
    parts: axum::http::request::Parts,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let caller = Caller::anonymous(client_ip(&parts, &state));
    let res = state
        .clients()
        .fleet()
        .inspect_seed_token(caller.request(
            &state,
            InspectSeedTokenRequest {
                token: token.clone(),
            },
        ))
        .await
        .map_err(ApiError::from)?
        .into_inner();
    match res.state() {
        EnrollmentTokenState::Valid => {}
        EnrollmentTokenState::Used => {
            return Err(ApiError::new(
                StatusCode::GONE,
                "gone",
                "Seed link already used",
            ));
        }
        _ => return Err(ApiError::new(StatusCode::GONE, "gone", "Seed link expired")),
    }
    let text =
        std::str::from_utf8(&body).map_err(|_| ApiError::bad_request("Invalid JSON payload"))?;
    let auth_json = auth_json_from(text)?;
    upload_as(&state, &caller, auth_json.clone(), true, true).await?;
    state
        .clients()
        .fleet()
        .consume_seed_token(caller.request(&state, ConsumeSeedTokenRequest { token }))
        .await
        .map_err(ApiError::from)?;
    Ok(ok(upload_as(&state, &caller, auth_json, false, true).await?))
}

#[derive(Deserialize, Default)]
struct HostAuthQuery {
    reveal: Option<String>,
    reason: Option<String>,
}

/// `GET /admin/hosts/{id}/auth[?reveal=1&reason=...]`.
async fn host_auth(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
    Q(q): Q<HostAuthQuery>,
) -> Result<Response, ApiError> {
    let reveal = q
        .reveal
        .as_deref()
        .is_some_and(|r| matches!(r, "1" | "true" | "yes" | "on"));
    let host = state
        .clients()
        .fleet()
        .get_host(caller.request(&state, GetHostRequest { id: id.clone() }))
        .await?
        .into_inner()
        .host
        .unwrap_or_default();
    let sync = state
        .clients()
        .codex_auth()
        .list_host_auth_states(caller.request(
            &state,
            ListHostAuthStatesRequest {
                page: None,
                host_id: id,
            },
        ))
        .await?
        .into_inner();
    let canonical = state
        .clients()
        .codex_auth()
        .reveal_codex_auth(caller.request(
            &state,
            RevealCodexAuthRequest {
                reason: q.reason.unwrap_or_default(),
                masked: !reveal,
            },
        ))
        .await;
    let (auth, digest, last_refresh) = match canonical {
        Ok(res) => {
            let res = res.into_inner();
            let auth: Value = serde_json::from_str(&res.auth_json).unwrap_or(Value::Null);
            (auth, json!(res.digest), json!(res.last_refresh))
        }
        Err(err) if err.code() == tonic::Code::NotFound => (Value::Null, Value::Null, Value::Null),
        Err(err) => return Err(err.into()),
    };
    let state_of_host = sync.states.first();
    Ok(ok(json!({
        "host": host_json(&host),
        "canonical_digest": digest,
        "canonical_last_refresh": last_refresh,
        "auth": auth,
        "revealed": reveal,
        "api_calls": host.api_calls,
        "seen_digest": state_of_host.map(|s| s.seen_digest.clone()),
        "seen_at": rfc3339(state_of_host.and_then(|s| s.seen_at.as_ref())),
        "in_sync": state_of_host.is_some_and(|s| s.in_sync),
        "recent_digests": state_of_host.map(|s| s.recent_digests.clone()).unwrap_or_default(),
    })))
}
