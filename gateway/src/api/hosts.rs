//! Peer-compatible host administration under `/admin/hosts` (contract §3).

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::fleet::v1::{
    DeleteHostRequest, GetHostRequest, Host, HostStatus, ListHostsRequest, RegisterHostRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::rfc3339;
use crate::caller::Caller;
use crate::error::ok;
use crate::extract::Json;
use crate::flex::FlexBool;
use crate::{ApiError, GatewayState};

/// The host object of the contract (plus `id`, `ip`, `created_at`, `last_seen_at`).
pub fn host_json(h: &Host) -> Value {
    serde_json::to_value(HostView(h)).unwrap_or(Value::Null)
}

/// The contract's `host` object, serialized straight from the proto (the `/auth` hot path
/// embeds it without building a JSON tree).
pub struct HostView<'a>(pub &'a Host);

/// RFC 3339 text of a timestamp, or null.
struct Ts<'a>(Option<&'a prost_types::Timestamp>);

impl serde::Serialize for Ts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.and_then(|t| {
            chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        }) {
            Some(dt) => s.collect_str(&dt.format("%Y-%m-%dT%H:%M:%S%.3fZ")),
            None => s.serialize_none(),
        }
    }
}

/// Empty text as null.
fn text(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl serde::Serialize for HostView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let h = self.0;
        let mut m = s.serialize_map(Some(25))?;
        match h.id.parse::<i64>() {
            Ok(id) => m.serialize_entry("id", &id)?,
            Err(_) => m.serialize_entry("id", &h.id)?,
        }
        m.serialize_entry("fqdn", &h.fqdn)?;
        let status = if h.status() == HostStatus::Active {
            "active"
        } else {
            "disabled"
        };
        m.serialize_entry("status", status)?;
        m.serialize_entry("last_refresh", &Ts(h.last_refresh.as_ref()))?;
        m.serialize_entry("created_at", &Ts(h.created_at.as_ref()))?;
        m.serialize_entry("updated_at", &Ts(h.updated_at.as_ref()))?;
        m.serialize_entry("last_seen_at", &Ts(h.last_seen_at.as_ref()))?;
        m.serialize_entry("expires_at", &Ts(h.expires_at.as_ref()))?;
        m.serialize_entry("client_version", &text(&h.client_version))?;
        m.serialize_entry("client_version_override", &text(&h.client_version_override))?;
        m.serialize_entry("wrapper_version", &text(&h.wrapper_version))?;
        m.serialize_entry("api_calls", &h.api_calls)?;
        m.serialize_entry("ip", &text(&h.ip))?;
        m.serialize_entry("allow_roaming_ips", &h.allow_roaming_ips)?;
        m.serialize_entry("secure", &h.secure)?;
        m.serialize_entry("vip", &h.vip)?;
        m.serialize_entry(
            "insecure_enabled_until",
            &Ts(h.insecure_enabled_until.as_ref()),
        )?;
        m.serialize_entry("insecure_grace_until", &Ts(h.insecure_grace_until.as_ref()))?;
        m.serialize_entry("insecure_window_minutes", &h.insecure_window_minutes)?;
        m.serialize_entry("force_ipv4", &h.force_ipv4)?;
        m.serialize_entry("curl_insecure", &h.curl_insecure)?;
        m.serialize_entry("model_override", &text(&h.model_override))?;
        m.serialize_entry(
            "reasoning_effort_override",
            &text(&h.reasoning_effort_override),
        )?;
        m.serialize_entry("temporary", &h.temporary)?;
        m.serialize_entry("provisioned", &h.provisioned)?;
        m.end()
    }
}

fn installer_json(i: &codex_central_proto::fleet::v1::InstallerToken) -> Value {
    json!({
        "token": i.token,
        "url": i.url,
        "command": i.command,
        "expires_at": rfc3339(i.expires_at.as_ref()),
    })
}

#[derive(Deserialize)]
pub struct RegisterBody {
    fqdn: String,
    secure: Option<FlexBool>,
    vip: Option<FlexBool>,
    temporary: Option<FlexBool>,
    curl_insecure: Option<FlexBool>,
    rotate: Option<FlexBool>,
}

pub async fn register(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<RegisterBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let flag = |f: Option<FlexBool>| f.is_some_and(|f| f.0);
    let res = state
        .clients()
        .fleet()
        .register_host(caller.request(
            &state,
            RegisterHostRequest {
                fqdn: b.fqdn,
                secure: b.secure.map(|f| f.0),
                vip: flag(b.vip),
                temporary: flag(b.temporary),
                curl_insecure: flag(b.curl_insecure),
                rotate: flag(b.rotate),
                installer_ttl_seconds: None,
            },
        ))
        .await?
        .into_inner();
    let mut host = res.host.as_ref().map(host_json).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut host {
        map.insert("api_key".into(), json!(res.api_key));
    }
    Ok(ok(json!({
        "host": host,
        "created": res.created,
        "installer": res.installer.as_ref().map(installer_json),
    })))
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page_size: u32,
    #[serde(default)]
    page_token: String,
}

pub async fn list(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let status = match q.status.as_str() {
        "" => HostStatus::Unspecified,
        "active" => HostStatus::Active,
        "disabled" => HostStatus::Disabled,
        _ => {
            return Err(ApiError::invalid_field(
                "status",
                "status must be active or disabled",
            ));
        }
    };
    let res = state
        .clients()
        .fleet()
        .list_hosts(caller.request(
            &state,
            ListHostsRequest {
                page: Some(PageRequest {
                    page_size: q.page_size,
                    page_token: q.page_token,
                }),
                query: q.q,
                status: status as i32,
                insecure_only: false,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "hosts": res.hosts.iter().map(host_json).collect::<Vec<_>>(),
        "next_page_token": res.next_page_token,
        "total": res.total_count,
    })))
}

pub async fn get(
    State(state): State<GatewayState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let res = state
        .clients()
        .fleet()
        .get_host(caller.request(&state, GetHostRequest { id }))
        .await?
        .into_inner();
    Ok(ok(json!({ "host": res.host.as_ref().map(host_json) })))
}

pub async fn delete(
    State(state): State<GatewayState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let res = state
        .clients()
        .fleet()
        .delete_host(caller.request(&state, DeleteHostRequest { id }))
        .await?
        .into_inner();
    let deleted = res
        .deleted_id
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(res.deleted_id));
    Ok(ok(json!({ "deleted": deleted })))
}

/// The answer of every per-host setting route: the updated host.
fn host_answer(host: Option<Host>) -> Response {
    ok(json!({ "host": host.as_ref().map(host_json) }))
}

type IdPath = Result<Path<String>, PathRejection>;
type Body<T> = Result<Json<T>, ApiError>;

/// A body that may be empty (`{}` or nothing at all).
fn optional_body<T: Default>(body: Body<T>) -> Result<T, ApiError> {
    match body {
        Ok(Json(b)) => Ok(b),
        Err(e) if e.status == StatusCode::UNSUPPORTED_MEDIA_TYPE => Ok(T::default()),
        Err(e) => Err(e),
    }
}

macro_rules! bool_route {
    ($name:ident, $field:ident, $rpc:ident, $req:ident, $req_field:ident) => {
        #[derive(Deserialize)]
        pub struct $req {
            $field: FlexBool,
        }

        pub async fn $name(
            State(state): State<GatewayState>,
            caller: Caller,
            id: IdPath,
            body: Body<$req>,
        ) -> Result<Response, ApiError> {
            let Path(id) = id?;
            let Json(b) = body?;
            let res = state
                .clients()
                .fleet()
                .$rpc(caller.request(
                    &state,
                    codex_central_proto::fleet::v1::$req {
                        id,
                        $req_field: b.$field.0,
                    },
                ))
                .await?
                .into_inner();
            Ok(host_answer(res.host))
        }
    };
}

bool_route!(
    roaming,
    allow,
    set_host_roaming,
    SetHostRoamingRequest,
    allow
);
bool_route!(
    secure,
    secure,
    set_host_secure,
    SetHostSecureRequest,
    secure
);
bool_route!(vip, vip, set_host_vip, SetHostVipRequest, vip);
bool_route!(
    ipv4,
    force,
    set_host_force_ipv4,
    SetHostForceIpv4Request,
    force
);
bool_route!(
    curl_insecure,
    allow,
    set_host_curl_insecure,
    SetHostCurlInsecureRequest,
    allow
);
bool_route!(
    enabled,
    enabled,
    set_host_enabled,
    SetHostEnabledRequest,
    enabled
);

#[derive(Deserialize, Default)]
pub struct InsecureEnableBody {
    duration_minutes: Option<u32>,
}

pub async fn insecure_enable(
    State(state): State<GatewayState>,
    caller: Caller,
    id: IdPath,
    body: Body<InsecureEnableBody>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let b = optional_body(body)?;
    let res = state
        .clients()
        .fleet()
        .enable_insecure_window(caller.request(
            &state,
            codex_central_proto::fleet::v1::EnableInsecureWindowRequest {
                id,
                duration_minutes: b.duration_minutes,
            },
        ))
        .await?
        .into_inner();
    Ok(host_answer(res.host))
}

pub async fn insecure_disable(
    State(state): State<GatewayState>,
    caller: Caller,
    id: IdPath,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let res = state
        .clients()
        .fleet()
        .disable_insecure_window(caller.request(
            &state,
            codex_central_proto::fleet::v1::DisableInsecureWindowRequest { id },
        ))
        .await?
        .into_inner();
    Ok(host_answer(res.host))
}

#[derive(Deserialize, Default)]
pub struct ModelBody {
    model_override: Option<String>,
    reasoning_effort_override: Option<String>,
}

pub async fn model(
    State(state): State<GatewayState>,
    caller: Caller,
    id: IdPath,
    body: Body<ModelBody>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let b = optional_body(body)?;
    let res = state
        .clients()
        .fleet()
        .set_host_model_override(caller.request(
            &state,
            codex_central_proto::fleet::v1::SetHostModelOverrideRequest {
                id,
                model_override: b.model_override,
                reasoning_effort_override: b.reasoning_effort_override,
            },
        ))
        .await?
        .into_inner();
    Ok(host_answer(res.host))
}

#[derive(Deserialize, Default)]
pub struct CodexVersionBody {
    selection: Option<String>,
    client_version_override: Option<String>,
}

pub async fn codex_version(
    State(state): State<GatewayState>,
    caller: Caller,
    id: IdPath,
    body: Body<CodexVersionBody>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let b = optional_body(body)?;
    let res = state
        .clients()
        .fleet()
        .set_host_codex_version(
            caller.request(
                &state,
                codex_central_proto::fleet::v1::SetHostCodexVersionRequest {
                    id,
                    selection: b
                        .selection
                        .or(b.client_version_override)
                        .unwrap_or_default(),
                },
            ),
        )
        .await?
        .into_inner();
    Ok(host_answer(res.host))
}

pub async fn clear(
    State(state): State<GatewayState>,
    caller: Caller,
    id: IdPath,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let res = state
        .clients()
        .fleet()
        .clear_host_sync(caller.request(
            &state,
            codex_central_proto::fleet::v1::ClearHostSyncRequest { id },
        ))
        .await?
        .into_inner();
    Ok(host_answer(res.host))
}

pub async fn rotate(
    State(state): State<GatewayState>,
    caller: Caller,
    id: IdPath,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let res = state
        .clients()
        .fleet()
        .rotate_host_key(caller.request(
            &state,
            codex_central_proto::fleet::v1::RotateHostKeyRequest {
                id,
                installer_ttl_seconds: None,
            },
        ))
        .await?
        .into_inner();
    let mut host = res.host.as_ref().map(host_json).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut host {
        map.insert("api_key".into(), json!(res.api_key));
    }
    Ok(ok(json!({
        "host": host,
        "installer": res.installer.as_ref().map(installer_json),
    })))
}

/// `POST /admin/hosts/prune`: runs the pruning rules now (the background job runs every
/// minute anyway).
pub async fn prune(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .fleet()
        .prune_hosts(caller.request(&state, codex_central_proto::fleet::v1::PruneHostsRequest {}))
        .await?
        .into_inner();
    Ok(ok(json!({ "pruned": res.pruned_fqdns })))
}

/// `GET /admin/hosts/insecure`: insecure hosts and whether their window is open now.
pub async fn insecure(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .fleet()
        .list_hosts(caller.request(
            &state,
            ListHostsRequest {
                page: Some(PageRequest {
                    page_size: 500,
                    page_token: String::new(),
                }),
                query: String::new(),
                status: HostStatus::Unspecified as i32,
                insecure_only: true,
            },
        ))
        .await?
        .into_inner();
    let now = chrono::Utc::now().timestamp();
    let hosts: Vec<Value> = res
        .hosts
        .iter()
        .map(|h| {
            let active = h
                .insecure_enabled_until
                .as_ref()
                .is_some_and(|t| t.seconds >= now);
            json!({
                "id": h.id.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(h.id)),
                "fqdn": h.fqdn,
                "active": active,
                "insecure_enabled_until": rfc3339(h.insecure_enabled_until.as_ref()),
                "secure": h.secure,
            })
        })
        .collect();
    let active = hosts.iter().filter(|h| h["active"] == json!(true)).count();
    Ok(ok(
        json!({ "count": res.total_count, "active": active, "hosts": hosts }),
    ))
}
