//! The host-facing REST API that `cdx` speaks (contract §2): `POST /auth`, `DELETE /auth`.
//! Hosts authenticate with `X-API-Key` or `Authorization: Bearer`; the fleet service decides
//! (IP binding, insecure windows, failure budget), and the answer is composed here.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use codex_central_common::Principal;
use codex_central_common::wire::bearer;
use codex_central_proto::auth::v1::{
    RetrieveCodexAuthRequest, RetrieveCodexAuthStatus, StoreCodexAuthRequest, StoreCodexAuthStatus,
};
use codex_central_proto::fleet::v1::{
    AuthenticateHostRequest, DeregisterHostRequest, FleetVersions, GetVersionsRequest, Host,
    HostCallKind,
};
use codex_central_proto::usage::v1::GetQuotaPolicyRequest;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::api::hosts::HostView;
use crate::caller::{Caller, client_ip};
use crate::extract::{Q, RawBody, lenient_json};
use crate::{ApiError, GatewayState};

pub fn router() -> Router<GatewayState> {
    Router::new()
        .route("/auth", post(auth).delete(deregister))
        .route("/host/users", post(host_users))
        .route("/versions", axum::routing::get(versions))
}

/// Policy values every `/auth` answer carries, cached briefly so a sync costs no extra RPCs.
#[derive(Clone, Default)]
pub struct PolicyCache {
    current: Arc<RwLock<Option<Fetched>>>,
    /// One refresh at a time; readers of fresh values never wait on it.
    refresh: Arc<Mutex<()>>,
}

type Fetched = (Instant, Arc<FleetFlags>);

const POLICY_TTL: Duration = Duration::from_secs(1);

struct FleetFlags {
    api_enabled: bool,
    quota_hard_fail: bool,
    quota_limit_percent: u32,
    quota_week_partition: u32,
    cdx_silent: bool,
    versions: FleetVersions,
    /// The `versions` object as JSON text, built once per fetch.
    versions_json: Box<RawValue>,
}

impl PolicyCache {
    /// Forgets the cached values (after an admin changed them through this gateway).
    pub async fn invalidate(&self) {
        if let Ok(mut slot) = self.current.write() {
            *slot = None;
        }
    }

    fn fresh(&self) -> Option<Arc<FleetFlags>> {
        let slot = self.current.read().ok()?;
        let (at, flags) = slot.as_ref()?;
        (at.elapsed() < POLICY_TTL).then(|| flags.clone())
    }

    async fn get(
        &self,
        state: &GatewayState,
        caller: &Caller,
    ) -> Result<Arc<FleetFlags>, ApiError> {
        if let Some(flags) = self.fresh() {
            return Ok(flags);
        }
        let _refreshing = self.refresh.lock().await;
        if let Some(flags) = self.fresh() {
            return Ok(flags);
        }
        let quota = state
            .clients()
            .usage()
            .get_quota_policy(caller.request(state, GetQuotaPolicyRequest {}))
            .await?
            .into_inner()
            .policy
            .unwrap_or_default();
        let versions = state
            .clients()
            .fleet()
            .get_versions(caller.request(state, GetVersionsRequest {}))
            .await?
            .into_inner();
        let fleet = versions.policy.unwrap_or_default();
        let v = versions.versions.unwrap_or_default();
        let versions_json = serde_json::value::to_raw_value(&versions_value(
            &v,
            quota.hard_fail,
            quota.limit_percent,
            quota.week_partition_days,
            fleet.silent_mode,
        ))
        .map_err(|e| ApiError::internal(e.to_string()))?;
        let flags = Arc::new(FleetFlags {
            api_enabled: fleet.api_enabled,
            quota_hard_fail: quota.hard_fail,
            quota_limit_percent: quota.limit_percent,
            quota_week_partition: quota.week_partition_days,
            cdx_silent: fleet.silent_mode,
            versions: v,
            versions_json,
        });
        if let Ok(mut slot) = self.current.write() {
            *slot = Some((Instant::now(), flags.clone()));
        }
        Ok(flags)
    }
}

/// The host key from `X-API-Key`, else `Authorization: Bearer`.
pub(crate) fn host_key(parts: &Parts) -> String {
    parts
        .headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| bearer(&parts.headers))
        .unwrap_or_default()
}

#[derive(Default)]
pub(crate) struct Reported {
    client_version: String,
    wrapper_version: String,
    installation_id: String,
}

/// Authenticates the calling host; the result acts as the principal for the service calls.
/// The kill switch: every host route answers 503 while the API is disabled.
async fn ensure_api_enabled(
    state: &GatewayState,
    anonymous: &Caller,
) -> Result<Arc<FleetFlags>, ApiError> {
    let flags = state.policy_cache().get(state, anonymous).await?;
    if flags.api_enabled {
        Ok(flags)
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "api_disabled",
            "API disabled by administrator",
        ))
    }
}

pub(crate) async fn authenticate(
    state: &GatewayState,
    parts: &Parts,
    kind: HostCallKind,
    force: bool,
    reported: Reported,
) -> Result<(Caller, Host), ApiError> {
    let ip = client_ip(parts, state);
    let anonymous = Caller::anonymous(ip);
    ensure_api_enabled(state, &anonymous).await?;
    let req = AuthenticateHostRequest {
        api_key: host_key(parts),
        client_ip: ip.to_string(),
        call: kind as i32,
        installation_id: reported.installation_id,
        force_ip_update: force,
        client_version: reported.client_version,
        wrapper_version: reported.wrapper_version,
    };
    let res = match state.local() {
        Some(local) => {
            local
                .fleet
                .authenticate_host(anonymous.local_request(req))
                .await
        }
        None => {
            state
                .clients()
                .fleet()
                .authenticate_host(anonymous.request(state, req))
                .await
        }
    }?
    .into_inner();
    let principal = res
        .principal
        .as_ref()
        .map(Principal::try_from)
        .transpose()?;
    let host = res.host.ok_or_else(|| ApiError::internal("host missing"))?;
    Ok((
        Caller {
            principal,
            client_ip: ip,
            session: None,
        },
        host,
    ))
}

/// `POST /auth` body. `auth` keeps its raw text so key order and number text survive.
#[derive(Deserialize, Default)]
struct AuthBody {
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    auth_digest: Option<String>,
    #[serde(default)]
    auth_sha: Option<String>,
    #[serde(default)]
    last_refresh: Option<Box<RawValue>>,
    #[serde(default)]
    auth: Option<Box<RawValue>>,
    #[serde(default)]
    client_version: Option<String>,
    #[serde(default)]
    wrapper_version: Option<String>,
    #[serde(default)]
    cdx_version: Option<String>,
    #[serde(default)]
    installation_id: Option<String>,
}

#[derive(Deserialize, Default)]
struct VersionQuery {
    client_version: Option<String>,
    cdx_version: Option<String>,
    wrapper_version: Option<String>,
    force: Option<String>,
}

#[derive(Serialize)]
struct Envelope<T> {
    status: &'static str,
    data: T,
}

/// A field kept raw (so `auth` keeps its text) that must be a string when present.
fn text_field(field: &str, value: &Option<Box<RawValue>>) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(raw) => serde_json::from_str::<String>(raw.get())
            .map(Some)
            .map_err(|_| ApiError::invalid_field(field, format!("{field} must be a string"))),
    }
}

async fn auth(
    State(state): State<GatewayState>,
    Q(query): Q<VersionQuery>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let parsed: AuthBody = lenient_json(&body, "Invalid JSON payload")?;
    let command = parsed.command.clone().unwrap_or_else(|| "retrieve".into());
    let reported = Reported {
        client_version: parsed
            .client_version
            .clone()
            .or(query.client_version.clone())
            .unwrap_or_default(),
        wrapper_version: parsed
            .wrapper_version
            .clone()
            .or(parsed.cdx_version.clone())
            .or(query.wrapper_version.clone())
            .or(query.cdx_version.clone())
            .unwrap_or_default(),
        installation_id: parsed.installation_id.clone().unwrap_or_default(),
    };
    match command.as_str() {
        "retrieve" => {
            let (caller, host) =
                authenticate(&state, &parts, HostCallKind::AuthRetrieve, false, reported).await?;
            let digest = parsed
                .digest
                .clone()
                .or(parsed.auth_digest.clone())
                .or(parsed.auth_sha.clone())
                .ok_or_else(|| ApiError::invalid_field("digest", "digest is required"))?;
            let last_refresh =
                text_field("last_refresh", &parsed.last_refresh)?.ok_or_else(|| {
                    ApiError::invalid_field("last_refresh", "last_refresh is required")
                })?;
            let req = RetrieveCodexAuthRequest {
                digest,
                last_refresh,
            };
            let res = match state.local() {
                Some(local) => {
                    local
                        .auth
                        .retrieve_codex_auth(caller.local_request(req))
                        .await
                }
                None => {
                    state
                        .clients()
                        .auth()
                        .retrieve_codex_auth(caller.request(&state, req))
                        .await
                }
            }?
            .into_inner();
            let status = match res.status() {
                RetrieveCodexAuthStatus::Missing => "missing",
                RetrieveCodexAuthStatus::Valid => "valid",
                RetrieveCodexAuthStatus::UploadRequired => "upload_required",
                RetrieveCodexAuthStatus::Outdated | RetrieveCodexAuthStatus::Unspecified => {
                    "outdated"
                }
            };
            let outcome = Outcome {
                status,
                digest: &res.canonical_digest,
                last_refresh: &res.canonical_last_refresh_text,
                action: matches!(status, "missing" | "upload_required").then_some("store"),
                runner_applied: None,
                auth_json: res.auth_json.clone(),
            };
            sync_answer(&state, &caller, &host, outcome).await
        }
        "store" => {
            let (caller, host) =
                authenticate(&state, &parts, HostCallKind::AuthStore, false, reported).await?;
            // The document is `auth`, or the whole body when it carries `last_refresh` itself.
            let auth_json = match &parsed.auth {
                Some(raw) => raw.get().to_string(),
                None if parsed.last_refresh.is_some() => {
                    String::from_utf8_lossy(&body).into_owned()
                }
                None => {
                    return Err(ApiError::invalid_field(
                        "auth",
                        "auth is required for store",
                    ));
                }
            };
            let req = StoreCodexAuthRequest { auth_json };
            let res = match state.local() {
                Some(local) => local.auth.store_codex_auth(caller.local_request(req)).await,
                None => {
                    state
                        .clients()
                        .auth()
                        .store_codex_auth(caller.request(&state, req))
                        .await
                }
            }?
            .into_inner();
            let status = match res.status() {
                StoreCodexAuthStatus::Updated => "updated",
                StoreCodexAuthStatus::Unchanged => "unchanged",
                StoreCodexAuthStatus::Outdated | StoreCodexAuthStatus::Unspecified => "outdated",
            };
            let outcome = Outcome {
                status,
                digest: &res.canonical_digest,
                last_refresh: &res.canonical_last_refresh_text,
                action: None,
                runner_applied: Some(res.runner_applied),
                auth_json: res.auth_json.clone(),
            };
            sync_answer(&state, &caller, &host, outcome).await
        }
        other => Err(ApiError::invalid_field(
            "command",
            format!("command must be retrieve or store, not {other:?}"),
        )),
    }
}

/// Every `/auth` answer: the contract's always-present fields, then what the outcome adds.
/// Serialized straight from borrowed values (this is the fleet's hottest route).
#[derive(Serialize)]
struct SyncAnswer<'a> {
    status: &'a str,
    canonical_last_refresh: Option<&'a str>,
    canonical_digest: Option<&'a str>,
    api_calls: u64,
    /// Owned by the usage issue.
    token_usage_month: Option<u64>,
    versions: &'a RawValue,
    quota_hard_fail: bool,
    quota_limit_percent: u32,
    quota_week_partition: u32,
    cdx_silent: bool,
    host: HostView<'a>,
    chatgpt_usage: Option<()>,
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    runner_applied: Option<bool>,
    /// Present (as null until a runner exists) on store answers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<Box<RawValue>>,
}

struct Outcome<'a> {
    status: &'a str,
    digest: &'a str,
    last_refresh: &'a str,
    action: Option<&'static str>,
    runner_applied: Option<bool>,
    auth_json: Option<String>,
}

async fn sync_answer(
    state: &GatewayState,
    caller: &Caller,
    host: &Host,
    o: Outcome<'_>,
) -> Result<Response, ApiError> {
    let flags = state.policy_cache().get(state, caller).await?;
    let auth = o
        .auth_json
        .map(RawValue::from_string)
        .transpose()
        .map_err(|_| ApiError::internal("canonical auth.json is not JSON"))?;
    let answer = SyncAnswer {
        status: o.status,
        canonical_last_refresh: (!o.last_refresh.is_empty()).then_some(o.last_refresh),
        canonical_digest: (!o.digest.is_empty()).then_some(o.digest),
        api_calls: host.api_calls,
        token_usage_month: None,
        versions: &flags.versions_json,
        // VIP hosts are exempt from hard failure (contract §2).
        quota_hard_fail: flags.quota_hard_fail && !host.vip,
        quota_limit_percent: flags.quota_limit_percent,
        quota_week_partition: flags.quota_week_partition,
        cdx_silent: flags.cdx_silent,
        host: HostView(host),
        chatgpt_usage: None,
        action: o.action,
        runner_applied: o.runner_applied,
        validation: o.runner_applied.map(|_| Value::Null),
        auth,
    };
    Ok(axum::Json(Envelope {
        status: "ok",
        data: answer,
    })
    .into_response())
}

async fn deregister(
    State(state): State<GatewayState>,
    Q(query): Q<VersionQuery>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let force = query
        .force
        .as_deref()
        .is_some_and(|f| matches!(f, "1" | "true" | "yes" | "on"));
    let (caller, _) = authenticate(
        &state,
        &parts,
        HostCallKind::General,
        force,
        Reported::default(),
    )
    .await?;
    let res = state
        .clients()
        .fleet()
        .deregister_host(caller.request(&state, DeregisterHostRequest {}))
        .await?
        .into_inner();
    Ok(crate::error::ok(json!({ "deleted": res.deleted_fqdn })))
}

/// The contract's `versions` object (fields owned by later issues are null).
fn versions_json(flags: &FleetFlags) -> Value {
    versions_value(
        &flags.versions,
        flags.quota_hard_fail,
        flags.quota_limit_percent,
        flags.quota_week_partition,
        flags.cdx_silent,
    )
}

fn versions_value(
    v: &FleetVersions,
    quota_hard_fail: bool,
    quota_limit_percent: u32,
    quota_week_partition: u32,
    cdx_silent: bool,
) -> Value {
    let text_or_null = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
    json!({
        "client_version": text_or_null(&v.client_version),
        "client_version_checked_at": crate::api::rfc3339(v.client_version_checked_at.as_ref()),
        "client_version_source": v.client_version_source,
        "wrapper_version": text_or_null(&v.wrapper_version),
        "wrapper_sha256": text_or_null(&v.wrapper_sha256),
        "wrapper_url": "/wrapper/download",
        "reported_client_version": text_or_null(&v.reported_client_version),
        "quota_hard_fail": quota_hard_fail,
        "quota_limit_percent": quota_limit_percent,
        "quota_week_partition": quota_week_partition,
        "cdx_silent": cdx_silent,
        "runner_enabled": false,
        "runner_state": Value::Null,
        "runner_last_ok": Value::Null,
        "runner_last_fail": Value::Null,
        "runner_last_check": Value::Null,
        "installation_id": v.installation_id,
    })
}

/// `GET /versions` (no auth): `data` is the versions object itself.
async fn versions(State(state): State<GatewayState>, parts: Parts) -> Result<Response, ApiError> {
    let anonymous = Caller::anonymous(client_ip(&parts, &state));
    let flags = ensure_api_enabled(&state, &anonymous).await?;
    Ok(crate::error::ok(versions_json(&flags)))
}

#[derive(Deserialize, Default)]
struct HostUserBody {
    #[serde(default)]
    username: String,
    #[serde(default)]
    hostname: String,
}

/// `POST /host/users`: records which local user runs Codex on the calling host.
async fn host_users(
    State(state): State<GatewayState>,
    parts: Parts,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let b: HostUserBody = lenient_json(&body, "Invalid JSON payload")?;
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
        .record_host_user(caller.request(
            &state,
            codex_central_proto::fleet::v1::RecordHostUserRequest {
                username: b.username,
                hostname: b.hostname,
            },
        ))
        .await?
        .into_inner();
    let users: Vec<Value> = res
        .users
        .iter()
        .map(|u| {
            json!({
                "username": u.username,
                "hostname": u.hostname,
                "first_seen": crate::api::rfc3339(u.first_seen.as_ref()),
                "last_seen": crate::api::rfc3339(u.last_seen.as_ref()),
            })
        })
        .collect();
    Ok(crate::error::ok(json!({ "users": users })))
}
