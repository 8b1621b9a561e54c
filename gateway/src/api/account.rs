//! `/api/v1/account/...`: the caller's own tokens and upstream keys, and the registration
//! setting (admin). Cookie callers send `X-CSRF-Token` on changes (checked by [`Caller`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use codex_central_common::Error;
use codex_central_proto::auth::v1::{
    BudgetPeriod, ByokKey, ByokKeyStatus, CreatePersonalTokenRequest, DeleteByokKeyRequest,
    GetRegistrationPolicyRequest, ListByokKeysRequest, ListPersonalTokensRequest, PersonalToken,
    PersonalTokenStatus, RegistrationPolicy, RevokePersonalTokenRequest, SetByokKeyRequest,
    SetRegistrationPolicyRequest, TokenPolicy, UpdatePersonalTokenPolicyRequest, WhoAmIRequest,
};
use codex_central_proto::common::v1::PageRequest;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::{ok, ok_with};
use crate::plumbing::extract::Q;
use crate::plumbing::extract::{Json, Path};
use crate::plumbing::flex::FlexBool;
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

fn policy_json(p: Option<&TokenPolicy>) -> Value {
    let Some(p) = p else {
        return json!({});
    };
    let period = match BudgetPeriod::try_from(p.budget_period) {
        Ok(BudgetPeriod::Day) => json!("day"),
        Ok(BudgetPeriod::Week) => json!("week"),
        Ok(BudgetPeriod::Month) => json!("month"),
        _ => Value::Null,
    };
    json!({
        "allowed_models": p.allowed_models,
        "requests_per_minute": p.requests_per_minute,
        "tokens_per_minute": p.tokens_per_minute,
        "budget_period": period,
        "budget_micros": p.budget_micros,
        "budget_alert_percent": p.budget_alert_percent,
    })
}

/// A token as the API shows it: the policy both flat (`models`, `rpm`, `tpm`, `budget`, the
/// mimo2codex-style names) and nested under `policy`.
pub(crate) fn token_json(t: &PersonalToken) -> Value {
    let status = match PersonalTokenStatus::try_from(t.status) {
        Ok(PersonalTokenStatus::Expired) => "expired",
        Ok(PersonalTokenStatus::Revoked) => "revoked",
        _ => "active",
    };
    let policy = policy_json(t.policy.as_ref());
    let budget = match (&policy["budget_period"], &policy["budget_micros"]) {
        (Value::String(period), Value::Number(micros)) => json!({
            "period": period,
            "micros": micros,
            "alert_percent": policy["budget_alert_percent"],
        }),
        _ => Value::Null,
    };
    json!({
        "id": t.id,
        "name": t.name,
        "prefix": t.prefix,
        "status": status,
        "created_at": rfc3339(t.created_at.as_ref()),
        "expires_at": rfc3339(t.expires_at.as_ref()),
        "last_used_at": rfc3339(t.last_used_at.as_ref()),
        "revoked_at": rfc3339(t.revoked_at.as_ref()),
        "models": policy["allowed_models"],
        "rpm": policy["requests_per_minute"],
        "tpm": policy["tokens_per_minute"],
        "budget": budget,
        "policy": policy,
    })
}

fn key_json(k: &ByokKey) -> Value {
    json!({
        "provider": k.provider_id,
        "masked": k.masked_suffix,
        "status": if k.status == ByokKeyStatus::NeedsReentry as i32 { "needs_reentry" } else { "ok" },
        "created_at": rfc3339(k.created_at.as_ref()),
        "updated_at": rfc3339(k.updated_at.as_ref()),
    })
}

/// `GET /api/v1/account`: who is signed in, and the CSRF token a cookie caller needs.
pub async fn get(State(state): State<GatewayState>, caller: Caller) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .identity()
        .who_am_i(caller.request(&state, WhoAmIRequest {}))
        .await?
        .into_inner();
    let p = caller.principal.as_ref();
    Ok(ok(json!({
        "user": p.map(|p| json!({
            "id": p.id,
            "username": p.name,
            "kind": p.kind_name(),
            "role": match p.role {
                codex_central_common::Role::Admin => "admin",
                codex_central_common::Role::ReadOnly => "read_only",
                codex_central_common::Role::Host => "host",
                codex_central_common::Role::Member => "member",
            },
        })),
        "auth_mode": res.auth_mode,
        "csrf_token": caller.session.as_ref().map(|s| s.csrf.clone()),
    })))
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    include_revoked: Option<FlexBool>,
    page_size: Option<u32>,
    page_token: Option<String>,
}

pub async fn list_tokens(
    State(state): State<GatewayState>,
    caller: Caller,
    Q(q): Q<ListQuery>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .tokens()
        .list_personal_tokens(caller.request(
            &state,
            ListPersonalTokensRequest {
                page: Some(PageRequest {
                    page_size: q.page_size.unwrap_or(0),
                    page_token: q.page_token.unwrap_or_default(),
                }),
                user_id: String::new(),
                include_revoked: q.include_revoked.map(|f| f.0).unwrap_or(false),
            },
        ))
        .await?
        .into_inner();
    let tokens: Vec<Value> = res.tokens.iter().map(token_json).collect();
    Ok(ok(json!({
        "tokens": tokens,
        "next_page_token": (!res.next_page_token.is_empty()).then_some(res.next_page_token),
    })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    #[serde(default)]
    allowed_models: Vec<String>,
    requests_per_minute: Option<u32>,
    tokens_per_minute: Option<u64>,
    budget_period: Option<String>,
    budget_micros: Option<i64>,
    budget_alert_percent: Option<u32>,
}

fn policy_proto(p: PolicyBody) -> Result<TokenPolicy, ApiError> {
    let period = match p.budget_period.as_deref() {
        None | Some("") => BudgetPeriod::Unspecified,
        Some("day") => BudgetPeriod::Day,
        Some("week") => BudgetPeriod::Week,
        Some("month") => BudgetPeriod::Month,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "policy.budget_period",
                "budget_period must be day, week or month",
            ));
        }
    };
    Ok(TokenPolicy {
        allowed_models: p.allowed_models,
        requests_per_minute: p.requests_per_minute,
        tokens_per_minute: p.tokens_per_minute,
        budget_period: period as i32,
        budget_micros: p.budget_micros,
        budget_alert_percent: p.budget_alert_percent,
    })
}

/// `{name?, models?, expires_at?, rpm?, tpm?, budget?}` (or the same policy nested under
/// `policy`, and `expires_in_seconds` instead of `expires_at`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    #[serde(default)]
    name: String,
    expires_in_seconds: Option<i64>,
    /// RFC 3339 time or Unix seconds.
    expires_at: Option<Value>,
    models: Option<Vec<String>>,
    rpm: Option<u32>,
    tpm: Option<u64>,
    budget: Option<BudgetBody>,
    policy: Option<PolicyBody>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BudgetBody {
    period: String,
    micros: i64,
    alert_percent: Option<u32>,
}

/// Seconds from now until `expires_at`.
fn expires_in(at: &Value) -> Result<i64, ApiError> {
    let bad = || {
        ApiError::invalid_field(
            "expires_at",
            "expires_at must be a future RFC 3339 time or Unix seconds",
        )
    };
    let at = match at {
        Value::Number(n) => n.as_i64().ok_or_else(bad)?,
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
            .map_err(|_| bad())?
            .timestamp(),
        _ => return Err(bad()),
    };
    let secs = at - chrono::Utc::now().timestamp();
    if secs <= 0 {
        return Err(bad());
    }
    Ok(secs)
}

pub async fn create_token(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<CreateBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let flat =
        body.models.is_some() || body.rpm.is_some() || body.tpm.is_some() || body.budget.is_some();
    if flat && body.policy.is_some() {
        return Err(ApiError::invalid_field(
            "policy",
            "send the policy either flat (models, rpm, tpm, budget) or as policy, not both",
        ));
    }
    let policy = match body.policy {
        Some(p) => Some(p),
        None if flat => {
            let budget = body.budget;
            Some(PolicyBody {
                allowed_models: body.models.unwrap_or_default(),
                requests_per_minute: body.rpm,
                tokens_per_minute: body.tpm,
                budget_period: budget.as_ref().map(|b| b.period.clone()),
                budget_micros: budget.as_ref().map(|b| b.micros),
                budget_alert_percent: budget.and_then(|b| b.alert_percent),
            })
        }
        None => None,
    };
    let expires_in_seconds = match (&body.expires_at, body.expires_in_seconds) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid_field(
                "expires_at",
                "send expires_at or expires_in_seconds, not both",
            ));
        }
        (Some(at), None) => Some(expires_in(at)?),
        (None, secs) => secs,
    };
    let res = state
        .clients()
        .tokens()
        .create_personal_token(caller.request(
            &state,
            CreatePersonalTokenRequest {
                name: body.name,
                expires_in_seconds,
                policy: policy.map(policy_proto).transpose()?,
            },
        ))
        .await?
        .into_inner();
    let mut data = res
        .token
        .as_ref()
        .map(token_json)
        .unwrap_or_else(|| json!({}));
    if let Value::Object(map) = &mut data {
        map.insert("token".into(), json!(res.secret));
    }
    Ok(ok_with(StatusCode::CREATED, data))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyUpdate {
    policy: PolicyBody,
}

pub async fn update_token(
    State(state): State<GatewayState>,
    caller: Caller,
    path: Result<Path<String>, ApiError>,
    body: Result<Json<PolicyUpdate>, ApiError>,
) -> Result<Response, ApiError> {
    let Path(id) = path?;
    let Json(body) = body?;
    let res = state
        .clients()
        .tokens()
        .update_personal_token_policy(caller.request(
            &state,
            UpdatePersonalTokenPolicyRequest {
                id,
                policy: Some(policy_proto(body.policy)?),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(
        json!({"personal_token": res.token.as_ref().map(token_json)}),
    ))
}

pub async fn revoke_token(
    State(state): State<GatewayState>,
    caller: Caller,
    path: Result<Path<String>, ApiError>,
) -> Result<Response, ApiError> {
    let Path(id) = path?;
    let res = state
        .clients()
        .tokens()
        .revoke_personal_token(caller.request(&state, RevokePersonalTokenRequest { id }))
        .await?
        .into_inner();
    Ok(ok(
        json!({"personal_token": res.token.as_ref().map(token_json)}),
    ))
}

pub async fn list_byok(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .byok()
        .list_byok_keys(caller.request(&state, ListByokKeysRequest {}))
        .await?
        .into_inner();
    let keys: Vec<Value> = res.keys.iter().map(key_json).collect();
    Ok(ok(json!({ "keys": keys })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    #[serde(alias = "key")]
    api_key: String,
}

pub async fn set_byok(
    State(state): State<GatewayState>,
    caller: Caller,
    path: Result<Path<String>, ApiError>,
    body: Result<Json<KeyBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Path(provider) = path?;
    let Json(body) = body?;
    let res = state
        .clients()
        .byok()
        .set_byok_key(caller.request(
            &state,
            SetByokKeyRequest {
                provider_id: provider,
                key: body.api_key,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({ "key": res.key.as_ref().map(key_json) })))
}

pub async fn delete_byok(
    State(state): State<GatewayState>,
    caller: Caller,
    path: Result<Path<String>, ApiError>,
) -> Result<Response, ApiError> {
    let Path(provider) = path?;
    state
        .clients()
        .byok()
        .delete_byok_key(caller.request(
            &state,
            DeleteByokKeyRequest {
                provider_id: provider,
            },
        ))
        .await?;
    Ok(ok(json!({ "deleted": true })))
}

pub async fn get_registration(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    match caller.principal.as_ref().map(|p| p.role) {
        Some(codex_central_common::Role::Admin | codex_central_common::Role::ReadOnly) => {}
        Some(_) => return Err(Error::permission_denied("admin access required").into()),
        None => return Err(Error::unauthenticated("authentication required").into()),
    }
    let res = state
        .clients()
        .users()
        .get_registration_policy(caller.request(&state, GetRegistrationPolicyRequest {}))
        .await?
        .into_inner();
    Ok(ok(json!({
        "open_registration": res.policy.is_some_and(|p| p.open_registration)
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationBody {
    open_registration: bool,
}

pub async fn set_registration(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<RegistrationBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let res = state
        .clients()
        .users()
        .set_registration_policy(caller.request(
            &state,
            SetRegistrationPolicyRequest {
                policy: Some(RegistrationPolicy {
                    open_registration: body.open_registration,
                }),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "open_registration": res.policy.is_some_and(|p| p.open_registration)
    })))
}
