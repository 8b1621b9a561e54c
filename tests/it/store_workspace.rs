//! The workspace's storage keeps one contract on SQLite, PostgreSQL and MariaDB: paths compare
//! as bytes (case, trailing spaces and punctuation order never depend on a collation), contents
//! of any size round-trip through their pieces, a write replaces the old pieces, the quota and
//! the file cap hold under concurrent writes, and owners never see each other's files.

use codex_central_store::Store;
use codex_central_store::entities::workspace_file_chunks;
use codex_central_store::workspace_files::{
    self as files, CHUNK_BYTES, NewFile, Put, ScanLimits, Usage, path_of,
};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::on_all_backends;
use crate::testkit::{Backend, TestDb};

const HOST: (&str, &str) = ("host", "1");
const QUOTA: u64 = 4 * 1024 * 1024;

fn file(owner: (&str, &str), path: &str, content: &[u8]) -> NewFile {
    NewFile {
        owner_kind: owner.0.into(),
        owner_id: owner.1.into(),
        path: path.into(),
        content: content.to_vec(),
        content_sha: format!("{:x}", content.len()),
        create_if_missing: true,
        overwrite: true,
        quota_bytes: QUOTA,
        max_files: 100,
        now: 1_000,
    }
}

async fn put(store: &Store, f: NewFile) -> Put {
    files::put(store, f).await.unwrap()
}

async fn listed(store: &Store, owner: (&str, &str), dir: &str) -> Vec<String> {
    files::list_under(store.db(), owner.0, owner.1, dir, 1000)
        .await
        .unwrap()
        .iter()
        .map(|m| path_of(m).unwrap().to_string())
        .collect()
}

async fn read(store: &Store, owner: (&str, &str), path: &str) -> Option<Vec<u8>> {
    files::read(store, owner.0, owner.1, path)
        .await
        .unwrap()
        .map(|(_, content)| content)
}

async fn workspace_storage_alike_everywhere(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Store::connect_and_migrate(&db.url).await.unwrap();

    // Create, then the refusals of the write modes.
    let Put::Written {
        created,
        file: first,
        used_bytes,
    } = put(&store, file(HOST, "notes/todo.md", b"ship it\n")).await
    else {
        panic!("written")
    };
    assert!(created);
    assert_eq!(used_bytes, 8);
    assert_eq!(first.size_bytes, 8);
    let keep = NewFile {
        overwrite: false,
        ..file(HOST, "notes/todo.md", b"other")
    };
    assert_eq!(put(&store, keep).await, Put::AlreadyExists);
    let only_existing = NewFile {
        create_if_missing: false,
        ..file(HOST, "notes/missing.md", b"x")
    };
    assert_eq!(put(&store, only_existing).await, Put::NotFound);
    assert_eq!(
        read(&store, HOST, "notes/todo.md").await.unwrap(),
        b"ship it\n"
    );
    assert!(read(&store, HOST, "notes/missing.md").await.is_none());

    // A file of several pieces round-trips; replacing it drops the old pieces.
    let big: Vec<u8> = (0..(2 * CHUNK_BYTES + 123))
        .map(|i| (i % 251) as u8)
        .collect();
    let Put::Written { file: stored, .. } = put(&store, file(HOST, "bin/blob", &big)).await else {
        panic!("written")
    };
    assert_eq!(stored.chunk_count, 3);
    assert_eq!(read(&store, HOST, "bin/blob").await.unwrap(), big);
    let Put::Written {
        created,
        file: replaced,
        used_bytes,
    } = put(&store, file(HOST, "bin/blob", b"small")).await
    else {
        panic!("written")
    };
    assert!(!created);
    assert_eq!(used_bytes, 8 + 5);
    assert_eq!(replaced.created_at, stored.created_at);
    assert_ne!(replaced.content_id, stored.content_id);
    assert_eq!(read(&store, HOST, "bin/blob").await.unwrap(), b"small");
    let pieces = workspace_file_chunks::Entity::find()
        .count(store.db())
        .await
        .unwrap();
    assert_eq!(pieces, 2, "one piece per file left");
    let empty = put(&store, file(HOST, "empty", b"")).await;
    assert!(matches!(empty, Put::Written { .. }));
    assert_eq!(read(&store, HOST, "empty").await.unwrap(), b"");

    // Paths are bytes: case, trailing spaces and punctuation order are the caller's.
    for path in ["a/x", "a-b/y", "a0", "A/z", "a b/c", "a/sub/deep", "ab"] {
        put(&store, file(HOST, path, path.as_bytes())).await;
    }
    put(&store, file(HOST, "Readme.md", b"mixed")).await;
    put(&store, file(HOST, "README.md", b"upper")).await;
    put(&store, file(HOST, "space", b"plain")).await;
    put(&store, file(HOST, "space ", b"trailing")).await;
    assert_eq!(read(&store, HOST, "Readme.md").await.unwrap(), b"mixed");
    assert_eq!(read(&store, HOST, "README.md").await.unwrap(), b"upper");
    assert!(read(&store, HOST, "readme.md").await.is_none());
    assert_eq!(read(&store, HOST, "space").await.unwrap(), b"plain");
    assert_eq!(read(&store, HOST, "space ").await.unwrap(), b"trailing");
    assert_eq!(listed(&store, HOST, "a").await, ["a/sub/deep", "a/x"]);
    assert_eq!(listed(&store, HOST, "A").await, ["A/z"]);
    assert_eq!(listed(&store, HOST, "a/sub").await, ["a/sub/deep"]);
    assert_eq!(listed(&store, HOST, "notes").await, ["notes/todo.md"]);
    assert!(listed(&store, HOST, "nothing").await.is_empty());
    assert_eq!(listed(&store, HOST, "").await.len(), 14);

    // A file never sits where a directory is, nor below a file.
    assert_eq!(put(&store, file(HOST, "a", b"x")).await, Put::IsDirectory);
    assert_eq!(
        put(&store, file(HOST, "a0/x", b"x")).await,
        Put::BelowFile { file: "a0".into() }
    );
    assert_eq!(
        put(&store, file(HOST, "notes/todo.md/deeper/x", b"x")).await,
        Put::BelowFile {
            file: "notes/todo.md".into()
        }
    );
    assert!(read(&store, HOST, "a").await.is_none());

    // Owners are apart.
    let other = ("user", "u-7");
    assert!(read(&store, other, "notes/todo.md").await.is_none());
    assert!(listed(&store, other, "").await.is_empty());
    assert!(
        files::stat(store.db(), "user", "1", "notes/todo.md")
            .await
            .unwrap()
            .is_none(),
        "same id, other kind"
    );
    put(&store, file(other, "notes/todo.md", b"theirs")).await;
    assert_eq!(
        read(&store, HOST, "notes/todo.md").await.unwrap(),
        b"ship it\n"
    );
    assert_eq!(
        files::usage(store.db(), other.0, other.1).await.unwrap(),
        Usage {
            used_bytes: 6,
            files: 1
        }
    );

    // The quota: refused with the numbers; a shrinking write passes even over it.
    let used = files::usage(store.db(), HOST.0, HOST.1).await.unwrap();
    assert_eq!(used.files, 14);
    let too_big = NewFile {
        quota_bytes: used.used_bytes + 3,
        ..file(HOST, "more", b"four")
    };
    assert_eq!(
        put(&store, too_big).await,
        Put::OverQuota {
            used_bytes: used.used_bytes,
            quota_bytes: used.used_bytes + 3
        }
    );
    let shrink = NewFile {
        quota_bytes: 1,
        ..file(HOST, "bin/blob", b"sm")
    };
    assert!(matches!(put(&store, shrink).await, Put::Written { .. }));
    let capped = NewFile {
        max_files: 14,
        ..file(HOST, "one-more", b"x")
    };
    assert_eq!(
        put(&store, capped).await,
        Put::TooManyFiles { max_files: 14 }
    );
    let replace_at_cap = NewFile {
        max_files: 14,
        ..file(HOST, "ab", b"replaced")
    };
    assert!(matches!(
        put(&store, replace_at_cap).await,
        Put::Written { created: false, .. }
    ));

    // Search candidates: below a directory, filtered, within the byte budget.
    let limits = ScanLimits {
        list_limit: 1000,
        max_files: 1000,
        max_bytes: 1_000_000,
    };
    let found = files::search_candidates(&store, HOST.0, HOST.1, "a", |_| true, limits)
        .await
        .unwrap();
    assert!(!found.truncated);
    let got: Vec<(String, Vec<u8>)> = found
        .files
        .iter()
        .map(|(m, c)| (path_of(m).unwrap().to_string(), c.clone()))
        .collect();
    assert_eq!(
        got,
        [
            ("a/sub/deep".to_string(), b"a/sub/deep".to_vec()),
            ("a/x".to_string(), b"a/x".to_vec())
        ]
    );
    let tight = ScanLimits {
        max_bytes: 5,
        ..limits
    };
    let found = files::search_candidates(&store, HOST.0, HOST.1, "", |p| p.len() <= 3, tight)
        .await
        .unwrap();
    assert!(found.truncated, "some short paths did not fit");
    assert!(found.files.iter().map(|(_, c)| c.len()).sum::<usize>() <= 5);
    store.close().await.unwrap();
}

on_all_backends!(workspace_storage_alike_everywhere);

/// Eight concurrent writes of 300 KiB against a 1 MiB quota: exactly three land, and the usage
/// is exactly theirs.
async fn workspace_quota_holds_under_concurrent_writes(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Store::connect_and_migrate(&db.url).await.unwrap();
    let size = 300 * 1024;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let f = NewFile {
                quota_bytes: 1024 * 1024,
                ..file(HOST, &format!("f{i}"), &vec![b'x'; size])
            };
            files::put(&store, f).await
        }));
    }
    let mut written = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Put::Written { .. } => written += 1,
            Put::OverQuota { quota_bytes, .. } => assert_eq!(quota_bytes, 1024 * 1024),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(written, 3);
    let usage = files::usage(store.db(), HOST.0, HOST.1).await.unwrap();
    assert_eq!(
        usage,
        Usage {
            used_bytes: 3 * size as u64,
            files: 3
        }
    );
    assert_eq!(listed(&store, HOST, "").await.len(), 3);
    store.close().await.unwrap();
}

on_all_backends!(workspace_quota_holds_under_concurrent_writes);

/// A file at the per-file ceiling (16 MiB) round-trips on every backend: its pieces keep each
/// statement far below MariaDB's default `max_allowed_packet`, which is 16 MiB itself.
async fn workspace_keeps_a_16_mib_file(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let store = Store::connect_and_migrate(&db.url).await.unwrap();
    let big: Vec<u8> = (0..16 * 1024 * 1024)
        .map(|i: u32| (i % 253) as u8)
        .collect();
    let f = NewFile {
        quota_bytes: 32 * 1024 * 1024,
        ..file(HOST, "large.bin", &big)
    };
    let Put::Written { file: stored, .. } = put(&store, f).await else {
        panic!("written")
    };
    assert_eq!(stored.chunk_count, 64);
    assert!(read(&store, HOST, "large.bin").await.unwrap() == big);
    store.close().await.unwrap();
}

on_all_backends!(workspace_keeps_a_16_mib_file);
