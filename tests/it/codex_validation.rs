//! The validation probe: after a store it runs in a private `CODEX_HOME` holding the document
//! as hosts receive it (the custody placeholder, never the fleet's refresh token); failures
//! are shown without secrets; a newer auth.json it leaves behind is stored.

use std::time::Duration;

use codex_central::config::Layer;
use serde_json::{Value, json};

use crate::codex_refresh::refreshing_at;
use crate::idp_stub::{IdpStub, chatgpt_document};
use crate::on_all_backends;
use crate::testkit::{Backend, Opts, Ready};

/// Passes on a custody document; rewrites `last_refresh` of a document whose refresh token says
/// so (as a Codex that refreshed would); fails showing the whole file otherwise.
const PROBE: &str = r#"f="$CODEX_HOME/auth.json"
if grep -q custody "$f"; then echo ok
elif grep -q rt_rewrite "$f"; then sed -i "s/\"last_refresh\":\"[^\"]*\"/\"last_refresh\":\"$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)\"/" "$f"
else cat "$f" >&2; exit 3; fi"#;

async fn validation(r: &Ready) -> Value {
    let (code, body) = r.admin_get("/api/v1/codex-auth").await;
    assert_eq!(code, 200, "{body}");
    body["data"]["validation"].clone()
}

async fn validate_now(r: &Ready) -> Value {
    let (code, body) = r.admin_post("/api/v1/codex-auth/validate", json!({})).await;
    assert_eq!(code, 200, "{body}");
    body["data"]["validation"].clone()
}

async fn probe_validates_what_hosts_receive(backend: Backend) {
    let stub = IdpStub::start().await;
    let opts = Opts {
        layer: Layer {
            codex_probe_command: Some(PROBE.into()),
            codex_probe_timeout_secs: Some(20),
            ..refreshing_at(&stub).layer
        },
    };
    let Some(r) = Ready::start(backend, opts).await else {
        return;
    };
    let (code, body) = r
        .admin_post(
            "/admin/auth/upload",
            json!({"auth": chatgpt_document(120, 5, "rt_plain_AbCdEfGhIjKlMnOpQrSt")}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    // The store starts a validation in the background: the probe sees the custody document.
    let mut v = Value::Null;
    for _ in 0..100 {
        v = validation(&r).await;
        if v["probe_ran"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(v["state"], "ok", "{v}");
    assert_eq!(v["refreshed_applied"], false);

    // With the real token handed out, this probe fails and prints the file: no token is shown.
    let (code, _) = r
        .admin_put(
            "/api/v1/codex-auth/settings",
            json!({"refresh_token_custody": "shared"}),
        )
        .await;
    assert_eq!(code, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let v = validate_now(&r).await;
    assert_eq!(v["state"], "failed", "{v}");
    let reason = v["reason"].as_str().unwrap();
    assert!(reason.contains("exit status 3"), "{reason}");
    assert!(
        !reason.contains("rt_plain_AbCdEfGhIjKlMnOpQrSt"),
        "{reason}"
    );
    assert!(!reason.contains("eyJ"), "{reason}");

    // A probe that leaves a newer auth.json behind: it becomes the canonical copy (the store
    // starts the validation by itself).
    let doc = chatgpt_document(120, 5, "rt_rewrite_AbCdEfGhIjKlMnOpQrS");
    let (code, body) = r
        .admin_post("/admin/auth/upload", json!({ "auth": doc }))
        .await;
    assert_eq!(code, 200, "{body}");
    let uploaded: Value = serde_json::from_str(&doc).unwrap();
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    let mut status = Value::Null;
    for _ in 0..100 {
        status = r.admin_get("/api/v1/codex-auth").await.1;
        if status["data"]["validation"]["refreshed_applied"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status["data"]["validation"]["refreshed_applied"], true,
        "{status}"
    );
    assert!(at(&status["data"]["last_refresh"]) > at(&uploaded["last_refresh"]));
    assert!(stub.refreshes().await.is_empty());
}

on_all_backends!(probe_validates_what_hosts_receive);
