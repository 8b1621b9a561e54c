//! Personal tokens on `/v1`: the token's policy (model allow-list, requests and tokens per
//! minute, counted in the database so every replica shares them) and the caller's own upstream
//! key (BYOK) with a silent fallback to the provider's shared key.

use axum::http::StatusCode;
use axum::http::request::Parts;
use codex_central_common::crypto::TokenKind;
use codex_central_common::{Principal, PrincipalKind};
use codex_central_proto::auth::v1::{
    BudgetPeriod, ResolveByokKeyRequest, ResolvePersonalTokenRequest, TokenPolicy,
};
use codex_central_proto::usage::v1::{CheckGatewayLimitsRequest, GatewayLimits, SpendPeriod};

use super::V1Error;
use crate::GatewayState;
use crate::plumbing::caller::{Caller, client_ip};

/// A personal token's identity and policy.
#[derive(Debug, Clone)]
pub struct Grant {
    pub token_id: String,
    pub policy: TokenPolicy,
}

pub fn is_personal_token(token: &str) -> bool {
    TokenKind::of_token(token) == Some(TokenKind::Personal)
}

fn unauthorized() -> V1Error {
    V1Error::new(
        StatusCode::UNAUTHORIZED,
        "authentication_error",
        "Incorrect API key provided: the token is unknown, revoked or expired.",
    )
    .code("invalid_api_key")
}

/// Resolves an `m2c_` bearer: 401 in OpenAI's shape when it is unknown, revoked or expired.
pub async fn resolve(
    state: &GatewayState,
    parts: &Parts,
    token: &str,
) -> Result<(Caller, Option<Grant>), V1Error> {
    let anonymous = Caller::anonymous(client_ip(parts, state));
    let msg = ResolvePersonalTokenRequest {
        secret: token.to_string(),
    };
    let res = state.hot().resolve_personal_token(&anonymous, msg).await;
    let res = match res {
        Ok(r) => r,
        Err(s) if s.code() == tonic::Code::Unauthenticated => return Err(unauthorized()),
        Err(s) => return Err(s.into()),
    };
    let principal = res
        .principal
        .as_ref()
        .map(Principal::try_from)
        .transpose()?
        .ok_or_else(unauthorized)?;
    let token = res.token.ok_or_else(unauthorized)?;
    Ok((
        Caller {
            principal: Some(principal),
            client_ip: anonymous.client_ip,
            session: None,
        },
        Some(Grant {
            token_id: token.id,
            policy: token.policy.unwrap_or_default(),
        }),
    ))
}

impl Grant {
    pub fn allows_model(&self, model: &str) -> bool {
        self.policy.allowed_models.is_empty()
            || self.policy.allowed_models.iter().any(|m| m == model)
    }

    /// Refuses a model outside the allow-list (403), and a call over the token's per-minute
    /// limits or once its spend budget for the period is used up (429 with `Retry-After`).
    pub async fn admit(
        &self,
        state: &GatewayState,
        caller: &Caller,
        model: &str,
    ) -> Result<(), V1Error> {
        if !self.allows_model(model) {
            return Err(V1Error::new(
                StatusCode::FORBIDDEN,
                "permission_error",
                format!("this token may not use the model {model}"),
            )
            .code("model_not_allowed"));
        }
        let p = &self.policy;
        let budget = p.budget_period() != BudgetPeriod::Unspecified && p.budget_micros.is_some();
        if p.requests_per_minute.is_none() && p.tokens_per_minute.is_none() && !budget {
            return Ok(());
        }
        let msg = CheckGatewayLimitsRequest {
            token_id: self.token_id.clone(),
            user_id: caller
                .principal
                .as_ref()
                .map(|p| p.id.clone())
                .unwrap_or_default(),
            model: model.to_string(),
            limits: Some(GatewayLimits {
                requests_per_minute: p.requests_per_minute,
                tokens_per_minute: p.tokens_per_minute,
                budget_period: match p.budget_period() {
                    BudgetPeriod::Unspecified => SpendPeriod::Unspecified,
                    BudgetPeriod::Day => SpendPeriod::Day,
                    BudgetPeriod::Week => SpendPeriod::Week,
                    BudgetPeriod::Month => SpendPeriod::Month,
                } as i32,
                budget_micros: p.budget_micros,
                budget_alert_percent: p.budget_alert_percent,
            }),
        };
        let res = state.hot().check_gateway_limits(caller, msg).await?;
        if res.allowed {
            return Ok(());
        }
        let reason = if res.reason.is_empty() {
            "Rate limit reached for this token".to_string()
        } else {
            res.reason
        };
        // OpenAI's own answer for spent credit is 429 insufficient_quota; clients tell it
        // apart from a rate limit (which is worth retrying soon).
        let mut e = if res.budget_exhausted {
            V1Error::new(StatusCode::TOO_MANY_REQUESTS, "insufficient_quota", reason)
                .code("insufficient_quota")
        } else {
            V1Error::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_error", reason)
                .code("rate_limit_exceeded")
        };
        e.retry_after_secs = Some(u64::from(res.retry_after_seconds.max(1)));
        Err(e)
    }
}

/// The key for a call: the signed-in person's own key for the provider when they stored a
/// usable one, else the shared key. `true` when the person's key is used. Lookup failures fall
/// back silently (and are logged): a broken BYOK key must not stop someone's work.
pub async fn upstream_key(
    state: &GatewayState,
    caller: &Caller,
    provider: &str,
    shared: &str,
) -> (String, bool) {
    let user = match &caller.principal {
        Some(p) if p.kind == PrincipalKind::User => p.id.clone(),
        _ => return (shared.to_string(), false),
    };
    let msg = ResolveByokKeyRequest {
        user_id: user,
        provider_id: provider.to_string(),
    };
    let res = state.hot().resolve_byok_key(caller, msg).await;
    match res {
        Ok(r) => {
            if r.found && !r.key.is_empty() {
                (r.key, true)
            } else {
                (shared.to_string(), false)
            }
        }
        Err(e) => {
            tracing::warn!(error = %e.message(), "BYOK lookup failed; using the shared key");
            (shared.to_string(), false)
        }
    }
}
