//! The server's own reading of the fleet account's ChatGPT quota, as the peer does it: a GET of
//! `<chatgpt_base_url>/wham/usage` with the canonical access token, stored as a quota snapshot
//! (source `server`) beside what hosts report.
//!
//! Upstream is asked at most once per [`COOLDOWN`] across replicas: an attempt first takes the
//! lease [`LEASE`] under a holder name of its own and never gives it back, so only an expired
//! lease can be taken again and its expiry is when the next attempt may run. A failed call
//! waits the cooldown too, so a broken token or an outage is not hammered.

use std::sync::Arc;
use std::time::Duration;

use codex_central_store::entities::quota_snapshots::Model as Snapshot;
use codex_central_store::{Store, leases, now_ms, quota_snapshots, settings};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::canonical::Vault;
use super::oauth::http::Http;
use crate::{Error, Result};

pub const LEASE: &str = "chatgpt_usage.poll";
pub const COOLDOWN: Duration = Duration::from_secs(300);
/// The peer's default (`CHATGPT_BASE_URL`).
pub const DEFAULT_BASE_URL: &str = "https://chatgpt.com/backend-api";
/// The last attempt, so a report without a poll can say how the last one went.
const RECORD_KEY: &str = "chatgpt_usage.last_poll";
/// The answer is a few hundred bytes; anything near this is not the usage endpoint.
const MAX_BODY: usize = 64 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The fleet's canonical account, as the quota snapshots name it.
const FLEET_ACCOUNT: &str = "";

#[derive(Debug, Clone)]
pub struct ChatGptUsageSettings {
    /// Without a trailing `/`.
    pub base_url: String,
    /// `None`: no background poll (admins still poll on demand).
    pub poll_every: Option<Duration>,
}

impl Default for ChatGptUsageSettings {
    fn default() -> Self {
        ChatGptUsageSettings {
            base_url: DEFAULT_BASE_URL.into(),
            poll_every: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Polled,
    Cooldown,
    NotApplicable,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Polled => "polled",
            Outcome::Cooldown => "cooldown",
            Outcome::NotApplicable => "not_applicable",
            Outcome::Failed => "failed",
        }
    }
}

/// What a poll (or a look without one) found. Times are Unix milliseconds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// An [`Outcome`] name; for a look without a poll the last attempt's, empty if none.
    pub outcome: String,
    pub message: String,
    pub polled_at: Option<i64>,
    pub next_eligible_at: Option<i64>,
}

/// The last attempt as recorded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
struct LastPoll {
    outcome: String,
    message: String,
    at: i64,
}

#[derive(Clone)]
pub struct ChatGptUsage(Arc<Inner>);

struct Inner {
    store: Store,
    vault: Vault,
    settings: ChatGptUsageSettings,
    http: reqwest::Client,
    holder: String,
}

impl ChatGptUsage {
    pub fn new(
        store: Store,
        vault: Vault,
        settings: ChatGptUsageSettings,
        holder: String,
    ) -> Result<Self> {
        // The sign-in client's settings suit this call too: no redirects (the token must not
        // follow one elsewhere), short timeouts.
        let http = Http::new()
            .map_err(|e| Error::internal(e.0))?
            .client()
            .clone();
        Ok(ChatGptUsage(Arc::new(Inner {
            store,
            vault,
            settings,
            http,
            holder,
        })))
    }

    pub fn settings(&self) -> &ChatGptUsageSettings {
        &self.0.settings
    }

    /// With `chatgpt_usage_poll_secs` set, polls on every replica at that interval; the lease
    /// lets one through per cooldown, and each replica waits from the last attempt anyone made,
    /// so the fleet polls about once per interval.
    pub fn spawn(&self) -> Option<tokio::task::JoinHandle<()>> {
        let every = self.0.settings.poll_every?;
        let me = self.clone();
        Some(tokio::spawn(async move {
            loop {
                match me.poll().await {
                    Ok(r) if r.outcome == Outcome::Failed.as_str() => {
                        tracing::warn!(message = %r.message, "ChatGPT usage poll failed");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "ChatGPT usage poll failed"),
                }
                tokio::time::sleep(me.wait_after(every).await).await;
            }
        }))
    }

    /// Until `every` after the last attempt anyone made (a second late, so its lease has
    /// expired by then).
    async fn wait_after(&self, every: Duration) -> Duration {
        let every_ms = millis(every);
        let last = leases::current(&self.0.store, LEASE)
            .await
            .ok()
            .flatten()
            .map(|l| l.acquired_at);
        let wait = last.map_or(every_ms, |at| at + every_ms + 1000 - now_ms());
        Duration::from_millis(u64::try_from(wait.clamp(1000, every_ms + 1000)).unwrap_or(1000))
    }

    /// The cooldown and the last attempt, without calling upstream.
    pub async fn report(&self) -> Result<Report> {
        let last: LastPoll = settings::get_json(&self.0.store, RECORD_KEY).await?;
        let (polled_at, next_eligible_at) = self.lease_times().await?;
        Ok(Report {
            outcome: last.outcome,
            message: last.message,
            polled_at,
            next_eligible_at,
        })
    }

    /// One poll, unless the canonical copy has no ChatGPT token or the cooldown is running.
    pub async fn poll(&self) -> Result<Report> {
        let stored = self.0.vault.stored().await?;
        let Some(creds) = stored.as_ref().and_then(|s| credentials(&s.current.text)) else {
            let message = match stored {
                None => "there is no canonical auth.json",
                Some(_) => "the canonical auth.json holds no ChatGPT access token (API-key mode)",
            };
            self.record(Outcome::NotApplicable, message, now_ms())
                .await?;
            let (polled_at, next_eligible_at) = self.lease_times().await?;
            return Ok(Report {
                outcome: Outcome::NotApplicable.as_str().into(),
                message: message.into(),
                polled_at,
                next_eligible_at,
            });
        };
        // A holder name no other attempt has: the lease is taken only once it has expired.
        let holder = format!("{}:{}", self.0.holder, uuid::Uuid::new_v4().simple());
        if !leases::acquire(&self.0.store, LEASE, &holder, COOLDOWN).await? {
            let (polled_at, next_eligible_at) = self.lease_times().await?;
            return Ok(Report {
                outcome: Outcome::Cooldown.as_str().into(),
                message: "the ChatGPT usage endpoint is asked at most once per 5 minutes".into(),
                polled_at,
                next_eligible_at,
            });
        }
        let started = now_ms();
        let url = format!("{}/wham/usage", self.0.settings.base_url);
        let (outcome, message) = match fetch(&self.0.http, &url, &creds).await {
            Ok(body) => match snapshot(&body, now_ms()) {
                Ok(s) => {
                    quota_snapshots::insert(&self.0.store, s).await?;
                    (Outcome::Polled, String::new())
                }
                Err(m) => (Outcome::Failed, m),
            },
            Err(m) => (Outcome::Failed, m),
        };
        self.record(outcome, &message, started).await?;
        Ok(Report {
            outcome: outcome.as_str().into(),
            message,
            polled_at: Some(started),
            next_eligible_at: Some(started + millis(COOLDOWN)),
        })
    }

    /// When the last attempt started and, while it cools down, when the next may run.
    async fn lease_times(&self) -> Result<(Option<i64>, Option<i64>)> {
        let lease = leases::current(&self.0.store, LEASE).await?;
        let now = now_ms();
        Ok((
            lease.as_ref().map(|l| l.acquired_at),
            lease.map(|l| l.expires_at).filter(|at| *at > now),
        ))
    }

    async fn record(&self, outcome: Outcome, message: &str, at: i64) -> Result<()> {
        let last = LastPoll {
            outcome: outcome.as_str().into(),
            message: message.into(),
            at,
        };
        settings::put_json(self.0.store.db(), RECORD_KEY, &last, "system:chatgpt_usage").await?;
        Ok(())
    }
}

/// The access token and account id of a ChatGPT-mode document.
struct Credentials {
    access_token: String,
    account_id: String,
}

// Keeps the token out of any debug output.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("account_id", &self.account_id)
            .finish_non_exhaustive()
    }
}

fn credentials(text: &str) -> Option<Credentials> {
    let doc: Value = serde_json::from_str(text).ok()?;
    let tokens = doc.get("tokens")?;
    let access_token = tokens
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())?
        .to_string();
    // The contract names `tokens.account_id`; older documents only carry it in the JWT claims.
    let account_id = tokens
        .get("account_id")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| super::codex_auth::claims(text).account_id);
    Some(Credentials {
        access_token,
        account_id,
    })
}

/// The answer's body, or why there is none. Messages name the status or the transport error,
/// never the request's headers or the answer's body.
async fn fetch(
    http: &reqwest::Client,
    url: &str,
    creds: &Credentials,
) -> std::result::Result<Vec<u8>, String> {
    let mut req = http
        .get(url)
        .timeout(REQUEST_TIMEOUT)
        .bearer_auth(&creds.access_token)
        .header(reqwest::header::ACCEPT, "application/json");
    if !creds.account_id.is_empty() {
        req = req.header("ChatGPT-Account-Id", &creds.account_id);
    }
    let mut res = req
        .send()
        .await
        .map_err(|e| format!("the usage endpoint is unreachable: {}", describe(e)))?;
    let status = res.status();
    if !status.is_success() {
        return Err(format!("the usage endpoint answered {status}"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| format!("reading the usage answer failed: {}", describe(e)))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            return Err("the usage answer is larger than 64 KiB".into());
        }
    }
    Ok(body)
}

/// The error and its causes, without the URL.
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A number, or a string holding one (the endpoint has sent both).
fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// A window: `used_percent` is required, the rest may be missing or null.
fn window(v: Option<&Value>, now: i64) -> Option<(f64, Option<i32>, Option<i64>)> {
    let w = v?.as_object()?;
    let used = number(w.get("used_percent"))?.max(0.0);
    let minutes = number(w.get("limit_window_seconds"))
        .filter(|s| *s > 0.0)
        .map(|s| (s / 60.0).round().min(f64::from(i32::MAX)) as i32);
    let at_ms = |secs: f64, base: i64| {
        let ms = secs * 1000.0;
        (ms.abs() < 1e15).then(|| base + ms as i64)
    };
    let resets = number(w.get("reset_at"))
        .and_then(|s| at_ms(s, 0))
        .or_else(|| number(w.get("reset_after_seconds")).and_then(|s| at_ms(s.max(0.0), now)));
    Some((used, minutes, resets))
}

/// The snapshot an answer makes, or why it makes none.
fn snapshot(body: &[u8], now: i64) -> std::result::Result<Snapshot, String> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|_| "the usage endpoint answered with unreadable JSON".to_string())?;
    let Value::Object(doc) = doc else {
        return Err("the usage endpoint answered with JSON that is not an object".into());
    };
    let empty = Map::new();
    let limits = doc
        .get("rate_limit")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let primary = window(limits.get("primary_window"), now);
    let secondary = window(limits.get("secondary_window"), now);
    if primary.is_none() && secondary.is_none() {
        // Hosts' snapshots are kept only with a window too: one without would hide theirs.
        return Err("the usage answer has no rate-limit window; nothing was stored".into());
    }
    let flag = |v: Option<&Value>| v.and_then(Value::as_bool);
    let limit_reached = flag(limits.get("limit_reached")) == Some(true)
        || flag(limits.get("allowed")) == Some(false);
    let credits_json = match doc.get("credits").and_then(Value::as_object) {
        Some(c) => {
            let balance = match c.get("balance") {
                Some(Value::String(s)) => Some(s.chars().take(64).collect::<String>()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            json!({
                "has_credits": flag(c.get("has_credits")),
                "unlimited": flag(c.get("unlimited")),
                "balance": balance,
            })
            .to_string()
        }
        None => String::new(),
    };
    let plan_type = doc
        .get("plan_type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(32)
        .collect();
    Ok(Snapshot {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: FLEET_ACCOUNT.into(),
        source: "server".into(),
        host_id: None,
        plan_type,
        primary_used_percent: primary.map(|w| w.0),
        primary_window_minutes: primary.and_then(|w| w.1),
        primary_resets_at: primary.and_then(|w| w.2),
        secondary_used_percent: secondary.map(|w| w.0),
        secondary_window_minutes: secondary.and_then(|w| w.1),
        secondary_resets_at: secondary.and_then(|w| w.2),
        limit_reached,
        credits_json: credits_json.chars().take(500).collect(),
        observed_at: now,
    })
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    #[test]
    fn reads_the_usage_answer() {
        let body = br#"{"plan_type":"plus","rate_limit":{"allowed":true,"limit_reached":false,
            "primary_window":{"used_percent":24.5,"limit_window_seconds":18000,"reset_after_seconds":3600,"reset_at":1710000000},
            "secondary_window":{"used_percent":80,"limit_window_seconds":604800,"reset_after_seconds":60,"reset_at":null}},
            "credits":{"has_credits":true,"unlimited":false,"balance":"12.34"}}"#;
        let s = snapshot(body, NOW).unwrap();
        assert_eq!(s.plan_type, "plus");
        assert_eq!(s.source, "server");
        assert_eq!(s.primary_used_percent, Some(24.5));
        assert_eq!(s.primary_window_minutes, Some(300));
        assert_eq!(s.primary_resets_at, Some(1_710_000_000_000));
        assert_eq!(s.secondary_used_percent, Some(80.0));
        assert_eq!(s.secondary_window_minutes, Some(10_080));
        assert_eq!(s.secondary_resets_at, Some(NOW + 60_000));
        assert!(!s.limit_reached);
        let credits: Value = serde_json::from_str(&s.credits_json).unwrap();
        assert_eq!(credits["balance"], "12.34");
        assert_eq!(s.observed_at, NOW);
    }

    #[test]
    fn missing_and_odd_fields_are_tolerated() {
        let body = br#"{"plan_type":null,"rate_limit":{"limit_reached":true,
            "primary_window":{"used_percent":"100"},"secondary_window":null},"credits":null}"#;
        let s = snapshot(body, NOW).unwrap();
        assert_eq!(s.plan_type, "");
        assert_eq!(s.primary_used_percent, Some(100.0));
        assert_eq!(s.primary_window_minutes, None);
        assert_eq!(s.primary_resets_at, None);
        assert_eq!(s.secondary_used_percent, None);
        assert!(s.limit_reached);
        assert_eq!(s.credits_json, "");
        let huge = br#"{"rate_limit":{"primary_window":{"used_percent":-3,"limit_window_seconds":1e300,"reset_at":1e300}}}"#;
        let s = snapshot(huge, NOW).unwrap();
        assert_eq!(s.primary_used_percent, Some(0.0));
        assert_eq!(s.primary_window_minutes, Some(i32::MAX));
        assert_eq!(s.primary_resets_at, None);
    }

    #[test]
    fn unusable_answers_are_refused() {
        for body in [
            &b"<html>"[..],
            b"[1]",
            b"{}",
            br#"{"rate_limit":{"allowed":false}}"#,
        ] {
            let err = snapshot(body, NOW).unwrap_err();
            assert!(!err.is_empty());
        }
    }

    #[test]
    fn credentials_come_from_chatgpt_documents_only() {
        let doc = r#"{"tokens":{"access_token":"at-secret","account_id":"acct-1"}}"#;
        let c = credentials(doc).unwrap();
        assert_eq!(
            (c.access_token.as_str(), c.account_id.as_str()),
            ("at-secret", "acct-1")
        );
        assert!(!format!("{c:?}").contains("at-secret"));
        assert!(credentials(r#"{"OPENAI_API_KEY":"sk-x","tokens":null}"#).is_none());
        assert!(credentials(r#"{"tokens":{"access_token":""}}"#).is_none());
        assert!(credentials("not json").is_none());
    }
}
