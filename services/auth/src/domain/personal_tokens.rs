//! Personal API tokens: `m2c_<64 hex>` (mimo2codex's format), shown once, stored as SHA-256,
//! each with an optional policy the gateway enforces (models, expiry, rpm, tpm, budget).

use std::time::Duration;

use codex_central_common::crypto::{
    Secret, TokenKind, generate_token, token_digest, token_display_prefix,
};
use codex_central_store::audit::{self, NewAuditEvent};
use codex_central_store::entities::personal_tokens::Model;
use codex_central_store::{Store, now_ms, personal_tokens};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::service_tokens::Actor;
use crate::{Error, Result};

const MAX_EXPIRY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// Active tokens one person may hold; more is a leak waiting to happen.
const MAX_ACTIVE_PER_USER: u64 = 100;
const MAX_MODELS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetPeriod {
    Day,
    Week,
    Month,
}

/// What a token may do. Everything optional; the default allows everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    pub allowed_models: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_minute: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_period: Option<BudgetPeriod>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_micros: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_alert_percent: Option<u32>,
}

fn invalid(field: &str, message: &str) -> Error {
    Error::invalid(field, message)
}

impl Policy {
    pub fn validate(mut self) -> Result<Self> {
        let mut models = Vec::new();
        for m in self.allowed_models.drain(..) {
            let m = m.trim().to_string();
            if m.is_empty() || m.len() > 128 || m.chars().any(char::is_control) {
                return Err(invalid(
                    "policy.allowed_models",
                    "each model must be 1-128 printable characters",
                ));
            }
            if !models.contains(&m) {
                models.push(m);
            }
        }
        if models.len() > MAX_MODELS {
            return Err(invalid(
                "policy.allowed_models",
                "at most 200 models may be listed",
            ));
        }
        self.allowed_models = models;
        if self.requests_per_minute == Some(0) {
            return Err(invalid(
                "policy.requests_per_minute",
                "requests_per_minute must be at least 1 (leave it out for no limit)",
            ));
        }
        if self.tokens_per_minute == Some(0) {
            return Err(invalid(
                "policy.tokens_per_minute",
                "tokens_per_minute must be at least 1 (leave it out for no limit)",
            ));
        }
        match (self.budget_period, self.budget_micros) {
            (Some(_), Some(b)) if b > 0 => {}
            (None, None) => {}
            (Some(_), _) | (None, Some(_)) => {
                return Err(invalid(
                    "policy.budget_micros",
                    "a budget needs both budget_period and a positive budget_micros",
                ));
            }
        }
        if let Some(p) = self.budget_alert_percent
            && !(1..=100).contains(&p)
        {
            return Err(invalid(
                "policy.budget_alert_percent",
                "budget_alert_percent must be between 1 and 100",
            ));
        }
        Ok(self)
    }

    pub fn allows_model(&self, model: &str) -> bool {
        self.allowed_models.is_empty() || self.allowed_models.iter().any(|m| m == model)
    }
}

pub fn policy_of(row: &Model) -> Policy {
    serde_json::from_str(&row.policy).unwrap_or_default()
}

pub fn status(row: &Model, now: i64) -> &'static str {
    if row.revoked_at.is_some() {
        "revoked"
    } else if row.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    }
}

pub struct Created {
    pub token: Model,
    pub secret: Secret<String>,
}

fn name_or_generated(name: &str, now: i64) -> Result<String> {
    let name = name.trim();
    if name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            "name must be at most 128 printable characters",
        ));
    }
    if name.is_empty() {
        let at = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
        return Ok(format!("token-{}", at.format("%Y%m%d-%H%M%S")));
    }
    Ok(name.to_string())
}

fn event(actor: &Actor, action: &str, token: &Model) -> NewAuditEvent {
    actor
        .event(action, format!("personal_token:{}", token.id))
        .details(json!({"user": token.user_id, "name": token.name, "prefix": token.prefix}))
}

pub async fn create(
    store: &Store,
    actor: &Actor,
    user_id: &str,
    name: &str,
    expires_in: Option<Duration>,
    policy: Policy,
) -> Result<Created> {
    let now = now_ms();
    let name = name_or_generated(name, now)?;
    let policy = policy.validate()?;
    if let Some(ttl) = expires_in
        && (ttl.is_zero() || ttl > MAX_EXPIRY)
    {
        return Err(invalid(
            "expires_in_seconds",
            "expires_in_seconds must be between 1 second and 10 years",
        ));
    }
    if personal_tokens::count_active_for_user(store, user_id).await? >= MAX_ACTIVE_PER_USER {
        return Err(Error::from(codex_central_store::Error::Conflict(
            "you already have 100 active tokens: revoke some first".into(),
        )));
    }
    let secret = generate_token(TokenKind::Personal)?;
    let txn = store.begin().await?;
    let token = personal_tokens::insert(
        &txn,
        Model {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_string(),
            name,
            prefix: token_display_prefix(secret.expose()),
            token_digest: token_digest(secret.expose()),
            created_at: now,
            expires_at: expires_in
                .map(|d| now + i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)),
            last_used_at: None,
            revoked_at: None,
            policy: serde_json::to_string(&policy)
                .map_err(|e| Error::invalid_argument(format!("policy: {e}")))?,
        },
    )
    .await?;
    audit::commit(txn, event(actor, "personal_token.create", &token)).await?;
    Ok(Created { token, secret })
}

pub async fn revoke(store: &Store, actor: &Actor, user_id: &str, id: &str) -> Result<Model> {
    let txn = store.begin().await?;
    let token = personal_tokens::revoke(&txn, user_id, id.trim(), now_ms()).await?;
    audit::commit(txn, event(actor, "personal_token.revoke", &token)).await?;
    Ok(token)
}

pub async fn set_policy(
    store: &Store,
    actor: &Actor,
    user_id: &str,
    id: &str,
    policy: Policy,
) -> Result<Model> {
    let policy = policy.validate()?;
    let token = personal_tokens::get(store.db(), id.trim()).await?;
    if token.user_id != user_id {
        return Err(Error::from(codex_central_store::Error::NotFound(
            "Token not found".into(),
        )));
    }
    let text = serde_json::to_string(&policy)
        .map_err(|e| Error::invalid_argument(format!("policy: {e}")))?;
    let txn = store.begin().await?;
    let token = personal_tokens::set_policy(&txn, &token.id, text).await?;
    audit::commit(txn, event(actor, "personal_token.policy", &token)).await?;
    Ok(token)
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn policies_are_normalised_and_bounded() {
        let p = Policy {
            allowed_models: vec![" gpt-5 ".into(), "gpt-5".into(), "o3".into()],
            ..Policy::default()
        }
        .validate()
        .unwrap();
        assert_eq!(p.allowed_models, vec!["gpt-5", "o3"]);
        let field = |p: Policy| p.validate().unwrap_err().fields()[0].field.clone();
        assert_eq!(
            field(Policy {
                allowed_models: vec!["".into()],
                ..Policy::default()
            }),
            "policy.allowed_models"
        );
        assert_eq!(
            field(Policy {
                allowed_models: (0..=MAX_MODELS).map(|i| format!("m{i}")).collect(),
                ..Policy::default()
            }),
            "policy.allowed_models"
        );
        assert_eq!(
            field(Policy {
                requests_per_minute: Some(0),
                ..Policy::default()
            }),
            "policy.requests_per_minute"
        );
    }
}
