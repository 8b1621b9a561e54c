//! Alerts against the real server: the fleet's ChatGPT quota crossing thresholds (and its
//! weekly projection) raises each alert once per threshold and window, with an audit row, an
//! overview flag and a signed webhook delivery that is retried after a failure; acknowledging
//! lowers the flag. Token budget alerts are checked in `usage::budgets_hold_across_replicas`.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::Mutex;

use crate::on_all_backends;
use crate::testkit::{Backend, Opts, Ready, auth_on};

const SECRET: &str = "webhook-secret-for-tests";

/// Deliveries received: (headers, body). The first one is answered 503, the rest 200.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let seen = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().await;
                seen.push((headers, body));
                if seen.len() == 1 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

fn verify(headers: &HeaderMap, body: &str) {
    let ts = headers["x-codex-central-timestamp"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{ts}.{body}").as_bytes());
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(headers["x-codex-central-signature"].to_str().unwrap(), want);
    let age = chrono::Utc::now().timestamp() - ts.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "a fresh timestamp: {age}");
}

async fn active_alerts(ready: &Ready) -> Vec<Value> {
    let (status, body) = ready.admin_get("/api/v1/usage/alerts?active=true").await;
    assert_eq!(status, 200, "{body}");
    body["data"]["alerts"].as_array().unwrap().clone()
}

/// Waits for the minute check (every second here) to have raised `n` active alerts.
async fn wait_for_alerts(ready: &Ready, n: usize) -> Vec<Value> {
    let mut alerts = Vec::new();
    for _ in 0..100 {
        alerts = active_alerts(ready).await;
        if alerts.len() >= n {
            return alerts;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {n} alerts, have {alerts:?}");
}

async fn report_quota(ready: &Ready, key: &str, primary: f64, weekly: f64, weekly_begun_days: i64) {
    let now = chrono::Utc::now().timestamp();
    let (status, body) = ready
        .host_post(
            key,
            "/usage",
            json!({"rate_limits": {
                "primary": {"used_percent": primary, "window_minutes": 300, "resets_at": now + 3600},
                "secondary": {"used_percent": weekly, "window_minutes": 10080,
                              "resets_at": now + (7 - weekly_begun_days) * 86_400}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn quota_thresholds_raise_signed_alerts_once(backend: Backend) {
    let (url, received) = receiver().await;
    let Some(ready) = Ready::start(
        backend,
        Opts {
            layer: codex_central::config::Layer {
                alert_webhook_urls: Some(vec![url.clone()]),
                alert_webhook_secret: Some(SECRET.into()),
                alert_check_secs: Some(1),
                ..auth_on().layer
            },
        },
    )
    .await
    else {
        return;
    };
    let key = ready.host_key("alerts.example.com").await;
    // 5-hour window at 96 %: only the highest threshold crossed (95) is raised. Weekly window at
    // 40 % two days in: 140 % at this rate by its end, which crosses 100.
    report_quota(&ready, &key, 96.0, 40.0, 2).await;
    let alerts = wait_for_alerts(&ready, 2).await;
    let mut seen: Vec<(String, u64)> = alerts
        .iter()
        .map(|a| {
            (
                a["metric"].as_str().unwrap().to_string(),
                a["threshold"].as_u64().unwrap(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("quota_5h".to_string(), 95),
            ("quota_weekly_projection".to_string(), 100)
        ],
        "{alerts:?}"
    );
    let projection = alerts
        .iter()
        .find(|a| a["metric"] == "quota_weekly_projection")
        .unwrap();
    assert_eq!(projection["scope"], "fleet");
    assert!(
        projection["message"]
            .as_str()
            .unwrap()
            .contains("reaches 140 %"),
        "{projection}"
    );

    // The projection reaches hosts in their /auth answers.
    let (_, answer) = ready
        .host_post(
            &key,
            "/auth",
            json!({"command": "retrieve", "last_refresh": "2026-01-01T00:00:00Z",
                   "digest": "0".repeat(64)}),
        )
        .await;
    let p = answer["data"]["quota_projected_percent"]
        .as_f64()
        .unwrap_or_default();
    assert!((p - 140.0).abs() < 1.0, "{answer}");

    // Flags in the overview, one audit row per alert.
    let (_, overview) = ready.admin_get("/admin/overview").await;
    let codes: Vec<&str> = overview["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"usage_quota_5h") && codes.contains(&"usage_quota_weekly_projection"),
        "{overview}"
    );
    assert_eq!(overview["data"]["usage_alerts_active"], 2);
    let (_, audit) = ready.admin_get("/api/v1/audit?action=usage.alert").await;
    assert_eq!(
        audit["data"]["events"].as_array().unwrap().len(),
        2,
        "{audit}"
    );

    // Checks keep running; the same readings raise nothing new. A higher one raises 100.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(active_alerts(&ready).await.len(), 2);
    report_quota(&ready, &key, 100.0, 40.0, 2).await;
    let alerts = wait_for_alerts(&ready, 3).await;
    assert!(
        alerts
            .iter()
            .any(|a| a["metric"] == "quota_5h" && a["threshold"] == 100),
        "{alerts:?}"
    );

    // Three alerts, the first delivery answered 503 and retried 10 s later: four posts, each
    // signed, and a delivery log that shows the failure.
    let mut posts = Vec::new();
    for _ in 0..200 {
        posts = received.lock().await.clone();
        if posts.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(posts.len(), 4, "{posts:?}");
    let mut delivered_alerts = Vec::new();
    for (headers, body) in &posts {
        verify(headers, body);
        let doc: Value = serde_json::from_str(body).unwrap();
        assert_eq!(doc["event"], "usage.alert");
        delivered_alerts.push(doc["alert"]["id"].as_str().unwrap().to_string());
    }
    assert_eq!(
        delivered_alerts[0],
        delivered_alerts[3],
        "the retry is the first alert: {:?}",
        posts.iter().map(|p| &p.1).collect::<Vec<_>>()
    );
    let (_, log) = ready
        .admin_get(&format!(
            "/api/v1/usage/alerts/deliveries?alert_id={}",
            delivered_alerts[0]
        ))
        .await;
    let attempts = log["data"]["deliveries"].as_array().unwrap();
    let mut outcomes: Vec<(u64, &str, Value)> = attempts
        .iter()
        .map(|d| {
            (
                d["attempt"].as_u64().unwrap(),
                d["status"].as_str().unwrap(),
                d["status_code"].clone(),
            )
        })
        .collect();
    outcomes.sort_by_key(|o| o.0);
    assert_eq!(
        outcomes,
        vec![(1, "failed", json!(503)), (2, "delivered", json!(204))],
        "{log}"
    );
    assert!(!log.to_string().contains(SECRET));

    // Acknowledging lowers the flag; unknown ids and bad input are refused clearly.
    let id = alerts[0]["id"].as_str().unwrap();
    let (status, body) = ready
        .admin_post(&format!("/api/v1/usage/alerts/{id}/acknowledge"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["alert"]["active"], false);
    assert_eq!(active_alerts(&ready).await.len(), 2);
    let (status, _) = ready
        .admin_post("/api/v1/usage/alerts/nope/acknowledge", json!({}))
        .await;
    assert_eq!(status, 404);
    let (status, body) = ready.admin_get("/api/v1/usage/alerts?active=maybe").await;
    assert_eq!(status, 422, "{body}");
}

on_all_backends!(quota_thresholds_raise_signed_alerts_once);
