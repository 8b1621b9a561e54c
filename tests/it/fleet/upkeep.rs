//! What hosts report about themselves (local users) and the pruning of idle hosts.

use super::*;

async fn host_users_and_logs(Ready { srv, admin }: Ready) {
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

async fn pruning_removes_expired_idle_and_unused_hosts(Ready { srv, admin }: Ready) {
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

on_all_backends!(ready(auth_on()) => host_users_and_logs, pruning_removes_expired_idle_and_unused_hosts);
