//! Peer-compatible host administration under `/admin/hosts` (contract §3).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
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
use crate::flex::FlexBool;
use crate::{ApiError, GatewayState};

/// The host object of the contract (plus `id`, `ip`, `created_at`, `last_seen_at`).
pub fn host_json(h: &Host) -> Value {
    let empty_null = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
    json!({
        "id": h.id.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(h.id)),
        "fqdn": h.fqdn,
        "status": if h.status() == HostStatus::Active { "active" } else { "disabled" },
        "last_refresh": rfc3339(h.last_refresh.as_ref()),
        "created_at": rfc3339(h.created_at.as_ref()),
        "updated_at": rfc3339(h.updated_at.as_ref()),
        "last_seen_at": rfc3339(h.last_seen_at.as_ref()),
        "expires_at": rfc3339(h.expires_at.as_ref()),
        "client_version": empty_null(&h.client_version),
        "client_version_override": empty_null(&h.client_version_override),
        "wrapper_version": empty_null(&h.wrapper_version),
        "api_calls": h.api_calls,
        "ip": empty_null(&h.ip),
        "allow_roaming_ips": h.allow_roaming_ips,
        "secure": h.secure,
        "vip": h.vip,
        "insecure_enabled_until": rfc3339(h.insecure_enabled_until.as_ref()),
        "insecure_grace_until": rfc3339(h.insecure_grace_until.as_ref()),
        "insecure_window_minutes": h.insecure_window_minutes,
        "force_ipv4": h.force_ipv4,
        "curl_insecure": h.curl_insecure,
        "model_override": empty_null(&h.model_override),
        "reasoning_effort_override": empty_null(&h.reasoning_effort_override),
        "temporary": h.temporary,
        "provisioned": h.provisioned,
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
    body: Result<Json<RegisterBody>, JsonRejection>,
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
    Ok(ok(
        json!({ "host": host, "created": res.created, "installer": Value::Null }),
    ))
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
