//! Fleet policy: the kill switch, silent mode, quota mode and prune policy, and the overview.

use super::*;

async fn fleet_policy_and_kill_switch(Ready { srv, admin }: Ready) {
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

async fn overview_reports_the_fleet(Ready { srv, admin }: Ready) {
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

on_all_backends!(ready(auth_on()) => fleet_policy_and_kill_switch, overview_reports_the_fleet);
