//! Memories' full-text search keeps one behaviour contract on SQLite (FTS5), PostgreSQL
//! (`tsvector`) and MariaDB (InnoDB FULLTEXT): every word must match as a prefix, stopwords and
//! short words are left out, tags and owners filter, updates and deletes reach the index.

use codex_central_store::Store;
use codex_central_store::memories::{self, NewMemory, Search, Written, search_terms};

use crate::on_all_backends;
use crate::testkit::{Backend, TestDb};

fn memory(owner: (&str, &str), key: &str, content: &str, tags: &[&str], now: i64) -> NewMemory {
    NewMemory {
        record_id: uuid::Uuid::now_v7().to_string(),
        owner_kind: owner.0.into(),
        owner_id: owner.1.into(),
        key: key.into(),
        title: format!("note {key}"),
        content: content.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        metadata_json: "{}".into(),
        resource_id: String::new(),
        content_sha: format!("{content}|{tags:?}"),
        now,
    }
}

async fn keys(store: &Store, s: Search) -> Vec<String> {
    memories::search(store, &s)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.memory.mem_key)
        .collect()
}

fn host1(query: &str) -> Search {
    Search {
        query: query.into(),
        owners: vec![("host".into(), "1".into())],
        limit: 50,
        ..Search::default()
    }
}

async fn memories_search_alike_everywhere(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Store::connect_and_migrate(&db.url).await.unwrap();
    let host = ("host", "1");
    for (i, (key, content, tags)) in [
        (
            "k1",
            "the deploy key rotates weekly",
            &["ops", "secrets"][..],
        ),
        ("k2", "deploy notes for staging", &["ops"][..]),
        ("k3", "about the cache: redis ttl is 60s", &[][..]),
        ("k4", "deploy deploy deploy pipeline deploy", &[][..]),
    ]
    .into_iter()
    .enumerate()
    {
        let (w, _) = memories::put(&store, memory(host, key, content, tags, 1_000 + i as i64))
            .await
            .unwrap();
        assert_eq!(w, Written::Created);
    }
    memories::put(
        &store,
        memory(("user", "7"), "u1", "deploy from a laptop", &[], 2_000),
    )
    .await
    .unwrap();
    memories::put(
        &store,
        memory(("fleet", ""), "f1", "fleet wide deploy policy", &[], 3_000),
    )
    .await
    .unwrap();

    // Every word must match, as a prefix; the most relevant first.
    let found = keys(&store, host1("deploy")).await;
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0], "k4", "four occurrences rank first: {found:?}");
    let mut prefix = keys(&store, host1("DEPL")).await;
    prefix.sort();
    assert_eq!(prefix, ["k1", "k2", "k4"]);
    assert_eq!(keys(&store, host1("deploy key")).await, ["k1"]);
    // Stopwords and short words are left out, here and on the other backends alike.
    assert_eq!(keys(&store, host1("the deploy key")).await, ["k1"]);
    assert_eq!(keys(&store, host1("redis ttl is")).await, ["k3"]);
    assert_eq!(
        keys(&store, host1("nothing-like-this")).await,
        Vec::<String>::new()
    );
    // Tags filter (all must be present) and owners scope.
    let tagged = Search {
        tags: vec!["ops".into(), "secrets".into()],
        ..host1("deploy")
    };
    assert_eq!(keys(&store, tagged).await, ["k1"]);
    let shared = Search {
        owners: vec![("host".into(), "1".into()), ("fleet".into(), String::new())],
        ..host1("policy")
    };
    assert_eq!(keys(&store, shared).await, ["f1"]);
    let everyone = Search {
        owners: vec![],
        ..host1("laptop")
    };
    assert_eq!(keys(&store, everyone).await, ["u1"]);
    // An empty query (or one with nothing searchable) lists the most recent.
    assert_eq!(keys(&store, host1("")).await, ["k4", "k3", "k2", "k1"]);
    assert_eq!(keys(&store, host1("an of")).await, ["k4", "k3", "k2", "k1"]);

    // Unchanged, updated (the index follows), deleted, and stored again.
    let (w, first) = memories::put(
        &store,
        memory(host, "k2", "deploy notes for staging", &["ops"], 5_000),
    )
    .await
    .unwrap();
    assert_eq!(w, Written::Unchanged);
    let (w, updated) = memories::put(
        &store,
        memory(host, "k2", "rollback runbook", &["ops"], 6_000),
    )
    .await
    .unwrap();
    assert_eq!(w, Written::Updated);
    assert_eq!(updated.record_id, first.record_id);
    assert_eq!(keys(&store, host1("staging")).await, Vec::<String>::new());
    assert_eq!(keys(&store, host1("runbook")).await, ["k2"]);
    assert!(
        memories::delete(store.db(), "host", "1", "k2", 7_000)
            .await
            .unwrap()
    );
    assert!(
        !memories::delete(store.db(), "host", "1", "k2", 7_001)
            .await
            .unwrap()
    );
    assert_eq!(keys(&store, host1("runbook")).await, Vec::<String>::new());
    assert!(
        memories::get(store.db(), "host", "1", "k2")
            .await
            .unwrap()
            .is_none()
    );
    let (w, back) = memories::put(
        &store,
        memory(host, "k2", "rollback runbook", &["ops"], 8_000),
    )
    .await
    .unwrap();
    assert_eq!(w, Written::Updated, "a deleted key comes back");
    assert_eq!(back.record_id, first.record_id);
    assert_eq!(keys(&store, host1("runbook")).await, ["k2"]);
    store.close().await.unwrap();
}

on_all_backends!(memories_search_alike_everywhere);

/// Concurrent stores all land: SQLite writers queue instead of failing on a lock upgrade,
/// InnoDB's gap-lock deadlocks between new rows are avoided or retried, and two writers of one
/// new key end as one created and one updated or unchanged.
async fn concurrent_stores_all_land(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Store::connect_and_migrate(&db.url).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let key = if i % 3 == 0 {
                "same".to_string()
            } else {
                format!("k{i}")
            };
            memories::put(
                &store,
                memory(
                    ("host", "1"),
                    &key,
                    &format!("note number {i}"),
                    &["load", "test"],
                    i,
                ),
            )
            .await
        }));
    }
    let mut created = 0;
    for t in tasks {
        let (w, _) = t.await.unwrap().unwrap();
        created += usize::from(w == Written::Created);
    }
    assert_eq!(created, 17, "16 distinct keys and one shared key");
    assert_eq!(keys(&store, host1("note")).await.len(), 17);
    store.close().await.unwrap();
}

on_all_backends!(concurrent_stores_all_land);

/// `memory_search_language` on PostgreSQL: a stemming configuration finds other forms of a
/// word through its own index; an unknown or malformed name is refused; others ignore it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_search_language_is_configurable() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let store = Store::connect_and_migrate(&db.url).await.unwrap();
    memories::put(
        &store,
        memory(
            ("host", "1"),
            "k1",
            "the canary deploys went out",
            &[],
            1_000,
        ),
    )
    .await
    .unwrap();
    assert!(
        keys(&store, host1("deploying")).await.is_empty(),
        "simple: no stemming"
    );
    let english = memories::use_language(store.clone(), "english")
        .await
        .unwrap();
    assert_eq!(english.text_search_config(), "english");
    assert_eq!(keys(&english, host1("deploying")).await, ["k1"]);
    assert_eq!(keys(&english, host1("canaries deploy")).await, ["k1"]);
    let plan: Vec<String> = {
        use sea_orm::ConnectionTrait;
        english
            .db()
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT indexname::text AS name FROM pg_indexes WHERE tablename = 'memories'",
            ))
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String>("", "name").unwrap())
            .collect()
    };
    assert!(
        plan.contains(&"idx_memories_search_english".to_string()),
        "{plan:?}"
    );
    // Starting again with the index in place is fine.
    memories::use_language(store.clone(), "english")
        .await
        .unwrap();
    let err = memories::use_language(store.clone(), "klingon")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pg_ts_config"), "{err}");
    let err = memories::use_language(store.clone(), "english'); DROP TABLE x; --")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not a text search configuration"),
        "{err}"
    );
    store.close().await.unwrap();

    let Some(lite) = TestDb::create(Backend::Sqlite).await else {
        return;
    };
    let store = Store::connect_and_migrate(&lite.url).await.unwrap();
    let same = memories::use_language(store, "english").await.unwrap();
    assert_eq!(
        same.text_search_config(),
        "simple",
        "SQLite has one behaviour"
    );
}

#[test]
fn search_terms_are_what_every_backend_indexes() {
    assert_eq!(
        search_terms("The deploy-key, IS rotated!"),
        ["deploy", "key", "rotated"]
    );
    assert_eq!(search_terms("a an of to"), Vec::<String>::new());
    assert_eq!(search_terms("go ok ttl ttl"), ["ttl"]);
    // Operators of any backend are plain words here (quoted where they are used).
    assert_eq!(search_terms("\"x\" OR 'y' AND -z* NEAR()"), ["and", "near"]);
    assert_eq!(search_terms(&"word ".repeat(40)).len(), 1);
}
