//! Two replicas on one database: host changes reach the other replica's cache.

use super::*;

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

on_all_backends!(host_changes_reach_other_replicas);
