//! `/api/v1/codex-auth`: the canonical auth.json's status for operators (claims decoded from its
//! tokens, expiry, the server's refresh, custody), never its tokens; "refresh now"; settings.

use axum::extract::State;
use axum::response::Response;
use codex_central_proto::auth::v1::{
    CodexAuthSettings, GetCodexAuthSettingsRequest, GetCodexAuthStatusRequest,
    RefreshCodexAuthRequest, RefreshTokenCustody, UpdateCodexAuthSettingsRequest,
    ValidateCodexAuthRequest,
};
use serde::Deserialize;
use serde_json::json;

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Json, RawBody, lenient_json};
use crate::plumbing::views::{codex_auth_json, custody_name};
use crate::{ApiError, GatewayState};

pub async fn status(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let summary = state
        .clients()
        .codex_auth()
        .get_codex_auth_status(caller.request(&state, GetCodexAuthStatusRequest {}))
        .await?
        .into_inner()
        .summary
        .unwrap_or_default();
    Ok(ok(codex_auth_json(&summary)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// Refresh even when nothing is due, or with a token the server blocked.
    #[serde(default)]
    force: bool,
}

/// `POST /api/v1/codex-auth/refresh` `{force?}`: one refresh decision now (exactly once across
/// replicas); `outcome` says what happened, `status` is the refreshed view.
pub async fn refresh(
    State(state): State<GatewayState>,
    caller: Caller,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let body: RefreshBody = lenient_json(&raw, "request body is not valid JSON")?;
    let force = body.force;
    let res = state
        .clients()
        .codex_auth()
        .refresh_codex_auth(caller.request(&state, RefreshCodexAuthRequest { force }))
        .await?
        .into_inner();
    Ok(ok(json!({
        "refreshed": res.refreshed,
        "outcome": res.outcome,
        "status": codex_auth_json(&res.summary.unwrap_or_default()),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidateBody {
    #[serde(default = "yes")]
    run_probe: bool,
}

impl Default for ValidateBody {
    fn default() -> Self {
        ValidateBody { run_probe: true }
    }
}

fn yes() -> bool {
    true
}

/// `POST /api/v1/codex-auth/validate` `{run_probe?}` (default true): decodes the claims and runs
/// the configured probe now; `validation` is the result, `status` the whole view.
pub async fn validate(
    State(state): State<GatewayState>,
    caller: Caller,
    RawBody(raw): RawBody,
) -> Result<Response, ApiError> {
    let body: ValidateBody = lenient_json(&raw, "request body is not valid JSON")?;
    let res = state
        .clients()
        .codex_auth()
        .validate_codex_auth(caller.request(
            &state,
            ValidateCodexAuthRequest {
                run_probe: body.run_probe,
            },
        ))
        .await?
        .into_inner();
    let status = codex_auth_json(&res.summary.unwrap_or_default());
    Ok(ok(json!({
        "validation": status["validation"].clone(),
        "status": status,
    })))
}

fn settings_json(s: Option<CodexAuthSettings>) -> serde_json::Value {
    let s = s.unwrap_or_default();
    json!({ "refresh_token_custody": custody_name(s.refresh_token_custody()) })
}

/// `GET /api/v1/codex-auth/settings`.
pub async fn settings(
    State(state): State<GatewayState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .codex_auth()
        .get_codex_auth_settings(caller.request(&state, GetCodexAuthSettingsRequest {}))
        .await?
        .into_inner();
    Ok(ok(settings_json(res.settings)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// `server` (hosts get a placeholder refresh token) or `shared`.
    refresh_token_custody: String,
}

/// `PUT /api/v1/codex-auth/settings` `{refresh_token_custody}`.
pub async fn put_settings(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<SettingsBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let custody = match b.refresh_token_custody.as_str() {
        "server" => RefreshTokenCustody::Server,
        "shared" => RefreshTokenCustody::Shared,
        _ => {
            return Err(ApiError::invalid_field(
                "refresh_token_custody",
                "must be server or shared",
            ));
        }
    };
    let res = state
        .clients()
        .codex_auth()
        .update_codex_auth_settings(caller.request(
            &state,
            UpdateCodexAuthSettingsRequest {
                settings: Some(CodexAuthSettings {
                    refresh_token_custody: custody as i32,
                }),
            },
        ))
        .await
        .map_err(|e| ApiError::from(e).with_field_prefix("settings.", ""))?
        .into_inner();
    Ok(ok(settings_json(res.settings)))
}
