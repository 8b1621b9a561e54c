//! Peer-compatible host administration under `/admin/hosts` (contract §3).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::fleet::v1::{
    DeleteHostRequest, GetHostRequest, Host, HostStatus, ListHostsRequest, RegisterHostRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Json, Path};
use crate::plumbing::flex::FlexBool;
use crate::plumbing::views::{host_json, rfc3339};
use crate::{ApiError, GatewayState};

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
    id: Result<Path<String>, ApiError>,
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
    id: Result<Path<String>, ApiError>,
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

type IdPath = Result<Path<String>, ApiError>;
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
