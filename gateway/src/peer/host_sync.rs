//! The host-facing REST API that `cdx` speaks (contract §2): `POST /auth`, `DELETE /auth`.
//! Hosts authenticate with `X-API-Key` or `Authorization: Bearer`; the fleet service decides
//! (IP binding, insecure windows, failure budget), and the answer is composed here.

use axum::Router;
use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use codex_central_proto::auth::v1::{
    CodexAuthRefreshState, RetrieveCodexAuthRequest, RetrieveCodexAuthStatus,
    StoreCodexAuthRequest, StoreCodexAuthStatus,
};
use codex_central_proto::fleet::v1::{DeregisterHostRequest, HostCallKind};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::plumbing::caller::{Caller, client_ip};
use crate::plumbing::extract::{Q, RawBody, lenient_json};
use crate::plumbing::host_caller::{
    HostCaller, HostVersions, Reported, authenticate, authenticate_host, ensure_api_enabled,
    versions_json,
};
use crate::plumbing::views::{ChatgptUsageView, HostView, rfc3339_text};
use crate::{ApiError, GatewayState};

pub fn router() -> Router<GatewayState> {
    Router::new()
        .route("/auth", post(auth).delete(deregister))
        .route("/host/users", post(host_users))
        .route("/versions", axum::routing::get(versions))
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

/// What `POST /auth` asks for, one variant per command. Built from the flat body rather than
/// with serde's internal tagging, which would lose both the raw text of `auth` (key order and
/// number text must survive) and the path of a failing field.
/// Fields are checked only after the host authenticated, so a stranger learns nothing but 401.
enum AuthCommand {
    Retrieve {
        digest: Option<String>,
        last_refresh: Option<Box<RawValue>>,
    },
    Store {
        auth_json: Option<String>,
    },
}

impl AuthBody {
    fn reported(&self, query: &VersionQuery) -> Reported {
        Reported {
            client_version: self
                .client_version
                .clone()
                .or(query.client_version.clone())
                .unwrap_or_default(),
            wrapper_version: self
                .wrapper_version
                .clone()
                .or(self.cdx_version.clone())
                .or(query.wrapper_version.clone())
                .or(query.cdx_version.clone())
                .unwrap_or_default(),
            installation_id: self.installation_id.clone().unwrap_or_default(),
        }
    }

    /// `raw` is the whole body: a store without `auth` sends the document itself.
    fn into_command(self, raw: &[u8]) -> Result<AuthCommand, ApiError> {
        match self.command.as_deref().unwrap_or("retrieve") {
            "retrieve" => Ok(AuthCommand::Retrieve {
                digest: self.digest.or(self.auth_digest).or(self.auth_sha),
                last_refresh: self.last_refresh,
            }),
            "store" => Ok(AuthCommand::Store {
                auth_json: match (self.auth, self.last_refresh) {
                    (Some(doc), _) => Some(doc.get().to_string()),
                    (None, Some(_)) => Some(String::from_utf8_lossy(raw).into_owned()),
                    (None, None) => None,
                },
            }),
            other => Err(ApiError::invalid_field(
                "command",
                format!("command must be retrieve or store, not {other:?}"),
            )),
        }
    }
}

async fn auth(
    State(state): State<GatewayState>,
    Q(query): Q<VersionQuery>,
    parts: Parts,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let body: AuthBody = lenient_json(&raw, "Invalid JSON payload")?;
    let reported = body.reported(&query);
    match body.into_command(&raw)? {
        AuthCommand::Retrieve {
            digest,
            last_refresh,
        } => retrieve(&state, &parts, reported, digest, last_refresh).await,
        AuthCommand::Store { auth_json } => store(&state, &parts, reported, auth_json).await,
    }
}

async fn retrieve(
    state: &GatewayState,
    parts: &Parts,
    reported: Reported,
    digest: Option<String>,
    last_refresh: Option<Box<RawValue>>,
) -> Result<Response, ApiError> {
    let h = authenticate_host(state, parts, HostCallKind::AuthRetrieve, false, reported).await?;
    let req = RetrieveCodexAuthRequest {
        digest: digest.ok_or_else(|| ApiError::invalid_field("digest", "digest is required"))?,
        last_refresh: text_field("last_refresh", &last_refresh)?
            .ok_or_else(|| ApiError::invalid_field("last_refresh", "last_refresh is required"))?,
    };
    let res = state.hot().retrieve_codex_auth(&h.caller, req).await?;
    let status = match res.status() {
        RetrieveCodexAuthStatus::Missing => "missing",
        RetrieveCodexAuthStatus::Valid => "valid",
        RetrieveCodexAuthStatus::UploadRequired => "upload_required",
        RetrieveCodexAuthStatus::Outdated | RetrieveCodexAuthStatus::Unspecified => "outdated",
    };
    let outcome = Outcome {
        status,
        digest: &res.canonical_digest,
        last_refresh: &res.canonical_last_refresh_text,
        action: matches!(status, "missing" | "upload_required").then_some("store"),
        runner_applied: None,
        auth_json: res.auth_json.clone(),
        lifecycle: CanonicalAuthView::new(
            res.access_token_expires_at.as_ref(),
            &res.canonical_last_refresh_text,
            res.refresh.as_ref(),
        ),
    };
    sync_answer(state, &h, outcome).await
}

async fn store(
    state: &GatewayState,
    parts: &Parts,
    reported: Reported,
    auth_json: Option<String>,
) -> Result<Response, ApiError> {
    let h = authenticate_host(state, parts, HostCallKind::AuthStore, false, reported).await?;
    let auth_json =
        auth_json.ok_or_else(|| ApiError::invalid_field("auth", "auth is required for store"))?;
    let res = state
        .hot()
        .store_codex_auth(&h.caller, StoreCodexAuthRequest { auth_json })
        .await?;
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
        lifecycle: CanonicalAuthView::new(
            res.access_token_expires_at.as_ref(),
            &res.canonical_last_refresh_text,
            res.refresh.as_ref(),
        ),
    };
    sync_answer(state, &h, outcome).await
}

/// Every `/auth` answer: the contract's always-present fields, then what the outcome adds.
/// Serialized straight from borrowed values (this is the fleet's hottest route).
#[derive(Serialize)]
struct SyncAnswer<'a> {
    status: &'a str,
    canonical_last_refresh: Option<&'a str>,
    canonical_digest: Option<&'a str>,
    api_calls: u64,
    /// The host's tokens this calendar month (UTC), refreshed at most once a minute.
    token_usage_month: Option<u64>,
    versions: HostVersions<'a>,
    quota_hard_fail: bool,
    quota_limit_percent: u32,
    quota_week_partition: u32,
    cdx_silent: bool,
    host: HostView<'a>,
    chatgpt_usage: ChatgptUsageView<'a>,
    /// The fleet account is over the quota policy and this host must not start Codex.
    quota_exceeded: bool,
    quota_reason: Option<&'a str>,
    /// Where the weekly ChatGPT window ends at the current rate (null early in the window).
    quota_projected_percent: Option<f64>,
    /// The canonical copy's lifecycle (an addition to the peer's answer).
    canonical_auth: &'a CanonicalAuthView,
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
    lifecycle: CanonicalAuthView,
}

/// When the canonical access token expires, when it was last refreshed, the server's last
/// refresh attempt and its error, and the next refresh it plans (null when none is planned).
#[derive(Serialize)]
struct CanonicalAuthView {
    expires_at: Option<String>,
    last_refresh: Option<String>,
    last_refresh_attempt_at: Option<String>,
    last_refresh_error: Option<String>,
    next_refresh_at: Option<String>,
    needs_new_auth_json: bool,
}

impl CanonicalAuthView {
    fn new(
        expires_at: Option<&prost_types::Timestamp>,
        last_refresh: &str,
        refresh: Option<&CodexAuthRefreshState>,
    ) -> Self {
        let at = |t: Option<&prost_types::Timestamp>| rfc3339_text(t?);
        let refresh = refresh.cloned().unwrap_or_default();
        CanonicalAuthView {
            expires_at: at(expires_at),
            last_refresh: (!last_refresh.is_empty()).then(|| last_refresh.to_string()),
            last_refresh_attempt_at: at(refresh.last_attempt_at.as_ref()),
            last_refresh_error: (!refresh.last_error.is_empty()).then_some(refresh.last_error),
            next_refresh_at: at(refresh.next_due_at.as_ref()),
            needs_new_auth_json: refresh.needs_new_auth_json,
        }
    }
}

async fn sync_answer(
    state: &GatewayState,
    h: &HostCaller,
    o: Outcome<'_>,
) -> Result<Response, ApiError> {
    let host = &h.host;
    let flags = state.policy_cache().get(state, &h.caller).await?;
    let fleet_quota = state.quota().latest(state, &h.caller).await;
    let quota = &fleet_quota.latest;
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
        token_usage_month: state
            .month_usage()
            .get(state, &h.caller, &host.id.to_string())
            .await,
        versions: HostVersions {
            flags: &flags,
            wrapper_sha256: &h.wrapper_sha256,
        },
        // VIP hosts are exempt from hard failure (contract §2).
        quota_hard_fail: flags.quota_hard_fail && !host.vip,
        quota_limit_percent: flags.quota_limit_percent,
        quota_week_partition: flags.quota_week_partition,
        cdx_silent: flags.cdx_silent,
        host: HostView(host),
        chatgpt_usage: ChatgptUsageView(quota, fleet_quota.next_eligible_at.as_ref()),
        // Judged on the server so every host agrees; VIP hosts are exempt from hard failure.
        quota_exceeded: quota.status.as_ref().is_some_and(|q| q.over_limit)
            && flags.quota_hard_fail
            && !host.vip,
        quota_reason: quota
            .status
            .as_ref()
            .map(|q| q.reason.as_str())
            .filter(|r| !r.is_empty()),
        quota_projected_percent: quota
            .status
            .as_ref()
            .and_then(|q| q.weekly_projected_percent),
        canonical_auth: &o.lifecycle,
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
    Ok(crate::plumbing::error::ok(
        json!({ "deleted": res.deleted_fqdn }),
    ))
}

/// `GET /versions` (no auth): `data` is the versions object itself.
async fn versions(State(state): State<GatewayState>, parts: Parts) -> Result<Response, ApiError> {
    let anonymous = Caller::anonymous(client_ip(&parts, &state));
    let flags = ensure_api_enabled(&state, &anonymous).await?;
    Ok(crate::plumbing::error::ok(versions_json(&flags)))
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
                "first_seen": crate::plumbing::views::rfc3339(u.first_seen.as_ref()),
                "last_seen": crate::plumbing::views::rfc3339(u.last_seen.as_ref()),
            })
        })
        .collect();
    Ok(crate::plumbing::error::ok(json!({ "users": users })))
}
