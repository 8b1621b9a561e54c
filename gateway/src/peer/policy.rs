//! Peer-compatible fleet policy routes (contract §3): kill switch, silent mode, quota mode,
//! prune policy. Changes drop the gateway's policy cache so they apply to the next host call.

use axum::extract::State;
use axum::response::Response;
use codex_central_common::Error;
use codex_central_proto::fleet::v1::{
    FleetPolicy, GetFleetPolicyRequest, SetApiStateRequest, SetPrunePolicyRequest,
    SetSilentModeRequest,
};
use codex_central_proto::usage::v1::{GetQuotaPolicyRequest, QuotaPolicy, SetQuotaPolicyRequest};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::Json;
use crate::plumbing::flex::FlexBool;
use crate::{ApiError, GatewayState};

async fn fleet_policy(state: &GatewayState, caller: &Caller) -> Result<FleetPolicy, ApiError> {
    Ok(state
        .clients()
        .fleet()
        .get_fleet_policy(caller.request(state, GetFleetPolicyRequest {}))
        .await?
        .into_inner()
        .policy
        .unwrap_or_default())
}

fn require_admin(caller: &Caller) -> Result<(), ApiError> {
    match &caller.principal {
        Some(p) if p.role == codex_central_common::Role::Admin => Ok(()),
        Some(_) => Err(Error::permission_denied("admin access required").into()),
        None => Err(Error::unauthenticated("authentication required").into()),
    }
}

pub async fn get_api_state(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let p = fleet_policy(&state, &caller).await?;
    Ok(ok(json!({ "disabled": !p.api_enabled })))
}

#[derive(Deserialize)]
pub struct ApiStateBody {
    disabled: FlexBool,
}

pub async fn set_api_state(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<ApiStateBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .fleet()
        .set_api_state(caller.request(
            &state,
            SetApiStateRequest {
                api_enabled: !b.disabled.0,
            },
        ))
        .await?
        .into_inner();
    state.policy_cache().invalidate().await;
    Ok(ok(
        json!({ "disabled": !res.policy.unwrap_or_default().api_enabled }),
    ))
}

#[derive(Deserialize)]
pub struct SilentBody {
    silent: FlexBool,
}

pub async fn set_silent(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<SilentBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .fleet()
        .set_silent_mode(caller.request(
            &state,
            SetSilentModeRequest {
                silent_mode: b.silent.0,
            },
        ))
        .await?
        .into_inner();
    state.policy_cache().invalidate().await;
    Ok(ok(
        json!({ "silent": res.policy.unwrap_or_default().silent_mode }),
    ))
}

#[derive(Deserialize)]
pub struct PruneBody {
    inactivity_days: u32,
}

pub async fn set_prune(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<PruneBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let res = state
        .clients()
        .fleet()
        .set_prune_policy(caller.request(
            &state,
            SetPrunePolicyRequest {
                prune_inactive_days: b.inactivity_days,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(
        json!({ "inactivity_window_days": res.policy.unwrap_or_default().prune_inactive_days }),
    ))
}

fn quota_json(p: &QuotaPolicy) -> Value {
    json!({
        "hard_fail": p.hard_fail,
        "limit_percent": p.limit_percent,
        "week_partition": p.week_partition_days,
    })
}

pub async fn get_quota(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let p = state
        .clients()
        .usage()
        .get_quota_policy(caller.request(&state, GetQuotaPolicyRequest {}))
        .await?
        .into_inner()
        .policy
        .unwrap_or_default();
    Ok(ok(quota_json(&p)))
}

#[derive(Deserialize)]
pub struct QuotaBody {
    hard_fail: FlexBool,
    limit_percent: Option<u32>,
    week_partition: Option<Value>,
}

pub async fn set_quota(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<QuotaBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    // The peer clamps the percentage rather than refusing it.
    let limit_percent = b.limit_percent.unwrap_or(100).clamp(50, 100);
    let week_partition_days = match &b.week_partition {
        None | Some(Value::Null) => 0,
        Some(Value::String(s)) if s == "off" || s == "0" => 0,
        Some(Value::String(s)) if s == "5" => 5,
        Some(Value::String(s)) if s == "7" => 7,
        Some(Value::Number(n)) if matches!(n.as_u64(), Some(0 | 5 | 7)) => {
            n.as_u64().map_or(0, |v| v as u32)
        }
        Some(_) => {
            return Err(ApiError::invalid_field(
                "week_partition",
                "week_partition must be off, 0, 5 or 7",
            ));
        }
    };
    let res = state
        .clients()
        .usage()
        .set_quota_policy(caller.request(
            &state,
            SetQuotaPolicyRequest {
                policy: Some(QuotaPolicy {
                    hard_fail: b.hard_fail.0,
                    limit_percent,
                    week_partition_days,
                }),
            },
        ))
        .await?
        .into_inner();
    state.policy_cache().invalidate().await;
    Ok(ok(quota_json(&res.policy.unwrap_or_default())))
}
