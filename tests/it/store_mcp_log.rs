//! The `/mcp` access log's storage on SQLite, PostgreSQL and MariaDB: batched inserts that fit
//! over-long values to their columns, newest-first listing with its filters, and pruning by age
//! and by row count.

use codex_central_store::Store;
use codex_central_store::entities::mcp_access_logs::Model;
use codex_central_store::mcp_access_logs;

use crate::on_all_backends;
use crate::testkit::{Backend, TestDb};

fn row(at: i64, principal_id: &str, method: &str, is_error: bool) -> Model {
    Model {
        id: 0,
        at,
        principal_kind: "host".into(),
        principal_id: principal_id.into(),
        principal_name: format!("{principal_id}.example"),
        client_ip: "10.0.0.1".into(),
        method: method.into(),
        target: "memory_search".into(),
        http_status: if is_error { 403 } else { 200 },
        is_error,
        error: if is_error {
            "refused".into()
        } else {
            String::new()
        },
        duration_ms: 12,
    }
}

fn methods(rows: &[Model]) -> Vec<&str> {
    rows.iter().map(|r| r.method.as_str()).collect()
}

async fn mcp_access_log_stores_lists_and_prunes(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Store::connect_and_migrate(&db.url).await.unwrap();
    assert!(
        mcp_access_logs::list(&store, "", false, 10)
            .await
            .unwrap()
            .is_empty()
    );
    mcp_access_logs::insert_many(&store, Vec::new())
        .await
        .unwrap();

    // Ids (and times) grow in insertion order, across batches.
    mcp_access_logs::insert_many(
        &store,
        vec![
            row(1_000, "1", "initialize", false),
            row(2_000, "2", "tools/list", false),
            row(3_000, "1", "tools/call", true),
        ],
    )
    .await
    .unwrap();
    mcp_access_logs::insert_many(
        &store,
        vec![
            row(4_000, "2", "resources/read", true),
            row(5_000, "1", "ping", false),
        ],
    )
    .await
    .unwrap();
    let all = mcp_access_logs::list(&store, "", false, 100).await.unwrap();
    assert_eq!(
        methods(&all),
        [
            "ping",
            "resources/read",
            "tools/call",
            "tools/list",
            "initialize"
        ]
    );
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    assert_eq!(all[2].error, "refused");
    assert_eq!(all[2].http_status, 403);
    assert_eq!(all[2].principal_name, "1.example");
    let mine = mcp_access_logs::list(&store, "1", false, 100)
        .await
        .unwrap();
    assert_eq!(methods(&mine), ["ping", "tools/call", "initialize"]);
    let errors = mcp_access_logs::list(&store, "", true, 100).await.unwrap();
    assert_eq!(methods(&errors), ["resources/read", "tools/call"]);
    let my_errors = mcp_access_logs::list(&store, "2", true, 100).await.unwrap();
    assert_eq!(methods(&my_errors), ["resources/read"]);
    assert_eq!(
        methods(&mcp_access_logs::list(&store, "", false, 2).await.unwrap()),
        ["ping", "resources/read"]
    );
    assert!(
        mcp_access_logs::list(&store, "nobody", false, 100)
            .await
            .unwrap()
            .is_empty()
    );

    // Over-long values (multi-byte ones too) are cut to their columns rather than failing the
    // batch on a strict MySQL.
    let mut long = row(6_000, &"p".repeat(300), &"m".repeat(300), true);
    long.principal_kind = "k".repeat(40);
    long.principal_name = "é".repeat(400);
    long.client_ip = "1".repeat(100);
    long.target = "日".repeat(400);
    long.error = "ü".repeat(2_000);
    mcp_access_logs::insert_many(&store, vec![long, row(6_001, "3", "after", false)])
        .await
        .unwrap();
    let newest = mcp_access_logs::list(&store, "", false, 2).await.unwrap();
    assert_eq!(
        methods(&newest)[0],
        "after",
        "the rest of the batch went in"
    );
    let cut = &newest[1];
    assert_eq!(cut.principal_kind.chars().count(), 16);
    assert_eq!(cut.principal_id.chars().count(), 191);
    assert_eq!(cut.principal_name, "é".repeat(255));
    assert_eq!(cut.client_ip.chars().count(), 64);
    assert_eq!(cut.method.chars().count(), 100);
    assert_eq!(cut.target, "日".repeat(255));
    assert_eq!(cut.error, "ü".repeat(500));
    assert_eq!(mcp_access_logs::count(&store).await.unwrap(), 7);

    // Without bounds nothing goes; by age, every row before the cutoff.
    assert_eq!(mcp_access_logs::prune(&store, None, None).await.unwrap(), 0);
    assert_eq!(
        mcp_access_logs::prune(&store, Some(2_500), None)
            .await
            .unwrap(),
        2
    );
    let left = mcp_access_logs::list(&store, "", false, 100).await.unwrap();
    assert_eq!(left.len(), 5);
    assert!(left.iter().all(|r| r.at >= 2_500));
    // By count, all but the newest; both bounds together take the stricter.
    assert_eq!(
        mcp_access_logs::prune(&store, None, Some(3)).await.unwrap(),
        2
    );
    let left = mcp_access_logs::list(&store, "", false, 100).await.unwrap();
    assert_eq!(methods(&left)[0], "after");
    assert_eq!(left.len(), 3);
    assert_eq!(
        mcp_access_logs::prune(&store, Some(0), Some(2))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        mcp_access_logs::prune(&store, Some(6_001), Some(100))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        methods(&mcp_access_logs::list(&store, "", false, 100).await.unwrap()),
        ["after"]
    );
    // A cutoff past every row, or a count of nothing, empties the log.
    assert_eq!(
        mcp_access_logs::prune(&store, Some(i64::MAX), None)
            .await
            .unwrap(),
        1
    );
    mcp_access_logs::insert_many(&store, vec![row(7_000, "1", "again", false)])
        .await
        .unwrap();
    assert_eq!(
        mcp_access_logs::prune(&store, None, Some(0)).await.unwrap(),
        1
    );
    assert_eq!(mcp_access_logs::count(&store).await.unwrap(), 0);

    // Many rows, pruned over several chunks, keep exactly the newest.
    let many: Vec<Model> = (0..6_000)
        .map(|i| row(10_000 + i, "bulk", "tools/call", i % 2 == 0))
        .collect();
    mcp_access_logs::insert_many(&store, many).await.unwrap();
    assert_eq!(mcp_access_logs::count(&store).await.unwrap(), 6_000);
    assert_eq!(
        mcp_access_logs::prune(&store, Some(10_100), Some(10))
            .await
            .unwrap(),
        5_990
    );
    let kept = mcp_access_logs::list(&store, "bulk", false, 100)
        .await
        .unwrap();
    assert_eq!(kept.len(), 10);
    assert_eq!(kept[0].at, 15_999);
    assert_eq!(kept[9].at, 15_990);
    store.close().await.unwrap();
}

on_all_backends!(mcp_access_log_stores_lists_and_prunes);
