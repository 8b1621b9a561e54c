//! Hosts as callers: the host key from `X-API-Key` or `Authorization: Bearer`, judged by the
//! fleet service (IP binding, insecure windows, failure budget, kill switch), and the fleet
//! flags every host answer carries, cached briefly. Used by the peer routes and by `/v1`.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::http::request::Parts;
use codex_central_common::Principal;
use codex_central_common::wire::bearer;
use codex_central_proto::fleet::v1::{
    AuthenticateHostRequest, FleetVersions, GetVersionsRequest, Host, HostCallKind,
};
use codex_central_proto::usage::v1::GetQuotaPolicyRequest;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::plumbing::caller::{Caller, client_ip};
use crate::{ApiError, GatewayState};

/// Policy values every `/auth` answer carries, cached briefly so a sync costs no extra RPCs.
#[derive(Clone, Default)]
pub struct PolicyCache {
    current: Arc<RwLock<Option<Fetched>>>,
    /// One refresh at a time; readers of fresh values never wait on it.
    refresh: Arc<Mutex<()>>,
    /// When the last refresh failed. Callers that queued behind a failing refresh answer with
    /// its error instead of each waiting out the database in turn (during an outage that
    /// queue made host syncs wait tens of seconds).
    failed: Arc<RwLock<Option<(Instant, ApiError)>>>,
}

/// How long a failed refresh answers for the callers behind it.
const FAILURE_TTL: Duration = Duration::from_secs(1);

type Fetched = (Instant, Arc<FleetFlags>);

const POLICY_TTL: Duration = Duration::from_secs(1);

pub(crate) struct FleetFlags {
    pub api_enabled: bool,
    pub quota_hard_fail: bool,
    pub quota_limit_percent: u32,
    pub quota_week_partition: u32,
    pub cdx_silent: bool,
    /// The `versions` object, built once per fetch.
    pub versions_json: serde_json::Map<String, Value>,
    /// The same fields as JSON text, so a host answer copies them instead of serializing.
    versions_raw: Vec<(String, Box<RawValue>)>,
}

/// The `versions` object of one host's `/auth` answer: the fleet's, with the digest of the
/// wrapper this host is served (the script is baked per host, so the fleet-wide value is the
/// template's and would fail the wrapper's update check).
pub(crate) struct HostVersions<'a> {
    pub flags: &'a FleetFlags,
    pub wrapper_sha256: &'a str,
}

impl serde::Serialize for HostVersions<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let fields = &self.flags.versions_raw;
        let mut m = s.serialize_map(Some(fields.len()))?;
        for (key, value) in fields {
            if key == "wrapper_sha256" && !self.wrapper_sha256.is_empty() {
                m.serialize_entry(key, self.wrapper_sha256)?;
            } else {
                m.serialize_entry(key, value)?;
            }
        }
        m.end()
    }
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

    pub(crate) async fn get(
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
        if let Some(err) = self.recent_failure() {
            return Err(err);
        }
        let fetched = self.fetch(state, caller).await;
        match &fetched {
            Ok(flags) => {
                if let Ok(mut slot) = self.current.write() {
                    *slot = Some((Instant::now(), flags.clone()));
                }
            }
            Err(err) => {
                if let Ok(mut slot) = self.failed.write() {
                    *slot = Some((Instant::now(), err.clone()));
                }
            }
        }
        fetched
    }

    fn recent_failure(&self) -> Option<ApiError> {
        let slot = self.failed.read().ok()?;
        let (at, err) = slot.as_ref()?;
        (at.elapsed() < FAILURE_TTL).then(|| err.clone())
    }

    async fn fetch(
        &self,
        state: &GatewayState,
        caller: &Caller,
    ) -> Result<Arc<FleetFlags>, ApiError> {
        // Shared by every caller, so read as the gateway, not as whoever asked first.
        let caller = &Caller::gateway_reader(caller.client_ip);
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
        let versions_json = match versions_value(
            &v,
            quota.hard_fail,
            quota.limit_percent,
            quota.week_partition_days,
            fleet.silent_mode,
        ) {
            Value::Object(fields) => fields,
            _ => serde_json::Map::new(),
        };
        let versions_raw = versions_json
            .iter()
            .map(|(k, v)| Ok((k.clone(), serde_json::value::to_raw_value(v)?)))
            .collect::<Result<_, serde_json::Error>>()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        let flags = Arc::new(FleetFlags {
            api_enabled: fleet.api_enabled,
            quota_hard_fail: quota.hard_fail,
            quota_limit_percent: quota.limit_percent,
            quota_week_partition: quota.week_partition_days,
            cdx_silent: fleet.silent_mode,
            versions_json,
            versions_raw,
        });
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
    pub client_version: String,
    pub wrapper_version: String,
    pub installation_id: String,
}

/// Authenticates the calling host; the result acts as the principal for the service calls.
/// The kill switch: every host route answers 503 while the API is disabled.
pub(crate) async fn ensure_api_enabled(
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
    let h = authenticate_host(state, parts, kind, force, reported).await?;
    Ok((h.caller, h.host))
}

/// An authenticated host call.
pub(crate) struct HostCaller {
    pub caller: Caller,
    pub host: Host,
    /// Set on `/auth` calls: the digest of the wrapper this host is served.
    pub wrapper_sha256: String,
}

pub(crate) async fn authenticate_host(
    state: &GatewayState,
    parts: &Parts,
    kind: HostCallKind,
    force: bool,
    reported: Reported,
) -> Result<HostCaller, ApiError> {
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
    let res = state.hot().authenticate_host(&anonymous, req).await?;
    let principal = res
        .principal
        .as_ref()
        .map(Principal::try_from)
        .transpose()?;
    let host = res.host.ok_or_else(|| ApiError::internal("host missing"))?;
    Ok(HostCaller {
        caller: Caller {
            principal,
            client_ip: ip,
            session: None,
        },
        host,
        wrapper_sha256: res.wrapper_sha256,
    })
}

/// The contract's `versions` object (fields nothing computes yet are null).
pub(crate) fn versions_json(flags: &FleetFlags) -> Value {
    Value::Object(flags.versions_json.clone())
}

pub(crate) fn versions_value(
    v: &FleetVersions,
    quota_hard_fail: bool,
    quota_limit_percent: u32,
    quota_week_partition: u32,
    cdx_silent: bool,
) -> Value {
    let text_or_null = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
    json!({
        "client_version": text_or_null(&v.client_version),
        "client_version_checked_at": crate::plumbing::views::rfc3339(v.client_version_checked_at.as_ref()),
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
