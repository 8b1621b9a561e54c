//! The store on SQLite, PostgreSQL and MariaDB: migrations, settings, leases, audit.

use std::sync::Arc;
use std::time::Duration;

use codex_central_store::audit::{self, AuditFilter, NewAuditEvent};
use codex_central_store::{Store, leases, settings};

use crate::on_all_backends;
use crate::testkit::{Backend, TestDb};

async fn open(backend: Backend) -> Option<(TestDb, Store)> {
    let db = TestDb::create(backend).await?;
    let store = Store::connect_and_migrate(&db.url)
        .await
        .expect("connect and migrate");
    Some((db, store))
}

async fn migrations_are_idempotent_and_current(backend: Backend) {
    let Some((_db, store)) = open(backend).await else {
        return;
    };
    assert!(store.pending_migrations().await.unwrap().is_empty());
    store.migrate().await.expect("second migrate is a no-op");
    store.ping().await.unwrap();
    store.close().await.unwrap();
}

async fn settings_round_trip(backend: Backend) {
    let Some((_db, store)) = open(backend).await else {
        return;
    };
    #[derive(serde::Serialize, serde::Deserialize, Default, PartialEq, Debug)]
    struct Doc {
        a: u32,
        b: String,
    }
    let missing: Doc = settings::get_json(&store, "t.doc").await.unwrap();
    assert_eq!(missing, Doc::default());
    settings::put_json(
        store.db(),
        "t.doc",
        &Doc {
            a: 1,
            b: "x".into(),
        },
        "test",
    )
    .await
    .unwrap();
    settings::put_json(
        store.db(),
        "t.doc",
        &Doc {
            a: 2,
            b: "é/ü".into(),
        },
        "test",
    )
    .await
    .unwrap();
    let doc: Doc = settings::get_json(&store, "t.doc").await.unwrap();
    assert_eq!(
        doc,
        Doc {
            a: 2,
            b: "é/ü".into()
        }
    );
    settings::put(store.db(), "t.secret", "cc1:abc:zzz".into(), true, "test")
        .await
        .unwrap();
    assert!(
        settings::get_json::<Doc>(&store, "t.secret").await.is_err(),
        "encrypted values are not plain JSON"
    );
    assert!(
        settings::swap_encrypted(&store, "t.secret", "cc1:abc:zzz", "cc1:def:yyy".into())
            .await
            .unwrap()
    );
    assert!(
        !settings::swap_encrypted(&store, "t.secret", "cc1:abc:zzz", "cc1:x:y".into())
            .await
            .unwrap()
    );
    let enc = settings::list_encrypted(&store).await.unwrap();
    assert_eq!(enc.len(), 1);
    assert_eq!(enc[0].value, "cc1:def:yyy");
}

async fn leases_are_exclusive(backend: Backend) {
    let Some((_db, store)) = open(backend).await else {
        return;
    };
    let store = Arc::new(store);
    // Twenty replicas race for a free lease: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            leases::acquire(
                &store,
                "job.race",
                &format!("holder-{i}"),
                Duration::from_secs(30),
            )
            .await
            .unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one holder acquires a free lease");
    let holder = leases::current(&store, "job.race")
        .await
        .unwrap()
        .unwrap()
        .holder;
    // The holder re-acquires (extends); another is refused while it is valid.
    assert!(
        leases::acquire(&store, "job.race", &holder, Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        !leases::acquire(&store, "job.race", "intruder", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        leases::renew(&store, "job.race", &holder, Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        !leases::renew(&store, "job.race", "intruder", Duration::from_secs(30))
            .await
            .unwrap()
    );
    // Expired leases can be taken over, and the old holder then cannot renew.
    assert!(
        leases::acquire(&store, "job.short", "a", Duration::from_millis(50))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert!(
        leases::acquire(&store, "job.short", "b", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(
        !leases::renew(&store, "job.short", "a", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(!leases::release(&store, "job.short", "a").await.unwrap());
    assert!(leases::release(&store, "job.short", "b").await.unwrap());
    assert!(
        leases::acquire(&store, "job.short", "a", Duration::from_secs(30))
            .await
            .unwrap()
    );
}

async fn audit_is_paginated_newest_first(backend: Backend) {
    let Some((_db, store)) = open(backend).await else {
        return;
    };
    for i in 0..5 {
        let action = if i % 2 == 0 { "even" } else { "odd" };
        let event =
            NewAuditEvent::without_principal("test:1", "127.0.0.1", action, format!("t:{i}"))
                .details(serde_json::json!({ "i": i, "long": "x".repeat(300) }));
        audit::append(store.db(), event).await.unwrap();
    }
    let all = AuditFilter::default();
    let page1 = audit::list(&store, &all, None, 2).await.unwrap();
    assert_eq!(
        page1.iter().map(|r| r.target.as_str()).collect::<Vec<_>>(),
        ["t:4", "t:3"]
    );
    let page2 = audit::list(&store, &all, Some(page1[1].id), 10)
        .await
        .unwrap();
    assert_eq!(page2.len(), 3);
    let even = AuditFilter {
        action: "even".into(),
        ..Default::default()
    };
    assert_eq!(audit::list(&store, &even, None, 10).await.unwrap().len(), 3);
}

on_all_backends!(
    migrations_are_idempotent_and_current,
    settings_round_trip,
    leases_are_exclusive,
    audit_is_paginated_newest_first,
);

async fn host_activity_is_recorded(backend: Backend) {
    let Some((_db, store)) = open(backend).await else {
        return;
    };
    let now = codex_central_store::now_ms();
    let host = codex_central_store::hosts::insert(
        store.db(),
        crate::testkit::host_row("activity.example.com", 'a'),
    )
    .await
    .unwrap();
    use codex_central_store::hosts::{Activity, record_activity};
    record_activity(
        &store,
        &[Activity {
            id: host.id,
            calls: 3,
            last_seen: now + 5,
            client_version: Some("0.169.0".into()),
            wrapper_version: None,
            first_use: true,
        }],
    )
    .await
    .unwrap();
    // A second flush, in a batch with a host that does not exist (deleted meanwhile).
    record_activity(
        &store,
        &[
            Activity {
                id: host.id,
                calls: 2,
                last_seen: now + 9,
                client_version: None,
                wrapper_version: Some("1.2.3".into()),
                first_use: true,
            },
            Activity {
                id: host.id + 1000,
                calls: 7,
                last_seen: now,
                ..Default::default()
            },
        ],
    )
    .await
    .unwrap();
    let row = codex_central_store::hosts::get(store.db(), host.id)
        .await
        .unwrap();
    assert_eq!(row.api_calls, 5);
    assert_eq!(row.last_seen_at, Some(now + 9));
    assert_eq!(row.provisioned_at, Some(now + 5), "first use is kept");
    assert_eq!(row.client_version.as_deref(), Some("0.169.0"));
    assert_eq!(row.wrapper_version.as_deref(), Some("1.2.3"));
}

on_all_backends!(host_activity_is_recorded);

/// Failure counters are kept while they count or block, and pruned afterwards.
async fn auth_failure_rows_are_pruned(backend: Backend) {
    use codex_central_store::auth_failures::{Budget, blocked_until, prune, record_failure};
    let Some((_db, store)) = open(backend).await else {
        return;
    };
    let budget = Budget {
        max_failures: 2,
        window_ms: 600_000,
        block_ms: 1_800_000,
    };
    let now = codex_central_store::now_ms();
    let old = now - 700_000;
    // An address that failed once long ago, one blocked long ago (block still running), and
    // one that failed just now.
    record_failure(&store, "198.51.100.1", old, budget)
        .await
        .unwrap();
    record_failure(&store, "198.51.100.2", old, budget)
        .await
        .unwrap();
    record_failure(&store, "198.51.100.2", old, budget)
        .await
        .unwrap();
    record_failure(&store, "198.51.100.3", now, budget)
        .await
        .unwrap();
    assert_eq!(prune(&store, now - budget.window_ms, now).await.unwrap(), 1);
    assert!(
        blocked_until(&store, "198.51.100.2", now)
            .await
            .unwrap()
            .is_some()
    );
    // The recent one still counts: its next failure blocks.
    assert!(
        record_failure(&store, "198.51.100.3", now, budget)
            .await
            .unwrap()
            .is_some()
    );
}

on_all_backends!(auth_failure_rows_are_pruned);

/// Per-minute limits hold across replicas: two stores (two pools, as two processes would have)
/// race on one token and exactly the limit gets through.
async fn rate_limits_hold_across_replicas(backend: Backend) {
    use codex_central_usage::domain::limits::{Decision, Limits, add_tokens, check};
    let Some((db, a)) = open(backend).await else {
        return;
    };
    let b = Store::connect(&db.url).await.unwrap();
    let now = codex_central_store::rate_windows::window_of(codex_central_store::now_ms()) + 1_000;
    let limits = Limits {
        requests_per_minute: Some(25),
        tokens_per_minute: None,
    };
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            check(&store, "tok_race", limits, now).await.unwrap()
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        match t.await.unwrap() {
            Decision::Allowed => allowed += 1,
            Decision::Denied {
                retry_after_secs,
                reason,
            } => {
                assert!((1..=60).contains(&retry_after_secs));
                assert!(reason.contains("25 requests per minute"), "{reason}");
            }
        }
    }
    assert_eq!(allowed, 25);
    // The next minute starts afresh.
    assert_eq!(
        check(&a, "tok_race", limits, now + 60_000).await.unwrap(),
        Decision::Allowed
    );
    // Tokens used by finished calls count against tokens per minute.
    let tpm = Limits {
        requests_per_minute: None,
        tokens_per_minute: Some(100),
    };
    assert_eq!(
        check(&a, "tok_tpm", tpm, now).await.unwrap(),
        Decision::Allowed
    );
    add_tokens(&b, "tok_tpm", now, 60).await.unwrap();
    assert_eq!(
        check(&a, "tok_tpm", tpm, now).await.unwrap(),
        Decision::Allowed
    );
    add_tokens(&a, "tok_tpm", now, 40).await.unwrap();
    assert!(matches!(
        check(&b, "tok_tpm", tpm, now).await.unwrap(),
        Decision::Denied { .. }
    ));
    b.close().await.unwrap();
}

on_all_backends!(rate_limits_hold_across_replicas);

/// The request log keeps what the retention settings say and no more: rows past the age go,
/// then all but the newest `max_rows`; with neither bound nothing goes. Old rate windows go too.
async fn request_log_retention_prunes_by_age_and_rows(backend: Backend) {
    use codex_central_store::entities::proxy_requests::Model;
    use codex_central_store::proxy_requests;
    use codex_central_usage::domain::retention::{Pruned, Retention, prune_once};
    let Some((_db, store)) = open(backend).await else {
        return;
    };
    let day = 86_400_000;
    let now = codex_central_store::now_ms();
    let row = |i: i64, at: i64| Model {
        id: 0,
        at,
        user_id: format!("u{i}"),
        token_id: String::new(),
        host_id: None,
        provider_id: "p".into(),
        requested_model: "m".into(),
        upstream_model: "m".into(),
        key_source: "shared".into(),
        endpoint: "responses".into(),
        streamed: false,
        status_code: 200,
        error_code: String::new(),
        latency_ms: 1,
        ttfb_ms: 1,
        input_tokens: 1,
        cached_input_tokens: 0,
        output_tokens: 1,
        reasoning_output_tokens: 0,
        total_tokens: 2,
        client_ip: "127.0.0.1".into(),
    };
    // 12,000 rows (more than one delete chunk) 40 days old, then 30 recent ones, oldest first.
    for chunk in 0..12 {
        let rows = (0..1_000)
            .map(|i| row(chunk * 1_000 + i, now - 40 * day))
            .collect();
        proxy_requests::insert_many(&store, rows).await.unwrap();
    }
    let recent = (0..30).map(|i| row(100_000 + i, now - 30 + i)).collect();
    proxy_requests::insert_many(&store, recent).await.unwrap();

    let keep_all = Retention {
        max_age: None,
        max_rows: None,
        interval: Duration::from_secs(60),
    };
    let pass = prune_once(&store, &keep_all, now).await.unwrap();
    assert_eq!(pass.requests, 0);
    assert_eq!(proxy_requests::count(&store).await.unwrap(), 12_030);

    let thirty_days = Retention {
        max_age: Some(Duration::from_secs(30 * 86_400)),
        ..keep_all
    };
    let pass = prune_once(&store, &thirty_days, now).await.unwrap();
    assert_eq!(pass.requests, 12_000, "every row older than 30 days");
    assert_eq!(proxy_requests::count(&store).await.unwrap(), 30);

    let ten_rows = Retention {
        max_rows: Some(10),
        ..thirty_days
    };
    assert_eq!(
        prune_once(&store, &ten_rows, now).await.unwrap(),
        Pruned {
            requests: 20,
            rate_windows: 0
        }
    );
    let left = proxy_requests::list(&store, &Default::default(), None, 100)
        .await
        .unwrap();
    let users: Vec<_> = left.iter().map(|r| r.user_id.as_str()).collect();
    let newest: Vec<String> = (0..10).rev().map(|i| format!("u{}", 100_020 + i)).collect();
    assert_eq!(users, newest, "the newest ten rows are kept");
    // Idempotent: a second pass finds nothing more.
    assert_eq!(
        prune_once(&store, &ten_rows, now).await.unwrap().requests,
        0
    );
    store.close().await.unwrap();
}

on_all_backends!(request_log_retention_prunes_by_age_and_rows);

/// A statement that runs longer than the configured database wait is cut off on the servers
/// (SQLite has no server to hang on), so no request holds a connection past it.
async fn statements_are_bounded_by_the_database_wait(backend: Backend) {
    let sleep = match backend {
        Backend::Sqlite => return,
        Backend::Postgres => "SELECT pg_sleep(5)",
        Backend::MySql => "SELECT SLEEP(5)",
    };
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Store::connect_with(&db.url, Duration::from_secs(1))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let result = sea_orm::ConnectionTrait::execute_unprepared(store.db(), sleep).await;
    let took = started.elapsed();
    assert!(result.is_err(), "the sleep was cut off: {result:?}");
    assert!(took < Duration::from_secs(3), "cut off after {took:?}");
    // The connection is still good for the next statement.
    store.ping().await.unwrap();
    store.close().await.unwrap();
}

on_all_backends!(statements_are_bounded_by_the_database_wait);

/// The refresh protocol's row: one claim at a time, the kept answer survives until a success or
/// a failure clears it, failures count up and a blocked token stays blocked until a success.
async fn refresh_claims_are_exclusive(backend: Backend) {
    use codex_central_store::codex_auth_lifecycle::{self as lifecycle, Failure};
    let Some((_db, store)) = open(backend).await else {
        return;
    };
    let db = store.db();
    let fresh = lifecycle::get(db).await.unwrap();
    assert!(fresh.in_flight_token_sha.is_empty() && fresh.pending_answer_enc.is_empty());
    // Eight replicas race for the same token: exactly one claims it.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            lifecycle::claim(store.db(), "sha-1", &format!("replica-{i}"), 1_000)
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
    assert!(!lifecycle::claim(db, "sha-2", "late", 2_000).await.unwrap());

    lifecycle::keep_answer(db, "sha-1", "sealed".into(), 3_000)
        .await
        .unwrap();
    let kept = lifecycle::get(db).await.unwrap();
    assert_eq!(
        (kept.pending_answer_enc.as_str(), kept.pending_at),
        ("sealed", Some(3_000))
    );
    let failure = Failure {
        code: "idp_unavailable".into(),
        message: "503".into(),
        block_token_sha: None,
        next_attempt_at: Some(9_000),
    };
    lifecycle::failed(db, failure.clone()).await.unwrap();
    lifecycle::failed(
        db,
        Failure {
            code: "refresh_token_reused".into(),
            block_token_sha: Some("sha-1".into()),
            next_attempt_at: None,
            ..failure
        },
    )
    .await
    .unwrap();
    let failed = lifecycle::get(db).await.unwrap();
    assert_eq!(failed.consecutive_failures, 2);
    assert_eq!(failed.blocked_token_sha, "sha-1");
    assert_eq!(failed.last_error_code, "refresh_token_reused");
    assert!(failed.in_flight_token_sha.is_empty() && failed.pending_answer_enc.is_empty());

    assert!(lifecycle::claim(db, "sha-3", "next", 4_000).await.unwrap());
    lifecycle::succeeded(db, 5_000).await.unwrap();
    let ok = lifecycle::get(db).await.unwrap();
    assert_eq!(ok.last_success_at, Some(5_000));
    assert_eq!(ok.last_attempt_at, Some(4_000));
    assert_eq!(ok.consecutive_failures, 0);
    assert!(ok.blocked_token_sha.is_empty() && ok.last_error.is_empty());
    assert!(ok.in_flight_token_sha.is_empty() && ok.next_attempt_at.is_none());
}

on_all_backends!(refresh_claims_are_exclusive);
