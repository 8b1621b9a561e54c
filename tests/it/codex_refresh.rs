//! The server-side refresh of the canonical ChatGPT tokens against a local token endpoint:
//! due by expiry, rotation chained, rejections block the token and raise alerts, outages back
//! off, a host's newer document wins and its token is the next one used; refresh-token custody.

use std::time::Duration;

use codex_central::config::Layer;
use codex_central_proto::auth::v1::RevealCodexAuthRequest;
use codex_central_proto::auth::v1::codex_auth_service_client::CodexAuthServiceClient;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::fleet::compact;
use crate::idp_stub::{Answer, IdpStub, chatgpt_document, rotated_refresh_token};
use crate::on_all_backends;
use crate::testkit::{Backend, Opts, Ready, authed, json, register_host};

const CUSTODY_PLACEHOLDER: &str = "codex-central-custody:the-server-keeps-this-refresh-token";
const ORIGINAL_RT: &str = "rt_original_AbCdEfGhIjKlMnOpQrStUv";

/// A server that refreshes at `stub` and looks every second.
pub(crate) fn refreshing_at(stub: &IdpStub) -> Opts {
    Opts {
        layer: Layer {
            auth_mode: Some(codex_central::config::AuthMode::On),
            codex_token_url: Some(stub.url.clone()),
            codex_refresh_check_secs: Some(1),
            ..Layer::default()
        },
    }
}

async fn status(r: &Ready) -> Value {
    let (code, body) = r.admin_get("/api/v1/codex-auth").await;
    assert_eq!(code, 200, "{body}");
    body["data"].clone()
}

async fn upload(r: &Ready, doc: &str) {
    let (code, body) = r
        .admin_post("/admin/auth/upload", json!({ "auth": doc }))
        .await;
    assert_eq!(code, 200, "{body}");
}

/// The canonical document as stored (admin reveal over gRPC).
async fn reveal(r: &Ready) -> String {
    CodexAuthServiceClient::new(r.srv.channel().await)
        .reveal_codex_auth(authed(
            &r.admin,
            RevealCodexAuthRequest {
                reason: "refresh test".into(),
                masked: false,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .auth_json
}

async fn refresh_now(r: &Ready, force: bool) -> Value {
    let (code, body) = r
        .admin_post("/api/v1/codex-auth/refresh", json!({ "force": force }))
        .await;
    assert_eq!(code, 200, "{body}");
    body["data"].clone()
}

#[derive(Deserialize)]
struct Sync {
    data: SyncData,
}

#[derive(Deserialize)]
struct SyncData {
    auth: Option<Box<RawValue>>,
}

/// A host's retrieve: the answer, and the `auth` document exactly as sent.
pub(crate) async fn retrieve(
    r: &Ready,
    key: &str,
    digest: &str,
    last_refresh: &str,
) -> (Value, Option<String>) {
    let text = r
        .srv
        .post("/auth")
        .header("x-api-key", key)
        .json(&json!({"command": "retrieve", "digest": digest, "last_refresh": last_refresh}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let raw: Sync = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let body: Value = serde_json::from_str(&text).unwrap();
    (
        body["data"].clone(),
        raw.data.auth.map(|a| a.get().to_string()),
    )
}

async fn store(r: &Ready, key: &str, doc: &str) -> Value {
    let res = r
        .srv
        .post("/auth")
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(format!("{{\"command\":\"store\",\"auth\":{doc}}}"))
        .send()
        .await
        .unwrap();
    let (code, body) = json(res).await;
    assert_eq!(code, 200, "{body}");
    body["data"].clone()
}

async fn audit_actions(r: &Ready) -> Vec<String> {
    let (_, body) = r.admin_get("/api/v1/audit?page_size=100").await;
    body["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The stored text with the refreshed tokens and `last_refresh` put back equals the upload:
/// a refresh changes nothing else, key order and number text included.
fn assert_only_tokens_changed(original_pretty: &str, refreshed: &str) {
    let new: Value = serde_json::from_str(refreshed).unwrap();
    let old: Value = serde_json::from_str(original_pretty).unwrap();
    let mut back = refreshed.to_string();
    for key in ["id_token", "access_token", "refresh_token"] {
        let (n, o) = (&new["tokens"][key], &old["tokens"][key]);
        assert_ne!(n, o, "{key} was replaced");
        back = back.replace(n.as_str().unwrap(), o.as_str().unwrap());
    }
    back = back.replace(
        new["last_refresh"].as_str().unwrap(),
        old["last_refresh"].as_str().unwrap(),
    );
    assert_eq!(back, compact(original_pretty));
}

async fn server_refreshes_before_codex_does(backend: Backend) {
    let stub = IdpStub::start().await;
    let Some(r) = Ready::start(backend, refreshing_at(&stub)).await else {
        return;
    };
    let key = r.host_key("refresh.example.com").await;
    // Expires in 20 minutes: inside the 30-minute margin, outside Codex's own 5.
    let doc = chatgpt_document(20, 60, ORIGINAL_RT);
    upload(&r, &doc).await;

    let seen = stub.wait_for_refreshes(1, Duration::from_secs(15)).await;
    assert_eq!(
        seen[0],
        json!({"client_id": "app_EMoamEEZ73f0CkXaXp7hrann", "grant_type": "refresh_token",
               "refresh_reason": "proactive_expiry", "refresh_token": ORIGINAL_RT})
    );
    let mut s = status(&r).await;
    for _ in 0..50 {
        if !s["refresh"]["last_success_at"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        s = status(&r).await;
    }
    assert!(!s["refresh"]["last_success_at"].is_null(), "{s}");
    assert!(s["refresh"]["last_error"].is_null(), "{s}");
    let refreshed = reveal(&r).await;
    assert_only_tokens_changed(&doc, &refreshed);
    let refreshed_doc: Value = serde_json::from_str(&refreshed).unwrap();
    assert_eq!(
        refreshed_doc["tokens"]["refresh_token"],
        rotated_refresh_token(1)
    );
    assert!(
        audit_actions(&r)
            .await
            .contains(&"codex_auth.refresh".to_string())
    );

    // Hosts get the new document (refresh token kept back) and the lifecycle on every answer.
    let (data, auth) = retrieve(&r, &key, &"0".repeat(64), "2020-01-01T00:00:00Z").await;
    assert_eq!(data["status"], "outdated", "{data}");
    let auth: Value = serde_json::from_str(&auth.unwrap()).unwrap();
    assert_eq!(
        auth["tokens"]["access_token"],
        refreshed_doc["tokens"]["access_token"]
    );
    assert_eq!(auth["tokens"]["refresh_token"], CUSTODY_PLACEHOLDER);
    let lifecycle = &data["canonical_auth"];
    assert_eq!(lifecycle["last_refresh"], refreshed_doc["last_refresh"]);
    assert!(lifecycle["expires_at"].is_string(), "{lifecycle}");
    assert!(lifecycle["next_refresh_at"].is_string(), "{lifecycle}");
    assert!(
        lifecycle["last_refresh_attempt_at"].is_string(),
        "{lifecycle}"
    );
    assert!(lifecycle["last_refresh_error"].is_null(), "{lifecycle}");

    // Nothing is due for the next half hour: the job does not refresh again by itself.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(stub.refreshes().await.len(), 1);
    assert_eq!(refresh_now(&r, false).await["outcome"], "not_due");

    // "Refresh now" spends the rotated token, never the first one again.
    let now = refresh_now(&r, true).await;
    assert_eq!(now["outcome"], "refreshed", "{now}");
    let seen = stub.refreshes().await;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1]["refresh_token"], rotated_refresh_token(1));

    // A rejected token: the document is kept, the token blocked, operators alerted.
    let before = reveal(&r).await;
    stub.answer(Answer::Fail(
        401,
        json!({"error": {"code": "refresh_token_reused", "message": "Already used"}}),
    ))
    .await;
    let failed = refresh_now(&r, true).await;
    assert_eq!(failed["outcome"], "failed", "{failed}");
    let refresh = &failed["status"]["refresh"];
    assert_eq!(refresh["last_error_code"], "refresh_token_reused");
    assert_eq!(refresh["needs_new_auth_json"], true);
    assert!(
        refresh["next_due_at"].is_null(),
        "no automatic retry: {refresh}"
    );
    assert_eq!(reveal(&r).await, before);
    let (_, overview) = r.admin_get("/admin/overview").await;
    let alerts = overview["data"]["alerts"].as_array().unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a["code"] == "canonical_auth_refresh_rejected"),
        "{alerts:?}"
    );
    assert!(
        audit_actions(&r)
            .await
            .contains(&"codex_auth.refresh_failed".to_string())
    );
    let (data, _) = retrieve(&r, &key, &"0".repeat(64), "2020-01-01T00:00:00Z").await;
    assert_eq!(data["canonical_auth"]["needs_new_auth_json"], true);
    assert!(
        data["canonical_auth"]["last_refresh_error"]
            .as_str()
            .unwrap()
            .contains("refresh_token_reused")
    );

    // A host that refreshed by itself stores a newer real document: it wins, and being near
    // expiry it is refreshed with the host's token (not the blocked one).
    stub.answer(Answer::Rotate).await;
    let host_doc = chatgpt_document(10, 0, "rt_from_host_AbCdEfGhIjKlMnOpQr");
    assert_eq!(store(&r, &key, &host_doc).await["status"], "updated");
    // (The third request was the rejected one.)
    let seen = stub.wait_for_refreshes(4, Duration::from_secs(15)).await;
    assert_eq!(seen[2]["refresh_token"], rotated_refresh_token(2));
    assert_eq!(seen[3]["refresh_token"], "rt_from_host_AbCdEfGhIjKlMnOpQr");
    for _ in 0..50 {
        if status(&r).await["refresh"]["needs_new_auth_json"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status(&r).await["refresh"]["needs_new_auth_json"], false);

    // An outage is retried later, with backoff; the token is not blocked.
    stub.answer(Answer::Fail(
        503,
        json!({"error": "temporarily_unavailable"}),
    ))
    .await;
    // The job may still be writing the host token's refresh (the stub counted the request
    // before the answer was stored): "refresh now" is then `busy` until it is done.
    let mut failed = refresh_now(&r, true).await;
    for _ in 0..50 {
        if failed["outcome"] != "busy" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        failed = refresh_now(&r, true).await;
    }
    assert_eq!(failed["outcome"], "failed", "{failed}");
    let refresh = &failed["status"]["refresh"];
    assert_eq!(refresh["last_error_code"], "idp_unavailable", "{refresh}");
    assert_eq!(refresh["consecutive_failures"], 1);
    assert_eq!(refresh["needs_new_auth_json"], false);
    let (_, overview) = r.admin_get("/admin/overview").await;
    assert!(
        overview["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["code"] == "canonical_auth_refresh_failing"),
        "{overview}"
    );
    assert!(!overview.to_string().contains("rt_"), "no token in views");
}

async fn custody_keeps_the_refresh_token_on_the_server(backend: Backend) {
    let stub = IdpStub::start().await;
    let Some(r) = Ready::start(backend, refreshing_at(&stub)).await else {
        return;
    };
    let (host, key) = register_host(&r.srv, &r.admin, "custody.example.com").await;
    let host_id = host["host"]["id"].to_string().trim_matches('"').to_string();
    // A placeholder with nothing to put back is refused.
    let placeholder_doc = chatgpt_document(120, 5, CUSTODY_PLACEHOLDER);
    let res = r
        .srv
        .post("/auth")
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"command\":\"store\",\"auth\":{placeholder_doc}}}"
        ))
        .send()
        .await
        .unwrap();
    let (code, body) = json(res).await;
    assert_eq!(code, 422, "{body}");
    assert!(
        body.to_string().contains("auth.tokens.refresh_token"),
        "{body}"
    );

    let doc = chatgpt_document(120, 5, ORIGINAL_RT);
    upload(&r, &doc).await;
    let (data, auth) = retrieve(&r, &key, &"0".repeat(64), "2020-01-01T00:00:00Z").await;
    let served = auth.unwrap();
    assert_eq!(
        served,
        compact(&doc).replace(ORIGINAL_RT, CUSTODY_PLACEHOLDER)
    );
    let digest = hex::encode(Sha256::digest(served.as_bytes()));
    assert_eq!(
        data["canonical_digest"],
        digest.as_str(),
        "the digest of what hosts receive"
    );
    let last = data["canonical_last_refresh"].as_str().unwrap().to_string();
    let (data, auth) = retrieve(&r, &key, &digest, &last).await;
    assert_eq!((data["status"].as_str(), auth), (Some("valid"), None));
    // Operators see the host in sync: it holds what it was served.
    let (_, view) = r.admin_get(&format!("/admin/hosts/{host_id}/auth")).await;
    assert_eq!(view["data"]["in_sync"], true, "{view}");

    // Storing back what it received changes nothing; a newer copy keeps the server's token.
    assert_eq!(store(&r, &key, &served).await["status"], "unchanged");
    let newer = served.replace(&last, &chrono::Utc::now().to_rfc3339());
    let answer = store(&r, &key, &newer).await;
    assert_eq!(answer["status"], "updated", "{answer}");
    let stored: Value = serde_json::from_str(&reveal(&r).await).unwrap();
    assert_eq!(stored["tokens"]["refresh_token"], ORIGINAL_RT);
    assert!(!answer.to_string().contains(ORIGINAL_RT));

    // `shared` hands out the document as stored, as the peer does.
    let (code, body) = r
        .admin_put(
            "/api/v1/codex-auth/settings",
            json!({"refresh_token_custody": "shared"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, auth) = retrieve(&r, &key, &"0".repeat(64), "2020-01-01T00:00:00Z").await;
    let auth: Value = serde_json::from_str(&auth.unwrap()).unwrap();
    assert_eq!(auth["tokens"]["refresh_token"], ORIGINAL_RT);
    let (code, body) = r
        .admin_put(
            "/api/v1/codex-auth/settings",
            json!({"refresh_token_custody": "hosts"}),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(status(&r).await["refresh_token_custody"], "shared");
    assert!(stub.refreshes().await.is_empty(), "nothing was due");
}

on_all_backends!(
    server_refreshes_before_codex_does,
    custody_keeps_the_refresh_token_on_the_server
);
