//! The server's poll of the ChatGPT usage endpoint against a local stub: the canonical access
//! token and account id are sent, the answer becomes the fleet's quota snapshot (admin view,
//! `/auth` answers, history), the 5-minute cooldown holds, failures and API-key documents are
//! reported without any token text, and `force` takes only booleans.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::Utc;
use codex_central::config::Layer;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::idp_stub::chatgpt_document;
use crate::on_all_backends;
use crate::testkit::{Backend, Opts, REPLICA_KEY, Ready, spawn_with};

const ACCOUNT: &str = "acct-7f3e9a2b1c";

#[derive(Default)]
struct Stub {
    /// (Authorization, ChatGPT-Account-Id) of every call.
    calls: Mutex<Vec<(String, String)>>,
    /// A status and body to answer with instead of the usage.
    fail: Mutex<Option<(u16, Value)>>,
}

struct UsageStub {
    /// What `chatgpt_base_url` is set to.
    base: String,
    stub: Arc<Stub>,
}

impl UsageStub {
    async fn start() -> UsageStub {
        let stub = Arc::new(Stub::default());
        let app = axum::Router::new()
            .route("/backend-api/wham/usage", axum::routing::get(usage))
            .with_state(stub.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        UsageStub {
            base: format!("http://{addr}/backend-api"),
            stub,
        }
    }

    async fn calls(&self) -> Vec<(String, String)> {
        self.stub.calls.lock().await.clone()
    }

    async fn fail_with(&self, status: u16, body: Value) {
        *self.stub.fail.lock().await = Some((status, body));
    }
}

fn usage_answer() -> Value {
    json!({
        "plan_type": "plus",
        "rate_limit": {
            "allowed": true,
            "limit_reached": false,
            "primary_window": {"used_percent": 24.5, "limit_window_seconds": 18000,
                               "reset_after_seconds": 3600, "reset_at": Utc::now().timestamp() + 3600},
            "secondary_window": {"used_percent": 80, "limit_window_seconds": 604800,
                                 "reset_after_seconds": 86400, "reset_at": null}
        },
        "credits": {"has_credits": true, "unlimited": false, "balance": "12.34"}
    })
}

async fn usage(State(stub): State<Arc<Stub>>, headers: HeaderMap) -> axum::response::Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (auth, account) = (header("authorization"), header("chatgpt-account-id"));
    stub.calls
        .lock()
        .await
        .push((auth.clone(), account.clone()));
    if let Some((status, body)) = stub.fail.lock().await.clone() {
        let status = StatusCode::from_u16(status).unwrap();
        return (status, axum::Json(body)).into_response();
    }
    if !auth.starts_with("Bearer ") || account != ACCOUNT {
        return (StatusCode::BAD_REQUEST, "missing headers").into_response();
    }
    axum::Json(usage_answer()).into_response()
}

fn polling_at(stub: &UsageStub) -> Opts {
    Opts {
        layer: Layer {
            auth_mode: Some(codex_central::config::AuthMode::On),
            chatgpt_base_url: Some(stub.base.clone()),
            ..Layer::default()
        },
    }
}

/// Uploads a ChatGPT-mode canonical auth.json and returns its access token.
async fn upload_chatgpt(r: &Ready) -> String {
    let doc = chatgpt_document(120, 5, "rt_usage_AbCdEfGhIjKlMnOpQrStUv");
    let (code, body) = r
        .admin_post("/admin/auth/upload", json!({ "auth": doc }))
        .await;
    assert_eq!(code, 200, "{body}");
    let doc: Value = serde_json::from_str(&doc).unwrap();
    doc["tokens"]["access_token"].as_str().unwrap().to_string()
}

fn in_the_future(v: &Value) -> bool {
    v.as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| t > Utc::now())
}

async fn refresh(r: &Ready) -> Value {
    let (code, body) = r
        .admin_post("/admin/chatgpt/usage/refresh", json!({}))
        .await;
    assert_eq!(code, 200, "{body}");
    body["data"].clone()
}

async fn polls_store_a_snapshot_once_per_cooldown(backend: Backend) {
    let stub = UsageStub::start().await;
    let Some(r) = Ready::start(backend, polling_at(&stub)).await else {
        return;
    };
    let key = r.host_key("quota.example.com").await;
    let (code, body) = r.admin_get("/admin/chatgpt/usage").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["snapshot"]["status"], "unavailable", "{body}");
    assert_eq!(body["data"]["cached"], true);
    assert!(body["data"]["next_eligible_at"].is_null(), "{body}");
    let token = upload_chatgpt(&r).await;

    let polled = refresh(&r).await;
    assert_eq!(polled["outcome"], "polled", "{polled}");
    assert_eq!(polled["cached"], false);
    assert!(in_the_future(&polled["next_eligible_at"]), "{polled}");
    assert!(polled.get("message").is_none(), "{polled}");
    let snap = &polled["snapshot"];
    assert_eq!(snap["plan_type"], "plus", "{snap}");
    assert_eq!(snap["primary_window"]["used_percent"], 25, "24.5 rounded");
    assert_eq!(snap["primary_window"]["limit_seconds"], 18000);
    assert_eq!(snap["secondary_window"]["used_percent"], 80);
    assert_eq!(snap["secondary_window"]["limit_seconds"], 604_800);
    assert!(snap["secondary_window"]["reset_at"].is_string(), "{snap}");
    assert_eq!(
        stub.calls().await,
        vec![(format!("Bearer {token}"), ACCOUNT.to_string())]
    );
    assert!(!polled.to_string().contains(&token));

    // The stored snapshot is what admins, hosts and the history see.
    let (code, body) = r.admin_get("/admin/chatgpt/usage").await;
    assert_eq!(code, 200, "{body}");
    let d = &body["data"];
    assert_eq!(d["cached"], true);
    assert!(in_the_future(&d["next_eligible_at"]), "{d}");
    assert_eq!(d["snapshot"]["primary_window"]["used_percent"], 25);
    assert_eq!(d["snapshot"]["plan_type"], "plus");
    let (code, body) = r
        .host_post(
            &key,
            "/auth",
            json!({"command": "retrieve", "last_refresh": "2026-01-01T00:00:00Z",
                   "digest": "0".repeat(64)}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let quota = &body["data"]["chatgpt_usage"];
    assert_eq!(quota["status"], "ok", "{quota}");
    assert_eq!(quota["plan_type"], "plus");
    assert_eq!(quota["primary_window"]["used_percent"], 25);
    assert_eq!(quota["primary_window"]["limit_seconds"], 18000);
    assert_eq!(quota["secondary_window"]["used_percent"], 80);
    assert!(in_the_future(&quota["next_eligible_at"]), "{quota}");
    let (code, body) = r.admin_get("/admin/overview").await;
    assert_eq!(code, 200, "{body}");
    let overview = &body["data"];
    assert_eq!(overview["chatgpt_cached"], true, "{overview}");
    assert!(
        in_the_future(&overview["chatgpt_next_eligible_at"]),
        "{overview}"
    );
    assert_eq!(overview["chatgpt_usage"]["plan_type"], "plus", "{overview}");
    assert!(in_the_future(
        &overview["chatgpt_usage"]["next_eligible_at"]
    ));
    let (code, body) = r.admin_get("/admin/chatgpt/usage/history?days=1").await;
    assert_eq!(code, 200, "{body}");
    let history = body["data"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{body}");
    assert_eq!(history[0]["primary_window"]["used_percent"], 24.5);
    assert_eq!(history[0]["primary_window"]["window_minutes"], 300);
    assert_eq!(history[0]["secondary_window"]["window_minutes"], 10_080);
    assert_eq!(history[0]["plan_type"], "plus");
    assert!(history[0]["host_id"].is_null(), "the server observed it");

    // Within 5 minutes upstream is not asked again, however it is asked for.
    let again = refresh(&r).await;
    assert_eq!(again["outcome"], "cooldown", "{again}");
    assert_eq!(again["cached"], true);
    assert!(in_the_future(&again["next_eligible_at"]), "{again}");
    assert_eq!(again["snapshot"]["primary_window"]["used_percent"], 25);
    let (code, body) = r.admin_get("/admin/chatgpt/usage?force=yes").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["outcome"], "cooldown", "{body}");
    assert_eq!(stub.calls().await.len(), 1);

    let (code, body) = r.admin_get("/admin/chatgpt/usage?force=maybe").await;
    assert_eq!(code, 422, "{body}");
    assert!(body["errors"].get("force").is_some(), "{body}");
    r.srv.stop().await;
}

async fn failures_and_api_keys_store_nothing(backend: Backend) {
    let stub = UsageStub::start().await;
    let Some(r) = Ready::start(backend, polling_at(&stub)).await else {
        return;
    };
    let (code, body) = r.admin_get("/admin/chatgpt/usage?force=1").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["data"]["outcome"], "not_applicable",
        "no canonical copy"
    );
    let token = upload_chatgpt(&r).await;
    // An upstream that echoes the token back must not get it into the answer.
    stub.fail_with(
        401,
        json!({"detail": format!("token {token} is expired"), "code": "token_expired"}),
    )
    .await;
    let failed = refresh(&r).await;
    assert_eq!(failed["outcome"], "failed", "{failed}");
    assert!(
        failed["message"].as_str().unwrap().contains("401"),
        "{failed}"
    );
    assert_eq!(failed["cached"], true);
    assert!(in_the_future(&failed["next_eligible_at"]), "{failed}");
    assert_eq!(failed["snapshot"]["status"], "unavailable", "{failed}");
    assert!(!failed.to_string().contains(&token), "{failed}");
    assert_eq!(stub.calls().await.len(), 1);
    // A failure waits the cooldown too.
    assert_eq!(refresh(&r).await["outcome"], "cooldown");
    assert_eq!(stub.calls().await.len(), 1);

    // An API-key document has no ChatGPT account to ask about.
    let doc = json!({"OPENAI_API_KEY": "sk-proj-Qm9ndXNBcGlLZXkwMDAxMjM0NTY3",
                     "last_refresh": Utc::now().to_rfc3339()});
    let (code, body) = r
        .admin_post("/admin/auth/upload", json!({ "auth": doc }))
        .await;
    assert_eq!(code, 200, "{body}");
    let answer = refresh(&r).await;
    assert_eq!(answer["outcome"], "not_applicable", "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("API-key"),
        "{answer}"
    );
    assert!(!answer.to_string().contains("sk-proj"), "{answer}");
    assert_eq!(stub.calls().await.len(), 1);
    r.srv.stop().await;
}

/// With `chatgpt_usage_poll_secs` a replica polls on its own at start, no request needed, and
/// every replica's answers show the result and the cooldown.
async fn replicas_poll_in_the_background(backend: Backend) {
    let stub = UsageStub::start().await;
    let mut opts = polling_at(&stub);
    opts.layer.master_key = Some(REPLICA_KEY.into());
    let Some(r) = Ready::start(backend, opts.clone()).await else {
        return;
    };
    let key = r.host_key("poller.example.com").await;
    upload_chatgpt(&r).await;
    assert!(
        stub.calls().await.is_empty(),
        "the first server does not poll"
    );
    let poller = spawn_with(
        Layer {
            database_url: Some(r.srv.db.as_ref().unwrap().url.clone()),
            chatgpt_usage_poll_secs: Some(300),
            ..opts.layer
        },
        None,
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let snapshot = loop {
        let (code, body) = r.admin_get("/admin/chatgpt/usage").await;
        assert_eq!(code, 200, "{body}");
        if body["data"]["snapshot"]["status"] == "ok" {
            break body["data"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no background poll: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(snapshot["snapshot"]["plan_type"], "plus", "{snapshot}");
    assert!(in_the_future(&snapshot["next_eligible_at"]), "{snapshot}");
    let (code, body) = r
        .host_post(
            &key,
            "/auth",
            json!({"command": "retrieve", "last_refresh": "2026-01-01T00:00:00Z",
                   "digest": "0".repeat(64)}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let quota = &body["data"]["chatgpt_usage"];
    assert_eq!(quota["primary_window"]["used_percent"], 25, "{quota}");
    assert!(in_the_future(&quota["next_eligible_at"]), "{quota}");
    // An admin's refresh on the other replica finds the cooldown the poll started.
    assert_eq!(refresh(&r).await["outcome"], "cooldown");
    assert_eq!(stub.calls().await.len(), 1);
    poller.stop().await;
    r.srv.stop().await;
}

on_all_backends!(
    polls_store_a_snapshot_once_per_cooldown,
    failures_and_api_keys_store_nothing,
    replicas_poll_in_the_background
);
