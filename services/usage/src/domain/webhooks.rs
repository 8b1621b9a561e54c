//! Alert webhooks: each alert is POSTed as JSON to every configured URL, signed with
//! HMAC-SHA256 over `<timestamp>.<body>` (headers `X-Codex-Central-Timestamp` and
//! `X-Codex-Central-Signature: sha256=<hex>`), so receivers can check both origin and
//! freshness. A failed attempt is retried with growing waits (10 s, 30 s, 90 s, 270 s, 810 s);
//! every attempt is a row of the delivery log. One replica sends (a lease).

use std::time::{Duration, Instant};

use codex_central_store::entities::alert_deliveries::Model as Delivery;
use codex_central_store::entities::usage_alerts::Model as Alert;
use codex_central_store::usage_alerts::{self, Attempted};
use codex_central_store::{Store, leases, now_ms};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

const LEASE: &str = "usage.alert_webhooks";
const TICK: Duration = Duration::from_secs(5);
const MAX_ATTEMPTS: i32 = 6;
const FIRST_WAIT_MS: i64 = 10_000;
const BATCH: u64 = 50;
const TIMEOUT: Duration = Duration::from_secs(10);

pub const SIGNATURE_HEADER: &str = "x-codex-central-signature";
pub const TIMESTAMP_HEADER: &str = "x-codex-central-timestamp";

/// `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>").
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length; the error case cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// When the attempt after failed attempt `attempt` (1-based) is due, or None after the last.
pub fn retry_at(attempt: i32, now: i64) -> Option<i64> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let exponent = u32::try_from(attempt.max(1) - 1).unwrap_or(0);
    Some(now + FIRST_WAIT_MS * 3i64.pow(exponent))
}

/// Whether an answer is worth retrying: server errors and throttling are; a receiver that
/// rejects the request itself (another 4xx) will reject it again.
fn retryable(status: u16) -> bool {
    status >= 500 || matches!(status, 408 | 425 | 429)
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// The JSON body of a delivery.
pub fn body(alert: &Alert, delivery: &Delivery) -> Vec<u8> {
    json!({
        "event": "usage.alert",
        "delivery_id": delivery.id,
        "attempt": delivery.attempt,
        "alert": {
            "id": alert.id,
            "scope": alert.scope,
            "subject_id": alert.subject_id,
            "user_id": alert.user_id,
            "metric": alert.metric,
            "threshold": alert.threshold,
            "percent": alert.percent,
            "message": alert.message,
            "window_start": rfc3339(alert.window_start),
            "window_end": rfc3339(alert.window_end),
            "raised_at": rfc3339(alert.raised_at),
        },
    })
    .to_string()
    .into_bytes()
}

pub fn spawn(store: Store, holder: String, secret: String) -> tokio::task::JoinHandle<()> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("codex-central/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string());
    leases::spawn_every(store, LEASE, holder, TICK, move |store| {
        let client = client.clone();
        let secret = secret.clone();
        async move {
            match client {
                Ok(client) => {
                    if let Err(err) = send_due(&store, &client, &secret).await {
                        tracing::warn!(error = %err, "could not send alert webhooks");
                    }
                }
                Err(err) => tracing::warn!(error = %err, "alert webhooks are off: no HTTP client"),
            }
        }
    })
}

/// Sends every delivery due now, one after the other (a handful per alert).
pub async fn send_due(
    store: &Store,
    client: &reqwest::Client,
    secret: &str,
) -> codex_central_store::Result<usize> {
    let due = usage_alerts::due_deliveries(store, now_ms(), BATCH).await?;
    let count = due.len();
    for (delivery, alert) in due {
        let attempted = match alert {
            Some(alert) => attempt(client, secret, &alert, &delivery).await,
            // Unreachable with the foreign key; closes the row rather than retrying forever.
            None => Attempted {
                status: "abandoned",
                attempted_at: now_ms(),
                status_code: None,
                error: "the alert no longer exists".into(),
                duration_ms: 0,
                retry_at: None,
            },
        };
        usage_alerts::finish_delivery(store, delivery, attempted).await?;
    }
    Ok(count)
}

async fn attempt(
    client: &reqwest::Client,
    secret: &str,
    alert: &Alert,
    delivery: &Delivery,
) -> Attempted {
    let body = body(alert, delivery);
    let at = now_ms();
    let timestamp = at / 1000;
    let mut request = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("x-codex-central-event", "usage.alert")
        .header("x-codex-central-delivery", &delivery.id)
        .header(TIMESTAMP_HEADER, timestamp.to_string());
    if !secret.is_empty() {
        request = request.header(SIGNATURE_HEADER, signature(secret, timestamp, &body));
    }
    let started = Instant::now();
    let result = request.body(body).send().await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (code, error, again) = match result {
        Ok(answer) if answer.status().is_success() => (Some(answer.status().as_u16()), None, false),
        Ok(answer) => {
            let s = answer.status().as_u16();
            (Some(s), Some(format!("HTTP {s}")), retryable(s))
        }
        // Without the URL: it may carry a token in its query.
        Err(err) => (None, Some(describe(&err)), true),
    };
    let retry = if again {
        retry_at(delivery.attempt, now_ms())
    } else {
        None
    };
    let status = match (&error, retry) {
        (None, _) => "delivered",
        (Some(_), Some(_)) => "failed",
        (Some(_), None) => "abandoned",
    };
    Attempted {
        status,
        attempted_at: at,
        status_code: code.map(i32::from),
        error: error.unwrap_or_default(),
        duration_ms,
        retry_at: retry,
    }
}

fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".into()
    } else if err.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_and_stop() {
        let now = 1_000_000;
        let waits: Vec<Option<i64>> = (1..=6).map(|a| retry_at(a, now).map(|t| t - now)).collect();
        assert_eq!(
            waits,
            vec![
                Some(10_000),
                Some(30_000),
                Some(90_000),
                Some(270_000),
                Some(810_000),
                None
            ]
        );
    }

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        // HMAC-SHA256("secret", "1700000000.{}"), computed independently with Python's hmac.
        let s = signature("secret", 1_700_000_000, b"{}");
        assert_eq!(
            s,
            "sha256=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
        assert_ne!(s, signature("secret", 1_700_000_001, b"{}"));
        assert_ne!(s, signature("other", 1_700_000_000, b"{}"));
    }

    #[test]
    fn only_transient_answers_are_retried() {
        for (status, again) in [
            (500, true),
            (503, true),
            (429, true),
            (408, true),
            (400, false),
            (401, false),
            (404, false),
            (410, false),
        ] {
            assert_eq!(retryable(status), again, "{status}");
        }
    }
}
