//! Hosts over the peer-compatible REST API: registration, authentication, IP binding, the failure budget and per-host settings.

use super::*;

async fn hosts_register_authenticate_and_deregister(Ready { srv, admin }: Ready) {
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

async fn ip_binding_and_trusted_proxies(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on_behind_proxy()).await else {
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
    let Some(srv) = spawn(backend, auth_on()).await else {
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
    let Some(srv) = spawn(backend, auth_on()).await else {
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

async fn host_settings_take_effect_at_once(Ready { srv, admin }: Ready) {
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

on_all_backends!(ready(auth_on()) => hosts_register_authenticate_and_deregister);

on_all_backends!(ready(auth_on_behind_proxy()) => host_settings_take_effect_at_once);

on_all_backends!(failed_authentication_budget, ip_binding_and_trusted_proxies);
