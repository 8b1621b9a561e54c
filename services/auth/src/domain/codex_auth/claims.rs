//! What the canonical document's tokens say about themselves: the JWT claims Codex reads
//! (signatures are not verified, as Codex does not verify them either), and whether the server
//! should refresh the tokens now (SPEC §7).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

/// The namespace of OpenAI's own claims in ChatGPT tokens.
const AUTH_NAMESPACE: &str = "https://api.openai.com/auth";
const PROFILE_NAMESPACE: &str = "https://api.openai.com/profile";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Neither an API key nor ChatGPT tokens (should not be stored).
    #[default]
    Unknown,
    /// `OPENAI_API_KEY`: nothing to refresh.
    ApiKey,
    /// ChatGPT OAuth tokens.
    ChatGpt,
}

/// The claims shown to operators. Identifiers are kept whole here; views mask them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    pub mode: Mode,
    pub email: String,
    pub plan_type: String,
    pub account_id: String,
    pub chatgpt_user_id: String,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub id_expires_at: Option<DateTime<Utc>>,
    /// A refresh token is present (without one the server cannot refresh).
    pub refreshable: bool,
}

/// The payload of a JWT (`header.payload.signature`), unverified; `None` when `token` is not
/// one.
pub fn jwt_payload(token: &str) -> Option<Value> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or_default().to_string()
}

fn expiry(payload: Option<&Value>) -> Option<DateTime<Utc>> {
    let exp = payload?.get("exp")?;
    let secs = exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64))?;
    DateTime::from_timestamp(secs, 0)
}

/// Decodes the claims of an `auth.json` text (the canonical copy is always valid JSON).
pub fn claims(auth_json: &str) -> Claims {
    let Ok(doc) = serde_json::from_str::<Value>(auth_json) else {
        return Claims::default();
    };
    let tokens = doc.get("tokens").filter(|t| t.is_object());
    let access = tokens
        .and_then(|t| t.get("access_token"))
        .and_then(Value::as_str);
    let id = tokens
        .and_then(|t| t.get("id_token"))
        .and_then(Value::as_str);
    let refresh = tokens
        .and_then(|t| t.get("refresh_token"))
        .and_then(Value::as_str);
    let access_payload = access.and_then(jwt_payload);
    let id_payload = id.and_then(jwt_payload);
    let has_key = doc
        .get("OPENAI_API_KEY")
        .and_then(Value::as_str)
        .is_some_and(|k| !k.is_empty());
    let mode = if access.is_some_and(|a| !a.is_empty()) {
        Mode::ChatGpt
    } else if has_key {
        Mode::ApiKey
    } else {
        Mode::Unknown
    };
    // The id token carries the user's claims; the access token has the same namespace.
    let auth = [id_payload.as_ref(), access_payload.as_ref()]
        .into_iter()
        .flatten()
        .find_map(|p| p.get(AUTH_NAMESPACE).filter(|a| a.is_object()));
    let email = id_payload
        .as_ref()
        .and_then(|p| p.get("email"))
        .or_else(|| {
            access_payload
                .as_ref()
                .and_then(|p| p.get(PROFILE_NAMESPACE))
                .and_then(|p| p.get("email"))
        });
    let account_id = text(auth.and_then(|a| a.get("chatgpt_account_id")));
    Claims {
        mode,
        email: text(email),
        plan_type: text(auth.and_then(|a| a.get("chatgpt_plan_type"))),
        account_id: if account_id.is_empty() {
            text(tokens.and_then(|t| t.get("account_id")))
        } else {
            account_id
        },
        chatgpt_user_id: text(
            auth.and_then(|a| a.get("chatgpt_user_id").or_else(|| a.get("user_id"))),
        ),
        access_expires_at: expiry(access_payload.as_ref()),
        id_expires_at: expiry(id_payload.as_ref()),
        refreshable: mode == Mode::ChatGpt && refresh.is_some_and(|r| !r.is_empty()),
    }
}

/// When the server refreshes: this long before the access token expires, or when the last
/// refresh is this old. Codex refreshes on its own about 5 minutes before expiry, so the margin
/// stays well above that and the server is always first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    pub margin: TimeDelta,
    pub interval: TimeDelta,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            margin: TimeDelta::minutes(30),
            interval: TimeDelta::days(8),
        }
    }
}

/// Why a refresh is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// The access token expires (or expired) at this instant, within the margin.
    Expiring(DateTime<Utc>),
    /// The last refresh is older than the interval.
    Stale,
    /// The access token carries no readable expiry: refresh rather than guess.
    UnknownExpiry,
}

/// When the next refresh is planned: the earlier of expiry minus the margin and the last
/// refresh plus the interval; `None` for documents the server never refreshes (API keys,
/// no refresh token).
pub fn next_refresh(
    c: &Claims,
    last_refresh: DateTime<Utc>,
    policy: RefreshPolicy,
) -> Option<DateTime<Utc>> {
    if !c.refreshable {
        return None;
    }
    let by_age = last_refresh + policy.interval;
    Some(match c.access_expires_at {
        Some(exp) => by_age.min(exp - policy.margin),
        None => last_refresh,
    })
}

/// Whether the server should refresh now, and why.
pub fn refresh_due(
    c: &Claims,
    last_refresh: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: RefreshPolicy,
) -> Option<Due> {
    if !c.refreshable {
        return None;
    }
    match c.access_expires_at {
        None => Some(Due::UnknownExpiry),
        Some(exp) if exp - policy.margin <= now => Some(Due::Expiring(exp)),
        Some(_) if last_refresh + policy.interval <= now => Some(Due::Stale),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(payload: Value) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.sig", enc(&json!({"alg": "none"})), enc(&payload))
    }

    fn document(access_exp: i64, refresh: &str) -> String {
        json!({
            "OPENAI_API_KEY": null,
            "tokens": {
                "id_token": jwt(json!({"email": "ops@example.com", "exp": access_exp,
                    "https://api.openai.com/auth": {"chatgpt_account_id": "acct-1", "chatgpt_plan_type": "pro", "chatgpt_user_id": "user-9"}})),
                "access_token": jwt(json!({"exp": access_exp})),
                "refresh_token": refresh,
                "account_id": "acct-1"
            },
            "last_refresh": "2026-12-01T00:00:00Z"
        })
        .to_string()
    }

    #[test]
    fn chatgpt_claims_are_read_from_unsigned_tokens() {
        let c = claims(&document(1_800_000_000, "rt-0123456789abcdefghijklmnop"));
        assert_eq!(c.mode, Mode::ChatGpt);
        assert_eq!(c.email, "ops@example.com");
        assert_eq!(c.plan_type, "pro");
        assert_eq!(c.account_id, "acct-1");
        assert_eq!(c.chatgpt_user_id, "user-9");
        assert_eq!(
            c.access_expires_at,
            DateTime::from_timestamp(1_800_000_000, 0)
        );
        assert!(c.refreshable);
    }

    #[test]
    fn api_keys_and_junk_are_not_refreshable() {
        let key = claims(
            r#"{"OPENAI_API_KEY":"sk-0123456789abcdefghijkl","last_refresh":"2026-12-01T00:00:00Z"}"#,
        );
        assert_eq!(key.mode, Mode::ApiKey);
        assert!(!key.refreshable);
        let no_refresh = claims(&document(1_800_000_000, ""));
        assert!(!no_refresh.refreshable);
        assert_eq!(claims("not json"), Claims::default());
        assert_eq!(jwt_payload("a.b"), None);
        assert_eq!(jwt_payload("a.!!!.c"), None);
        assert_eq!(
            jwt_payload(&format!("x.{}.y", URL_SAFE_NO_PAD.encode("[1]"))),
            None
        );
    }

    #[test]
    fn the_refresh_decision_table() {
        let policy = RefreshPolicy::default();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let recent = now - TimeDelta::days(1);
        let at = |exp: DateTime<Utc>| {
            claims(&document(exp.timestamp(), "rt-0123456789abcdefghijklmnop"))
        };
        // Far from expiry, refreshed recently: nothing to do.
        assert_eq!(
            refresh_due(&at(now + TimeDelta::hours(6)), recent, now, policy),
            None
        );
        // Within the 30-minute margin, or already expired.
        let soon = now + TimeDelta::minutes(20);
        assert_eq!(
            refresh_due(&at(soon), recent, now, policy),
            Some(Due::Expiring(soon))
        );
        let past = now - TimeDelta::minutes(1);
        assert_eq!(
            refresh_due(&at(past), recent, now, policy),
            Some(Due::Expiring(past))
        );
        // Exactly at the margin counts.
        let edge = now + TimeDelta::minutes(30);
        assert_eq!(
            refresh_due(&at(edge), recent, now, policy),
            Some(Due::Expiring(edge))
        );
        // Old last_refresh even with a fresh token.
        let old = now - TimeDelta::days(8);
        assert_eq!(
            refresh_due(&at(now + TimeDelta::hours(6)), old, now, policy),
            Some(Due::Stale)
        );
        // No readable expiry: refresh.
        let mut unreadable = at(now + TimeDelta::hours(6));
        unreadable.access_expires_at = None;
        assert_eq!(
            refresh_due(&unreadable, recent, now, policy),
            Some(Due::UnknownExpiry)
        );
        // API keys and documents without a refresh token never.
        let key = claims(r#"{"OPENAI_API_KEY":"sk-0123456789abcdefghijkl"}"#);
        assert_eq!(refresh_due(&key, old, now, policy), None);
        assert_eq!(next_refresh(&key, old, policy), None);
        // The plan: the earlier of expiry - margin and last_refresh + interval.
        let c = at(now + TimeDelta::hours(6));
        assert_eq!(
            next_refresh(&c, recent, policy),
            Some(now + TimeDelta::hours(6) - TimeDelta::minutes(30))
        );
        assert_eq!(
            next_refresh(&c, old - TimeDelta::days(1), policy),
            Some(old - TimeDelta::days(1) + TimeDelta::days(8))
        );
    }
}
