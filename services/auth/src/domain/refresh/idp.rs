//! The OAuth token endpoint as Codex calls it: a JSON POST with Codex's client id and
//! `grant_type=refresh_token`, answered with new tokens or an error code Codex knows.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::codex_auth::NewTokens;
use crate::domain::oauth::http::bounded_body;

/// Codex's own values (contracts/codex-cli.md "Token refresh").
pub const CODEX_TOKEN_URL: &str = "https://auth.openai.com/oauth/token";
pub const CODEX_CLIENT_ID: &str = "app_EMoamEEZ73f0CkXaXp7hrann";

/// The longest one refresh call may take; an attempt older than this plus a grace period is
/// taken for interrupted.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Why the identity provider did not hand out new tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdpError {
    /// The refresh token is dead (expired, reused, revoked, or refused outright): retrying
    /// cannot help, operators must upload a new `auth.json`.
    Rejected { code: String, message: String },
    /// The endpoint could not be reached, or answered that it failed: the token was not
    /// spent, so it is retried with backoff.
    Unavailable { code: String, message: String },
    /// The request went out but no answer came back (timeout, connection lost): the token may
    /// have been spent, so it must not be sent again blindly.
    Unknown { code: String, message: String },
}

impl IdpError {
    pub fn code(&self) -> &str {
        match self {
            IdpError::Rejected { code, .. }
            | IdpError::Unavailable { code, .. }
            | IdpError::Unknown { code, .. } => code,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            IdpError::Rejected { message, .. }
            | IdpError::Unavailable { message, .. }
            | IdpError::Unknown { message, .. } => message,
        }
    }
}

#[derive(Serialize)]
struct RefreshRequest<'a> {
    client_id: &'a str,
    grant_type: &'static str,
    refresh_reason: &'static str,
    refresh_token: &'a str,
}

/// The answer's token fields; anything else it carries is ignored.
#[derive(Deserialize, Serialize)]
pub struct TokenAnswer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl TokenAnswer {
    pub fn tokens(self) -> NewTokens {
        let keep = |t: Option<String>| t.filter(|t| !t.is_empty());
        NewTokens {
            id_token: keep(self.id_token),
            access_token: keep(self.access_token),
            refresh_token: keep(self.refresh_token),
        }
    }
}

/// Spends `refresh_token` at `url`. The answer is returned as received (its token fields), to be
/// kept before anything else happens.
pub async fn refresh(
    http: &reqwest::Client,
    url: &str,
    client_id: &str,
    refresh_token: &str,
) -> Result<TokenAnswer, IdpError> {
    let res = http
        .post(url)
        .timeout(REQUEST_TIMEOUT)
        .json(&RefreshRequest {
            client_id,
            grant_type: "refresh_token",
            refresh_reason: "proactive_expiry",
            refresh_token,
        })
        .send()
        .await
        .map_err(|e| IdpError::Unavailable {
            code: "network".into(),
            // reqwest errors name the URL and the cause, never the body.
            message: format!("token endpoint unreachable: {}", describe(e)),
        })?;
    let status = res.status();
    let body = bounded_body(res).await.map_err(|e| IdpError::Unavailable {
        code: "network".into(),
        message: e.0,
    })?;
    if status.is_success() {
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|_| IdpError::Unavailable {
                code: "idp_unavailable".into(),
                message: format!("token endpoint answered {status} with unreadable JSON"),
            })?;
        if answer.access_token.as_deref().is_none_or(str::is_empty) {
            return Err(IdpError::Unavailable {
                code: "idp_unavailable".into(),
                message: "token endpoint answered without an access_token".into(),
            });
        }
        return Ok(answer);
    }
    Err(classify(status, &body))
}

/// Codex's reading of a failed refresh (`refresh_token_expired`, `_reused`, `_invalidated` are
/// final); other 4xx answers (but 408/429) are refusals too, 5xx and the rest are retried.
pub fn classify(status: reqwest::StatusCode, body: &[u8]) -> IdpError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = error_code(&json);
    let description = json
        .get("error_description")
        .or_else(|| json.get("error").and_then(|e| e.get("message")))
        .and_then(Value::as_str)
        .map(|d| d.chars().take(200).collect::<String>())
        .unwrap_or_default();
    let message = match (&code, description.is_empty()) {
        (Some(code), false) => format!("token endpoint answered {status}: {code}: {description}"),
        (Some(code), true) => format!("token endpoint answered {status}: {code}"),
        (None, _) => format!("token endpoint answered {status}"),
    };
    let known = code.as_deref().filter(|c| {
        matches!(
            *c,
            "refresh_token_expired" | "refresh_token_reused" | "refresh_token_invalidated"
        )
    });
    if let Some(code) = known {
        return IdpError::Rejected {
            code: code.to_string(),
            message,
        };
    }
    let retryable = status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
        || !status.is_client_error();
    if retryable {
        IdpError::Unavailable {
            code: "idp_unavailable".into(),
            message,
        }
    } else {
        IdpError::Rejected {
            code: "refresh_rejected".into(),
            message,
        }
    }
}

/// `{"error":{"code":…}}`, `{"error":"…"}` or `{"code":…}`, as Codex looks for it.
fn error_code(json: &Value) -> Option<String> {
    let code = match json.get("error") {
        Some(Value::Object(e)) => e.get("code").and_then(Value::as_str),
        Some(Value::String(e)) => Some(e.as_str()),
        _ => json.get("code").and_then(Value::as_str),
    }?;
    // Codes are identifiers; anything else is not echoed into logs and views.
    let clean = code
        .chars()
        .take(64)
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect::<String>();
    (!clean.is_empty()).then_some(clean)
}

/// The error and its causes, with the endpoint's host but not its path or query.
fn describe(e: reqwest::Error) -> String {
    let host = e
        .url()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    format!("{text} ({host})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    fn rejected(code: &str) -> bool {
        matches!(classify(StatusCode::UNAUTHORIZED, format!(r#"{{"error":{{"code":"{code}","message":"m"}}}}"#).as_bytes()), IdpError::Rejected { code: c, .. } if c == code)
    }

    #[test]
    fn codex_error_codes_are_final() {
        assert!(rejected("refresh_token_expired"));
        assert!(rejected("refresh_token_reused"));
        assert!(rejected("refresh_token_invalidated"));
        let flat = classify(
            StatusCode::BAD_REQUEST,
            br#"{"error":"refresh_token_reused","error_description":"already used"}"#,
        );
        assert_eq!(flat.code(), "refresh_token_reused");
        assert!(flat.message().contains("already used"));
    }

    #[test]
    fn other_refusals_and_outages() {
        let invalid = classify(StatusCode::BAD_REQUEST, br#"{"error":"invalid_grant"}"#);
        assert!(
            matches!(invalid, IdpError::Rejected { ref code, .. } if code == "refresh_rejected")
        );
        assert!(invalid.message().contains("invalid_grant"));
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::REQUEST_TIMEOUT,
        ] {
            assert!(
                matches!(classify(status, b"<html>"), IdpError::Unavailable { ref code, .. } if code == "idp_unavailable"),
                "{status}"
            );
        }
    }

    #[test]
    fn codes_are_sanitised() {
        let e = classify(
            StatusCode::UNAUTHORIZED,
            br#"{"code":"weird code\u001b[31m<script>"}"#,
        );
        assert_eq!(e.code(), "refresh_rejected");
        assert!(
            e.message().contains("weirdcode31mscript"),
            "{}",
            e.message()
        );
    }
}
