//! Hosts and the canonical auth.json over the peer-compatible REST API, on every backend.

use std::sync::Arc;

use chrono::{Duration, Utc};
use codex_central::config::Layer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::on_all_backends;
use crate::testkit::{Backend, Opts, TestServer, admin_token, spawn};

async fn json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json::<Value>().await.unwrap_or(Value::Null))
}

fn auth_on(trusted: bool) -> Opts {
    Opts {
        layer: Layer {
            auth_mode: Some(codex_central::config::AuthMode::On),
            trusted_proxies: trusted.then(|| vec!["127.0.0.1/32".into()]),
            ..Default::default()
        },
    }
}

async fn register(srv: &TestServer, admin: &str, fqdn: &str) -> (i64, String) {
    let (status, body) = json(
        srv.post("/admin/hosts/register")
            .bearer_auth(admin)
            .json(&json!({"fqdn": fqdn}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (
        body["data"]["host"]["id"].as_i64().unwrap(),
        body["data"]["host"]["api_key"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// A Codex-shaped auth.json whose `last_refresh` is `minutes_ago` before now, pretty-printed
/// the way Codex writes it.
pub(crate) fn document(minutes_ago: i64, salt: &str) -> String {
    let at = (Utc::now() - Duration::minutes(minutes_ago))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    format!(
        "{{\n  \"OPENAI_API_KEY\": null,\n  \"tokens\": {{\n    \"id_token\": \"eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImRldkBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJl{salt}\",\n    \"access_token\": \"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhY2NvdW50In0.YWNjZXNzX3NpZw{salt}\",\n    \"refresh_token\": \"rt_AbCdEfGhIjKlMnOpQrStUvWx{salt}\",\n    \"account_id\": \"acc-2f1e\"\n  }},\n  \"last_refresh\": \"{at}\",\n  \"extra\": {{}},\n  \"note\": \"caf\\u00e9 https://chatgpt.com/\",\n  \"ratio\": 1.0\n}}"
    )
}

/// What a client computes: SHA-256 of Python's compact `json.dumps(ensure_ascii=False)` form.
fn python_digest(pretty: &str) -> (String, String) {
    let compact = pretty
        .replace("\n  ", "")
        .replace("\n  ", "")
        .replace("  ", "")
        .replace('\n', "")
        .replace("\": ", "\":")
        .replace("\\u00e9", "é");
    (
        compact.clone(),
        hex::encode(Sha256::digest(compact.as_bytes())),
    )
}

async fn auth_call(srv: &TestServer, key: &str, body: Value) -> (u16, Value) {
    json(
        srv.post("/auth")
            .header("x-api-key", key)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn store(srv: &TestServer, key: &str, doc: &str) -> (u16, Value) {
    let body = format!("{{\"command\":\"store\",\"auth\":{doc}}}");
    json(
        srv.post("/auth")
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn hosts_register_authenticate_and_deregister(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (id, key) = register(&srv, &admin, "Web-1.Example.com").await;
    assert!(key.starts_with("cch_") && key.len() == 68);

    // Re-registering does not silently rotate.
    let (status, body) = json(
        srv.post("/admin/hosts/register")
            .bearer_auth(&admin)
            .json(&json!({"fqdn": "web-1.example.com"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("already_exists")),
        "{body}"
    );
    let (status, body) = json(
        srv.post("/admin/hosts/register")
            .bearer_auth(&admin)
            .json(&json!({"fqdn": "web-1.example.com", "rotate": "yes"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created"], false);
    let new_key = body["data"]["host"]["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = auth_call(&srv, &key, json!({"command": "retrieve", "digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"})).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("Invalid API key"))
    );
    let key = new_key;

    // Validation of register input.
    for (bad, field) in [
        (json!({"fqdn": ""}), "fqdn"),
        (json!({"fqdn": "a b"}), "fqdn"),
        (json!({"fqdn": "x.example", "vip": "maybe"}), "vip"),
    ] {
        let (status, body) = json(
            srv.post("/admin/hosts/register")
                .bearer_auth(&admin)
                .json(&bad)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["errors"].get(field).is_some(), "{body}");
    }
    let (status, _) = json(
        srv.post("/admin/hosts/register")
            .json(&json!({"fqdn": "x.example"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "admin routes need an admin");

    // Listing, search and lookup.
    register(&srv, &admin, "db-1.example.com").await;
    let (_, body) = json(
        srv.get("/admin/hosts")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["total"], 2);
    let (_, body) = json(
        srv.get("/admin/hosts?q=db-&page_size=1")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["hosts"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"]["hosts"][0]["fqdn"], "db-1.example.com");
    assert!(
        !body.to_string().contains("cch_"),
        "keys never appear in listings"
    );
    let (status, body) = json(
        srv.get(&format!("/admin/hosts/{id}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["data"]["host"]["fqdn"].as_str()),
        (200, Some("web-1.example.com"))
    );
    for missing in ["999999", "abc"] {
        let (status, body) = json(
            srv.get(&format!("/admin/hosts/{missing}"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, body["message"].as_str()),
            (404, Some("Host not found"))
        );
    }

    // Host authentication.
    let (status, body) = json(
        srv.post("/auth")
            .json(&json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (401, Some("API key missing"))
    );
    let (status, body) = auth_call(&srv, &key, json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z", "client_version": "0.169.0"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "missing");
    assert_eq!(body["data"]["action"], "store");
    assert_eq!(body["data"]["host"]["ip"], "127.0.0.1");
    assert_eq!(body["data"]["host"]["client_version"], "0.169.0");
    for field in [
        "canonical_last_refresh",
        "canonical_digest",
        "api_calls",
        "token_usage_month",
        "versions",
        "quota_hard_fail",
        "quota_limit_percent",
        "quota_week_partition",
        "cdx_silent",
        "host",
        "chatgpt_usage",
    ] {
        assert!(
            body["data"].get(field).is_some(),
            "{field} missing from {body}"
        );
    }

    // Deregistration deletes the host; its key stops working.
    let (status, body) = json(
        srv.delete("/auth")
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["data"]["deleted"].as_str()),
        (200, Some("web-1.example.com")),
        "{body}"
    );
    let (status, _) = auth_call(
        &srv,
        &key,
        json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = json(
        srv.delete(&format!("/admin/hosts/{id}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (404, Some("Host not found"))
    );
    let (_, body) = json(
        srv.get("/api/v1/audit?action=host.register")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["events"].as_array().unwrap().len(), 2);
    srv.stop().await;
}

async fn canonical_auth_truth_table(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register(&srv, &admin, "sync.example.com").await;
    let doc = document(60, "A");
    let (compact, digest) = python_digest(&doc);

    let (status, body) = store(&srv, &key, &doc).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "updated");
    assert_eq!(body["data"]["runner_applied"], false);
    assert!(body["data"]["validation"].is_null() && body["data"].get("validation").is_some());
    assert!(body["data"].get("action").is_none(), "{body}");
    assert_eq!(body["data"]["versions"]["wrapper_url"], "/wrapper/download");
    assert_eq!(
        body["data"]["canonical_digest"],
        digest.as_str(),
        "digest = sha256 of Python's compact form"
    );
    let last_refresh = body["data"]["canonical_last_refresh"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(doc.contains(&last_refresh), "last_refresh echoed verbatim");

    // The canonical text reaches clients byte for byte (key order, {} and 1.0 kept).
    let raw = srv.post("/auth").header("x-api-key", &key)
        .json(&json!({"command": "retrieve", "digest": "f".repeat(64), "last_refresh": (Utc::now() - Duration::days(3)).to_rfc3339()}))
        .send().await.unwrap().text().await.unwrap();
    assert!(
        raw.contains(&format!("\"auth\":{compact}")),
        "{raw}\n{compact}"
    );
    let body: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["data"]["status"], "outdated");

    let retrieve = |digest: String, at: String| json!({"command": "retrieve", "digest": digest, "last_refresh": at});
    let (_, body) = auth_call(
        &srv,
        &key,
        retrieve(digest.to_uppercase(), last_refresh.clone()),
    )
    .await;
    assert_eq!(body["data"]["status"], "valid");
    assert!(body["data"].get("auth").is_none());
    let (_, body) = auth_call(
        &srv,
        &key,
        retrieve("e".repeat(64), Utc::now().to_rfc3339()),
    )
    .await;
    assert_eq!(
        (
            body["data"]["status"].as_str(),
            body["data"]["action"].as_str()
        ),
        (Some("upload_required"), Some("store"))
    );
    // Equal instants written differently still compare as instants.
    let same_instant = chrono::DateTime::parse_from_rfc3339(&last_refresh)
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(7200).unwrap())
        .to_rfc3339();
    let (_, body) = auth_call(&srv, &key, retrieve("e".repeat(64), same_instant)).await;
    assert_eq!(body["data"]["status"], "upload_required");

    // Store: identical, older, same instant with a different digest, newer.
    let (_, body) = store(&srv, &key, &doc).await;
    assert_eq!(body["data"]["status"], "unchanged");
    let (_, body) = store(&srv, &key, &document(120, "B")).await;
    assert_eq!(body["data"]["status"], "outdated");
    assert_eq!(
        body["data"]["auth"]["tokens"]["refresh_token"],
        "rt_AbCdEfGhIjKlMnOpQrStUvWxA"
    );
    let same_time_other = doc.replace("WxA", "WxC");
    let (_, body) = store(&srv, &key, &same_time_other).await;
    assert_eq!(body["data"]["status"], "updated");
    let (_, body) = store(&srv, &key, &document(1, "D")).await;
    assert_eq!(body["data"]["status"], "updated");

    // Validation runs before any comparison and names the field.
    let future = document(-30, "E");
    let (status, body) = store(&srv, &key, &future).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"].get("auth.last_refresh").is_some(), "{body}");
    let (status, body) = store(
        &srv,
        &key,
        &document(5, "F").replace("rt_AbCdEfGhIjKlMnOpQrStUvWxF", "changeme"),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"].get("auth.tokens.refresh_token").is_some(),
        "{body}"
    );
    let (status, body) = auth_call(&srv, &key, retrieve("e".repeat(64), "yesterday".into())).await;
    assert_eq!(status, 422);
    assert!(body["errors"].get("last_refresh").is_some(), "{body}");
    let (status, body) =
        auth_call(&srv, &key, retrieve("xyz".into(), Utc::now().to_rfc3339())).await;
    assert_eq!(status, 422);
    assert!(body["errors"].get("digest").is_some(), "{body}");
    let (status, body) = json(
        srv.post("/auth")
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body("{\"command\":")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Invalid JSON payload"))
    );
    let (status, _) = auth_call(&srv, &key, json!({"command": "dance"})).await;
    assert_eq!(status, 422);

    // Admin audit shows each change of the canonical document.
    let (_, body) = json(
        srv.get("/api/v1/audit?action=codex_auth.store")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["events"].as_array().unwrap().len(), 3);
    assert!(
        !body.to_string().contains("rt_AbCd"),
        "tokens never reach the audit log"
    );
    srv.stop().await;
}

async fn concurrent_stores_newest_wins(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register(&srv, &admin, "race.example.com").await;
    let srv = Arc::new(srv);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let srv = srv.clone();
        let key = key.clone();
        // Minutes ago: 50 (oldest) .. 1 (newest), in shuffled submission order.
        let age = 1 + (i * 37) % 50;
        tasks.push(tokio::spawn(async move {
            let (status, body) = store(&srv, &key, &document(age, &format!("n{age}"))).await;
            (age, status, body)
        }));
    }
    for t in tasks {
        let (age, status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        let outcome = body["data"]["status"].as_str().unwrap();
        assert!(matches!(outcome, "updated" | "outdated"), "{outcome}");
        if outcome == "outdated" {
            // The answer carries a document at least as new as the upload.
            let theirs = body["data"]["auth"]["tokens"]["refresh_token"]
                .as_str()
                .unwrap()
                .to_string();
            let their_age: i64 = theirs.rsplit('n').next().unwrap().parse().unwrap();
            assert!(
                their_age <= age,
                "answered {their_age} to an upload of age {age}"
            );
        }
    }
    let (_, body) = auth_call(&srv, &key, json!({"command": "retrieve", "digest": "0".repeat(64), "last_refresh": (Utc::now() - Duration::days(1)).to_rfc3339()})).await;
    assert_eq!(
        body["data"]["auth"]["tokens"]["refresh_token"], "rt_AbCdEfGhIjKlMnOpQrStUvWxn1",
        "the newest upload won"
    );
}

async fn ip_binding_and_trusted_proxies(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(true)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register(&srv, &admin, "bound.example.com").await;
    let call = |ip: &'static str| {
        srv.post("/auth")
            .header("x-api-key", &key)
            .header("x-forwarded-for", ip)
            .json(&json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"}))
    };
    let (status, body) = json(call("198.51.100.1").send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["host"]["ip"], "198.51.100.1");
    let (status, body) = json(call("198.51.100.2").send().await.unwrap()).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("API key not allowed from this IP")),
        "{body}"
    );
    assert_eq!(body["details"]["expected_ip"], "198.51.100.1");
    assert_eq!(body["details"]["received_ip"], "198.51.100.2");
    // force=1 on DELETE /auth accepts the new IP (and deregisters).
    let (status, body) = json(
        srv.delete("/auth?force=1")
            .header("x-api-key", &key)
            .header("x-forwarded-for", "198.51.100.2")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    srv.stop().await;

    // Without trusted proxies a forged X-Forwarded-For changes nothing.
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register(&srv, &admin, "bound.example.com").await;
    let (_, body) = json(
        srv.post("/auth")
            .header("x-api-key", &key)
            .header("x-forwarded-for", "203.0.113.50")
            .json(&json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["host"]["ip"], "127.0.0.1");
    srv.stop().await;
}

async fn failed_authentication_budget(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let bogus = format!("cch_{}", "ab".repeat(32));
    let body = json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"});
    for i in 0..19 {
        let (status, _) = auth_call(&srv, &bogus, body.clone()).await;
        assert_eq!(status, 401, "failure {i}");
    }
    let res = srv
        .post("/auth")
        .header("x-api-key", &bogus)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1800).contains(&retry), "{retry}");
    let body_json: Value = res.json().await.unwrap();
    assert_eq!(
        body_json["message"],
        "Too many failed authentication attempts"
    );
    // Even a valid key is refused from a blocked address.
    let admin = admin_token(&srv).await;
    let (_, key) = register(&srv, &admin, "late.example.com").await;
    let (status, _) = auth_call(&srv, &key, body).await;
    assert_eq!(status, 429);
    srv.stop().await;
}

async fn host_settings_take_effect_at_once(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(true)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (id, key) = register(&srv, &admin, "toggle.example.com").await;
    let admin_post = |path: String, body: Value| srv.post(&path).bearer_auth(&admin).json(&body);
    let retrieve = |ip: &'static str| {
        srv.post("/auth")
            .header("x-api-key", &key)
            .header("x-real-ip", ip)
            .json(&json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"}))
    };
    assert_eq!(retrieve("192.0.2.1").send().await.unwrap().status(), 200);
    assert_eq!(retrieve("192.0.2.2").send().await.unwrap().status(), 403);

    // Roaming: another IP is accepted and becomes the bound one.
    let (status, body) = json(
        admin_post(format!("/admin/hosts/{id}/roaming"), json!({"allow": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, &body["data"]["host"]["allow_roaming_ips"]),
        (200, &json!(true)),
        "{body}"
    );
    let (status, body) = json(retrieve("192.0.2.2").send().await.unwrap()).await;
    assert_eq!(
        (status, body["data"]["host"]["ip"].as_str()),
        (200, Some("192.0.2.2"))
    );

    // Disabled hosts are refused with 403.
    json(
        admin_post(
            format!("/admin/hosts/{id}/enabled"),
            json!({"enabled": "off"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let (status, body) = json(retrieve("192.0.2.2").send().await.unwrap()).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("Host is disabled"))
    );
    json(
        admin_post(format!("/admin/hosts/{id}/enabled"), json!({"enabled": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Insecure: windows open and close access to /auth.
    let (status, body) = json(
        admin_post(
            format!("/admin/hosts/{id}/insecure/enable"),
            json!({"duration_minutes": 5}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "a secure host has no insecure window: {body}");
    json(
        admin_post(
            format!("/admin/hosts/{id}/secure"),
            json!({"secure": false}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let (status, body) = json(retrieve("192.0.2.2").send().await.unwrap()).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("Insecure host API access disabled"))
    );
    let (status, body) = json(
        admin_post(
            format!("/admin/hosts/{id}/insecure/enable"),
            json!({"duration_minutes": 481}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = json(
        admin_post(
            format!("/admin/hosts/{id}/insecure/enable"),
            json!({"duration_minutes": 30}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["host"]["insecure_window_minutes"], 30);
    assert_eq!(retrieve("192.0.2.2").send().await.unwrap().status(), 200);
    json(
        srv.post(&format!("/admin/hosts/{id}/insecure/disable"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(retrieve("192.0.2.2").send().await.unwrap().status(), 403);
    let (status, body) = json(
        srv.get("/admin/hosts/insecure")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            body["data"]["count"].as_u64(),
            body["data"]["active"].as_u64()
        ),
        (Some(1), Some(0)),
        "{body}"
    );
    assert_eq!(body["data"]["hosts"][0]["fqdn"], "toggle.example.com");
    // A newly registered insecure host gets a window.
    let (status, body) = json(
        srv.post("/admin/hosts/register")
            .bearer_auth(&admin)
            .json(&json!({"fqdn": "lab.example.com", "secure": false, "temporary": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["host"]["insecure_enabled_until"].is_string());
    assert!(body["data"]["host"]["expires_at"].is_string());
    assert_eq!(body["data"]["host"]["temporary"], true);

    // Overrides, version pins, IPv4 and key rotation.
    let (_, body) = json(
        admin_post(
            format!("/admin/hosts/{id}/model"),
            json!({"model_override": "gpt-5.5", "reasoning_effort_override": "high"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(
        (
            body["data"]["host"]["model_override"].as_str(),
            body["data"]["host"]["reasoning_effort_override"].as_str()
        ),
        (Some("gpt-5.5"), Some("high"))
    );
    let (_, body) = json(
        admin_post(
            format!("/admin/hosts/{id}/codex-version"),
            json!({"selection": "rust-v0.169.0"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["host"]["client_version_override"], "0.169.0");
    let (status, body) = json(
        admin_post(
            format!("/admin/hosts/{id}/codex-version"),
            json!({"selection": "newest"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["errors"].get("selection").is_some(), "{body}");
    let (_, body) = json(
        admin_post(
            format!("/admin/hosts/{id}/codex-version"),
            json!({"selection": "global"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(body["data"]["host"]["client_version_override"].is_null());
    let (_, body) = json(
        admin_post(format!("/admin/hosts/{id}/ipv4"), json!({"force": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (
            body["data"]["host"]["force_ipv4"].as_bool(),
            body["data"]["host"]["ip"].is_null()
        ),
        (Some(true), true)
    );
    let (status, body) = json(
        admin_post(format!("/admin/hosts/{id}/vip"), json!({"vip": "perhaps"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = json(
        srv.post(&format!("/admin/hosts/{id}/rotate"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["data"]["host"]["api_key"].as_str().unwrap(), key);
    assert_eq!(
        retrieve("192.0.2.2").send().await.unwrap().status(),
        401,
        "the old key stops at once"
    );
    let (status, _) = json(
        srv.post("/admin/hosts/424242/vip")
            .bearer_auth(&admin)
            .json(&json!({"vip": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    let (_, body) = json(
        srv.get(&format!("/api/v1/audit?target=host:{id}&page_size=100"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        body["data"]["events"].as_array().unwrap().len() >= 12,
        "{body}"
    );
    srv.stop().await;
}

async fn fleet_policy_and_kill_switch(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register(&srv, &admin, "policy.example.com").await;
    let sync = || {
        srv.post("/auth")
            .header("x-api-key", &key)
            .json(&json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"}))
    };

    // GET /versions needs no key; data is the versions object itself.
    let (status, body) = json(srv.get("/versions").send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    for field in [
        "client_version",
        "wrapper_url",
        "quota_hard_fail",
        "quota_limit_percent",
        "quota_week_partition",
        "cdx_silent",
    ] {
        assert!(body["data"].get(field).is_some(), "{field}: {body}");
    }

    // The installation id: stable, and a wrapper built for another server is refused.
    let installation = body["data"]["installation_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(installation.len(), 36, "{body}");
    let (_, again) = json(srv.get("/versions").send().await.unwrap()).await;
    assert_eq!(again["data"]["installation_id"], installation.as_str());
    let with_installation = |id: &str| {
        srv.post("/auth").header("x-api-key", &key).json(&json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z", "installation_id": id}))
    };
    assert_eq!(
        with_installation(&installation)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, res) = json(
        with_installation("0f0f0f0f-0000-4000-8000-000000000000")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, res["message"].as_str()),
        (403, Some("Installation ID mismatch"))
    );

    // Quota mode: the percentage is clamped like the peer does, bad partitions are refused.
    let (status, body) = json(
        srv.post("/admin/quota-mode")
            .bearer_auth(&admin)
            .json(&json!({"hard_fail": "off", "limit_percent": 20, "week_partition": "7"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"],
        json!({"hard_fail": false, "limit_percent": 50, "week_partition": 7})
    );
    let (status, body) = json(
        srv.post("/admin/quota-mode")
            .bearer_auth(&admin)
            .json(&json!({"hard_fail": true, "week_partition": 6}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["errors"].get("week_partition").is_some(), "{body}");
    let (_, body) = json(
        srv.get("/admin/quota-mode")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["limit_percent"], 50);

    // Silent mode and prune policy.
    let (status, _) = json(
        srv.post("/admin/cdx-silent")
            .bearer_auth(&admin)
            .json(&json!({"silent": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = json(sync().send().await.unwrap()).await;
    assert_eq!(
        (
            body["data"]["cdx_silent"].as_bool(),
            body["data"]["quota_limit_percent"].as_u64()
        ),
        (Some(true), Some(50)),
        "{body}"
    );
    let (status, body) = json(
        srv.post("/admin/prune-policy")
            .bearer_auth(&admin)
            .json(&json!({"inactivity_days": 14}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["data"]["inactivity_window_days"].as_u64()),
        (200, Some(14))
    );
    let (status, _) = json(
        srv.post("/admin/prune-policy")
            .bearer_auth(&admin)
            .json(&json!({"inactivity_days": 61}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);

    // Kill switch: host routes answer 503, admin routes keep working, nothing is lost.
    let (status, body) = json(
        srv.post("/admin/api/state")
            .bearer_auth(&admin)
            .json(&json!({"disabled": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["data"]["disabled"].as_bool()),
        (200, Some(true))
    );
    for res in [
        sync().send().await.unwrap(),
        srv.get("/versions").send().await.unwrap(),
    ] {
        let (status, body) = json(res).await;
        assert_eq!(
            (status, body["message"].as_str()),
            (503, Some("API disabled by administrator"))
        );
    }
    let (status, _) = json(
        srv.get("/admin/hosts")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = json(
        srv.get("/admin/api/state")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["disabled"], true);
    json(
        srv.post("/admin/api/state")
            .bearer_auth(&admin)
            .json(&json!({"disabled": "no"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(sync().send().await.unwrap().status(), 200);
    let (status, _) = json(
        srv.post("/admin/api/state")
            .json(&json!({"disabled": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    srv.stop().await;
}

on_all_backends!(
    fleet_policy_and_kill_switch,
    host_settings_take_effect_at_once,
    hosts_register_authenticate_and_deregister,
    canonical_auth_truth_table,
    concurrent_stores_newest_wins,
    ip_binding_and_trusted_proxies,
    failed_authentication_budget,
);

async fn installer_links_are_single_use(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (status, body) = json(
        srv.post("/admin/hosts/register")
            .bearer_auth(&admin)
            .json(&json!({"fqdn": "new.example.com"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let key = body["data"]["host"]["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let installer = &body["data"]["installer"];
    let url = installer["url"].as_str().unwrap().to_string();
    let token = installer["token"].as_str().unwrap().to_string();
    assert!(
        token.starts_with("cci_") && !url.contains(&key),
        "the key never travels in a URL"
    );
    assert_eq!(installer["command"], format!("curl -fsSL \"{url}\" | bash"));
    let path = format!("/install/{token}");

    // Link scanners: HEAD and HTML previews do not consume.
    let res = srv
        .http
        .head(format!("{}{path}", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = srv
        .get(&path)
        .header("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("new.example.com") && page.contains("curl -fsSL") && !page.contains(&key),
        "{page}"
    );

    // 100 concurrent fetches: exactly one script, the rest 410.
    let srv = Arc::new(srv);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let srv = srv.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let res = srv.get(&path).send().await.unwrap();
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            (status, headers, res.text().await.unwrap())
        }));
    }
    let mut winners = 0;
    for t in tasks {
        let (status, headers, body) = t.await.unwrap();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/x-shellscript")
        );
        assert_eq!(headers["cache-control"], "no-store");
        match status {
            200 => {
                winners += 1;
                assert!(
                    body.contains(&key) && body.contains("new.example.com"),
                    "{body}"
                );
            }
            410 => assert!(
                body.contains("Installer already used") && body.contains("exit 1"),
                "{body}"
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(
        srv.http
            .head(format!("{}{path}", srv.url))
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
    let res = srv
        .get(&format!("/install/cci_{}", "0".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("exit 1"));
    let res = srv.get("/install/garbage").send().await.unwrap();
    assert_eq!(res.status(), 404);

    // Rotating the key revokes the old installer and issues a new one.
    let id = body_id(&srv, &admin, "new.example.com").await;
    let (_, body) = json(
        srv.post(&format!("/admin/hosts/{id}/rotate"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let new_token = body["data"]["installer"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_token, token);
    let res = srv
        .get(&format!("/install/{new_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(body["data"]["host"]["api_key"].as_str().unwrap())
    );
}

async fn body_id(srv: &TestServer, admin: &str, fqdn: &str) -> i64 {
    let (_, body) = json(
        srv.get(&format!("/admin/hosts?q={fqdn}"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    body["data"]["hosts"][0]["id"].as_i64().unwrap()
}

on_all_backends!(installer_links_are_single_use);

async fn admin_upload_seed_links_and_host_view(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let admin = admin_token(&srv).await;

    // Direct upload: JSON (object or text) and multipart.
    let doc = document(90, "U");
    let body = format!("{{\"auth\":{doc}}}");
    let (status, res) = json(
        srv.post("/admin/auth/upload")
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, res["data"]["status"].as_str()),
        (200, Some("updated")),
        "{res}"
    );
    let text_doc = document(80, "T");
    let (_, res) = json(
        srv.post("/admin/auth/upload")
            .bearer_auth(&admin)
            .json(&json!({"auth": text_doc}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(res["data"]["status"], "updated", "{res}");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::text(document(70, "M")).file_name("auth.json"),
    );
    let (status, res) = json(
        srv.post("/admin/auth/upload")
            .bearer_auth(&admin)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, res["data"]["status"].as_str()),
        (200, Some("updated")),
        "{res}"
    );
    let (status, res) = json(
        srv.post("/admin/auth/upload")
            .json(&json!({"auth": doc}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{res}");

    // Seed link: the script does not burn it, an invalid upload does not burn it, one valid
    // upload does, and only one of many concurrent uploads wins.
    let (status, res) = json(
        srv.post("/admin/auth/seed-command")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    let url = res["data"]["url"].as_str().unwrap().to_string();
    assert_eq!(
        res["data"]["command"],
        format!("curl -fsSL \"{url}\" | bash")
    );
    let path = format!("/seed/{}", url.split("/seed/").nth(1).unwrap());
    let script = srv.get(&path).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("--data-binary"));
    let (status, res) = json(srv.post(&path).header("content-type", "application/json").body("{\"last_refresh\": \"not a time\", \"OPENAI_API_KEY\": \"sk-abcdefghijklmnopqrstuvwxyz\"}").send().await.unwrap()).await;
    assert_eq!(status, 422, "{res}");
    let srv = Arc::new(srv);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let srv = srv.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let doc = document(10 + i, &format!("S{i}"));
            srv.post(&path)
                .header("content-type", "application/json")
                .body(doc)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 410),
        "{statuses:?}"
    );
    assert_eq!(srv.get(&path).send().await.unwrap().status(), 410);

    // The admin view masks tokens unless revealed, and revealing is audited.
    let (id, key) = register(&srv, &admin, "viewed.example.com").await;
    auth_call(
        &srv,
        &key,
        json!({"digest": "0".repeat(64), "last_refresh": Utc::now().to_rfc3339()}),
    )
    .await;
    let (status, res) = json(
        srv.get(&format!("/admin/hosts/{id}/auth"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    let shown = res["data"]["auth"]["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        shown.contains('…') && !shown.contains("AbCdEfGhIjKlMnOpQr"),
        "{shown}"
    );
    assert_eq!(res["data"]["seen_digest"], "0".repeat(64));
    assert_eq!(res["data"]["in_sync"], false);
    let (_, res) = json(
        srv.get(&format!(
            "/admin/hosts/{id}/auth?reveal=1&reason=incident-42"
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(
        res["data"]["auth"]["tokens"]["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("rt_AbCdEfGhIjKlMnOpQrStUvWx")
    );
    let (_, res) = json(
        srv.get("/api/v1/audit?action=codex_auth.reveal")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(res["data"]["events"][0]["details"]["reason"], "incident-42");
}

on_all_backends!(admin_upload_seed_links_and_host_view);

async fn host_users_and_logs(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register(&srv, &admin, "shared.example.com").await;
    let record = |body: Value| {
        srv.post("/host/users")
            .header("x-api-key", &key)
            .json(&body)
    };
    let (status, body) = json(
        record(json!({"username": "alice", "hostname": "shared"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["users"][0]["username"], "alice");
    let long = "b".repeat(400);
    let (_, body) = json(
        record(json!({"username": long, "hostname": "shared"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["users"].as_array().unwrap().len(), 2);
    assert!(
        body["data"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"].as_str().unwrap().len() == 191)
    );
    let (_, body) = json(
        record(json!({"username": "", "hostname": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        body["data"]["users"].as_array().unwrap().len(),
        2,
        "empty usernames record nothing"
    );
    let (status, _) = json(record(json!({"username": 5})).send().await.unwrap()).await;
    assert_eq!(status, 422);
    let (status, _) = json(
        srv.post("/host/users")
            .json(&json!({"username": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);

    // /admin/logs is bounded and paginated.
    let (status, body) = json(
        srv.get("/admin/logs?limit=1")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["logs"].as_array().unwrap().len(), 1);
    let cursor = body["data"]["next_cursor"].as_str().unwrap().to_string();
    let (_, next) = json(
        srv.get(&format!("/admin/logs?limit=500&cursor={cursor}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(!next["data"]["logs"].as_array().unwrap().is_empty());
    assert_ne!(next["data"]["logs"][0]["id"], body["data"]["logs"][0]["id"]);
    let (status, _) = json(
        srv.get("/admin/logs?limit=501")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
}

on_all_backends!(host_users_and_logs);

async fn pruning_removes_expired_idle_and_unused_hosts(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (used_id, used_key) = register(&srv, &admin, "used.example.com").await;
    let (idle_id, idle_key) = register(&srv, &admin, "idle.example.com").await;
    let (unused_id, _) = register(&srv, &admin, "unused.example.com").await;
    let (temp_id, _) = register(&srv, &admin, "temp.example.com").await;
    let (fresh_id, _) = register(&srv, &admin, "fresh.example.com").await;
    for key in [&used_key, &idle_key] {
        auth_call(
            &srv,
            key,
            json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"}),
        )
        .await;
    }
    // Age the rows as if time had passed.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await; // activity flush
    let db = codex_central_store::Store::connect(&srv.db.as_ref().unwrap().url)
        .await
        .unwrap();
    let now = codex_central_store::now_ms();
    let day = 86_400_000i64;
    use codex_central_store::entities::hosts::Column;
    use sea_orm::Value;
    let age = |id: i64, changes: Vec<(Column, Value)>| {
        let db = db.clone();
        async move {
            codex_central_store::hosts::update_columns(db.db(), id, changes, now)
                .await
                .unwrap()
        }
    };
    age(
        idle_id,
        vec![(Column::LastSeenAt, Value::BigInt(Some(now - 31 * day)))],
    )
    .await;
    age(
        used_id,
        vec![(Column::CreatedAt, Value::BigInt(Some(now - 40 * day)))],
    )
    .await;
    age(
        unused_id,
        vec![(Column::CreatedAt, Value::BigInt(Some(now - 3_600_000)))],
    )
    .await;
    age(
        temp_id,
        vec![(Column::ExpiresAt, Value::BigInt(Some(now - 1000)))],
    )
    .await;
    let _ = fresh_id;
    db.close().await.unwrap();

    let (status, body) = json(
        srv.post("/admin/hosts/prune")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut pruned: Vec<String> = body["data"]["pruned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    pruned.sort();
    assert_eq!(
        pruned,
        ["idle.example.com", "temp.example.com", "unused.example.com"]
    );
    let (_, body) = json(
        srv.get("/admin/hosts")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        body["data"]["total"], 2,
        "used and fresh hosts stay: {body}"
    );
    let (_, body) = json(
        srv.get("/api/v1/audit?action=host.prune")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["events"].as_array().unwrap().len(), 3);
    // Prune policy 0 turns the inactivity rule off.
    json(
        srv.post("/admin/prune-policy")
            .bearer_auth(&admin)
            .json(&json!({"inactivity_days": 0}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (_, body) = json(
        srv.post("/admin/hosts/prune")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["pruned"], json!([]));
}

on_all_backends!(pruning_removes_expired_idle_and_unused_hosts);

async fn overview_reports_the_fleet(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on(false)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register(&srv, &admin, "overview.example.com").await;
    let (status, body) = json(
        srv.get("/admin/overview")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["totals"]["hosts"], 1);
    assert_eq!(
        (
            body["data"]["has_canonical_auth"].as_bool(),
            body["data"]["seed_required"].as_bool()
        ),
        (Some(false), Some(true))
    );
    assert!(body["data"]["latest_log_at"].is_string(), "{body}");
    assert_eq!(body["data"]["inactivity_window_days"], 30);
    store(&srv, &key, &document(3, "O")).await;
    let (_, body) = json(
        srv.get("/admin/overview")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["has_canonical_auth"], true);
    assert!(body["data"]["last_refresh"].is_string(), "{body}");
    // Host activity is coalesced and written every few seconds (ACTIVITY_FLUSH).
    let started = std::time::Instant::now();
    let body = loop {
        let (_, body) = json(
            srv.get("/admin/overview")
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if body["data"]["totals"]["active_24h"] == 1 {
            break body;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(8),
            "activity never written: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(body["data"]["latest_activity_at"].is_string(), "{body}");
    let (status, _) = json(srv.get("/admin/overview").send().await.unwrap()).await;
    assert_eq!(status, 401);
}

on_all_backends!(overview_reports_the_fleet);

/// Two replicas on one database: a change made through one reaches the other's host cache
/// within about a second (the host change log), and unchanged hosts stay cached.
async fn host_changes_reach_other_replicas(backend: Backend) {
    let Some(a) = spawn(
        backend,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                master_key: Some(REPLICA_KEY.into()),
                ..Default::default()
            },
        },
    )
    .await
    else {
        return;
    };
    let url = a.db.as_ref().unwrap().url.clone();
    let b = crate::testkit::spawn_with(
        Layer {
            auth_mode: Some(codex_central::config::AuthMode::On),
            master_key: Some(REPLICA_KEY.into()),
            database_url: Some(url),
            ..Default::default()
        },
        None,
    )
    .await;
    let admin = admin_token(&a).await;
    let (id, key) = register(&a, &admin, "replica.example.com").await;
    let retrieve = json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"});
    // B caches the host.
    let (status, body) = auth_call(&b, &key, retrieve.clone()).await;
    assert_eq!(status, 200, "{body}");
    // Disabled through A: B refuses it within the change-log second.
    let (status, _) = json(
        a.post(&format!("/admin/hosts/{id}/enabled"))
            .bearer_auth(&admin)
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let started = std::time::Instant::now();
    loop {
        let (status, _) = auth_call(&b, &key, retrieve.clone()).await;
        if status == 403 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "replica B still accepts a host disabled through A"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Rotated through A: B stops accepting the old key.
    let (status, _) = json(
        a.post(&format!("/admin/hosts/{id}/enabled"))
            .bearer_auth(&admin)
            .json(&json!({"enabled": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let started = std::time::Instant::now();
    while auth_call(&b, &key, retrieve.clone()).await.0 != 200 {
        assert!(started.elapsed() < std::time::Duration::from_secs(4));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, _) = json(
        a.post(&format!("/admin/hosts/{id}/rotate"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let started = std::time::Instant::now();
    while auth_call(&b, &key, retrieve.clone()).await.0 != 401 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "replica B still accepts a rotated key"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.stop().await;
}

const REPLICA_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

on_all_backends!(host_changes_reach_other_replicas);
