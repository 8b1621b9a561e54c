//! The MCP file workspace over gRPC on every backend: off until an admin enables it; then each
//! host and person reads, writes, lists, stats and searches their own files, kept in the
//! database; every path that could escape (`..`, absolute, drive, backslash, NUL, `.`, empty
//! segments) is refused before anything is looked up; the per-file cap and the owner's quota
//! hold; nobody sees another owner's files.

use codex_central_proto::memory::v1::memory_service_client::MemoryServiceClient;
use codex_central_proto::memory::v1::*;
use serde_json::json;
use tonic::Code;
use tonic::transport::Channel;

use crate::on_all_backends;
use crate::testkit::{Ready, auth_on, authed, new_token, sign_in};

type Client = MemoryServiceClient<Channel>;

fn field_of(status: &tonic::Status) -> String {
    let details = tonic_types::StatusExt::get_error_details(status);
    details
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

fn metadata_of(status: &tonic::Status, key: &str) -> String {
    let details = tonic_types::StatusExt::get_error_details(status);
    details
        .error_info()
        .and_then(|i| i.metadata.get(key).cloned())
        .unwrap_or_default()
}

fn writing(path: &str, content: &[u8]) -> WriteWorkspaceFileRequest {
    WriteWorkspaceFileRequest {
        path: path.into(),
        content: content.to_vec(),
        create_if_missing: true,
        overwrite: true,
    }
}

async fn write(
    c: &mut Client,
    who: &str,
    req: WriteWorkspaceFileRequest,
) -> Result<u64, tonic::Status> {
    c.write_workspace_file(authed(who, req))
        .await
        .map(|r| r.into_inner().used_bytes)
}

async fn read(c: &mut Client, who: &str, path: &str) -> Result<Vec<u8>, tonic::Status> {
    c.read_workspace_file(authed(who, ReadWorkspaceFileRequest { path: path.into() }))
        .await
        .map(|r| r.into_inner().content)
}

async fn list(
    c: &mut Client,
    who: &str,
    path: &str,
    glob: &str,
) -> Result<Vec<(String, bool)>, tonic::Status> {
    let req = ListWorkspaceDirRequest {
        path: path.into(),
        glob: glob.into(),
    };
    c.list_workspace_dir(authed(who, req)).await.map(|r| {
        r.into_inner()
            .entries
            .into_iter()
            .map(|e| (e.path, e.is_dir))
            .collect()
    })
}

async fn stat(
    c: &mut Client,
    who: &str,
    path: &str,
) -> Result<StatWorkspaceFileResponse, tonic::Status> {
    c.stat_workspace_file(authed(who, StatWorkspaceFileRequest { path: path.into() }))
        .await
        .map(|r| r.into_inner())
}

async fn search(
    c: &mut Client,
    who: &str,
    req: SearchWorkspaceFilesRequest,
) -> Result<SearchWorkspaceFilesResponse, tonic::Status> {
    c.search_workspace_files(authed(who, req))
        .await
        .map(|r| r.into_inner())
}

fn finding(pattern: &str) -> SearchWorkspaceFilesRequest {
    SearchWorkspaceFilesRequest {
        pattern: pattern.into(),
        ..Default::default()
    }
}

async fn settings(
    c: &mut Client,
    admin: &str,
    s: MemorySettings,
) -> Result<MemorySettings, tonic::Status> {
    c.update_memory_settings(authed(
        admin,
        UpdateMemorySettingsRequest { settings: Some(s) },
    ))
    .await
    .map(|r| r.into_inner().settings.unwrap())
}

async fn workspace_is_off_until_enabled(r: Ready) {
    let host = r.host_key("ws-off.example.com").await;
    let mut c = MemoryServiceClient::new(r.srv.channel().await);
    let current = c
        .get_memory_settings(authed(&r.admin, GetMemorySettingsRequest {}))
        .await
        .unwrap()
        .into_inner()
        .settings
        .unwrap();
    assert_eq!(current.workspace_enabled, Some(false), "off by default");
    assert_eq!(current.workspace_max_file_bytes, 1024 * 1024);
    let refusals = [
        write(&mut c, &host, writing("a.txt", b"x"))
            .await
            .unwrap_err(),
        read(&mut c, &host, "a.txt").await.unwrap_err(),
        list(&mut c, &host, "", "").await.unwrap_err(),
        stat(&mut c, &host, "a.txt").await.unwrap_err(),
        search(&mut c, &host, finding("x")).await.unwrap_err(),
    ];
    for err in refusals {
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        assert!(err.message().contains("workspace is disabled"), "{err:?}");
    }

    // The ceiling of the per-file cap; an update that leaves the switch unset keeps it.
    let err = settings(
        &mut c,
        &r.admin,
        MemorySettings {
            workspace_max_file_bytes: 16 * 1024 * 1024 + 1,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(field_of(&err), "settings.workspace_max_file_bytes");
    let on = MemorySettings {
        workspace_enabled: Some(true),
        ..Default::default()
    };
    assert_eq!(
        settings(&mut c, &r.admin, on)
            .await
            .unwrap()
            .workspace_enabled,
        Some(true)
    );
    let untouched = MemorySettings {
        max_content_bytes: 1000,
        ..Default::default()
    };
    let kept = settings(&mut c, &r.admin, untouched).await.unwrap();
    assert_eq!(kept.workspace_enabled, Some(true));
    assert_eq!(kept.workspace_max_file_bytes, 1024 * 1024);
    assert_eq!(
        write(&mut c, &host, writing("a.txt", b"x")).await.unwrap(),
        1
    );
    let off = MemorySettings {
        workspace_enabled: Some(false),
        ..Default::default()
    };
    settings(&mut c, &r.admin, off).await.unwrap();
    let err = read(&mut c, &host, "a.txt").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

async fn workspace_round_trip_and_sandbox(r: Ready) {
    let host = r.host_key("ws-one.example.com").await;
    let neighbour = r.host_key("ws-two.example.com").await;
    let session = sign_in(&r.srv, &r.admin, "wanda").await;
    let member = new_token(&r.srv, &session, json!({"name": "mcp"})).await;
    let mut c = MemoryServiceClient::new(r.srv.channel().await);
    let enable = MemorySettings {
        workspace_enabled: Some(true),
        workspace_quota_bytes: 1024 * 1024,
        workspace_max_file_bytes: 512 * 1024,
        ..Default::default()
    };
    settings(&mut c, &r.admin, enable).await.unwrap();

    // Write, read, stat, list, search.
    let todo = b"# todo\nship the workspace\ntest the sandbox\n";
    assert_eq!(
        write(&mut c, &host, writing("notes/todo.md", todo))
            .await
            .unwrap(),
        todo.len() as u64
    );
    write(
        &mut c,
        &host,
        writing("notes/deep/idea.txt", b"ship it twice"),
    )
    .await
    .unwrap();
    write(
        &mut c,
        &host,
        writing("bin.dat", &[0xff, 0xfe, b's', b'h', b'i', b'p']),
    )
    .await
    .unwrap();
    assert_eq!(read(&mut c, &host, "notes/todo.md").await.unwrap(), todo);
    let found = stat(&mut c, &host, "notes/todo.md").await.unwrap();
    assert!(found.exists);
    let entry = found.entry.unwrap();
    assert_eq!(
        (entry.path.as_str(), entry.is_dir, entry.size_bytes),
        ("notes/todo.md", false, todo.len() as u64)
    );
    assert!(entry.modified_at.is_some());
    let dir = stat(&mut c, &host, "notes").await.unwrap().entry.unwrap();
    assert!(dir.is_dir, "directories are implicit");
    let missing = stat(&mut c, &host, "notes/nothing.md").await.unwrap();
    assert!(!missing.exists && missing.entry.is_none());
    assert_eq!(
        list(&mut c, &host, "", "").await.unwrap(),
        [("bin.dat".to_string(), false), ("notes".to_string(), true)]
    );
    assert_eq!(
        list(&mut c, &host, "notes", "").await.unwrap(),
        [
            ("notes/deep".to_string(), true),
            ("notes/todo.md".to_string(), false)
        ]
    );
    assert_eq!(
        list(&mut c, &host, "notes/", "*.md").await.unwrap(),
        [("notes/todo.md".to_string(), false)]
    );
    let err = list(&mut c, &host, "nowhere", "").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let hits = search(&mut c, &host, finding("ship")).await.unwrap();
    let lines: Vec<(String, u32)> = hits
        .matches
        .iter()
        .map(|m| (m.path.clone(), m.line_number))
        .collect();
    assert_eq!(
        lines,
        [
            ("notes/deep/idea.txt".to_string(), 1),
            ("notes/todo.md".to_string(), 2)
        ],
        "binary files are skipped"
    );
    assert!(!hits.truncated);
    let globbed = SearchWorkspaceFilesRequest {
        root: "notes".into(),
        file_globs: vec!["*.md".into()],
        ..finding("the")
    };
    let hits = search(&mut c, &host, globbed).await.unwrap();
    assert_eq!(hits.matches.len(), 2);
    assert_eq!(hits.matches[1].line, "test the sandbox");
    let one = SearchWorkspaceFilesRequest {
        max_results: 1,
        ..finding("ship")
    };
    let hits = search(&mut c, &host, one).await.unwrap();
    assert_eq!(hits.matches.len(), 1);
    assert!(hits.truncated);

    // The write modes, and files against directories.
    let keep = WriteWorkspaceFileRequest {
        overwrite: false,
        ..writing("notes/todo.md", b"other")
    };
    assert_eq!(
        write(&mut c, &host, keep).await.unwrap_err().code(),
        Code::AlreadyExists
    );
    let only_existing = WriteWorkspaceFileRequest {
        create_if_missing: false,
        ..writing("notes/new.md", b"new")
    };
    assert_eq!(
        write(&mut c, &host, only_existing)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(
        read(&mut c, &host, "notes/new.md")
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    for clash in ["notes", "notes/todo.md/below"] {
        let err = write(&mut c, &host, writing(clash, b"x"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{clash}: {err:?}");
    }
    assert_eq!(
        read(&mut c, &host, "notes").await.unwrap_err().code(),
        Code::FailedPrecondition
    );

    // Every escape is refused on every RPC, naming the field.
    for bad in [
        "../x",
        "a/../../x",
        "/etc/passwd",
        "C:\\x",
        "a\\..\\b",
        "a\u{0}b",
        "./x",
        "a//b",
        "notes/../../../etc/passwd",
        "notes/todo.md/../../x",
    ] {
        let errs = [
            write(&mut c, &host, writing(bad, b"x")).await.unwrap_err(),
            read(&mut c, &host, bad).await.unwrap_err(),
            stat(&mut c, &host, bad).await.unwrap_err(),
            list(&mut c, &host, bad, "").await.unwrap_err(),
        ];
        for err in errs {
            assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}: {err:?}");
            assert_eq!(field_of(&err), "path", "{bad:?}");
        }
        let rooted = SearchWorkspaceFilesRequest {
            root: bad.into(),
            ..finding("x")
        };
        let err = search(&mut c, &host, rooted).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
        assert_eq!(field_of(&err), "root");
    }
    // A relative name is a key in the workspace, never a file of the server.
    for name in ["etc/passwd", ".env", "data/codex-central.db"] {
        assert_eq!(
            read(&mut c, &host, name).await.unwrap_err().code(),
            Code::NotFound,
            "{name}"
        );
    }

    // Owners never see each other's files.
    for other in [&neighbour, &member] {
        assert_eq!(
            read(&mut c, other, "notes/todo.md")
                .await
                .unwrap_err()
                .code(),
            Code::NotFound
        );
        assert!(!stat(&mut c, other, "notes/todo.md").await.unwrap().exists);
        assert!(list(&mut c, other, "", "").await.unwrap().is_empty());
        assert!(
            search(&mut c, other, finding("ship"))
                .await
                .unwrap()
                .matches
                .is_empty()
        );
    }
    write(&mut c, &member, writing("notes/todo.md", b"mine"))
        .await
        .unwrap();
    assert_eq!(
        read(&mut c, &member, "notes/todo.md").await.unwrap(),
        b"mine"
    );
    assert_eq!(read(&mut c, &host, "notes/todo.md").await.unwrap(), todo);

    // The per-file cap names the content; the quota answers with its numbers.
    let err = write(
        &mut c,
        &neighbour,
        writing("big", &vec![b'x'; 512 * 1024 + 1]),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(field_of(&err), "content");
    let chunk = vec![b'y'; 400 * 1024];
    write(&mut c, &neighbour, writing("one", &chunk))
        .await
        .unwrap();
    write(&mut c, &neighbour, writing("two", &chunk))
        .await
        .unwrap();
    let err = write(&mut c, &neighbour, writing("three", &chunk))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert_eq!(metadata_of(&err, "used_bytes"), (800 * 1024).to_string());
    assert_eq!(metadata_of(&err, "quota_bytes"), (1024 * 1024).to_string());
    assert!(err.message().contains("quota"), "{err:?}");
    assert!(!stat(&mut c, &neighbour, "three").await.unwrap().exists);
    // Replacing a file counts only the difference.
    let used = write(&mut c, &neighbour, writing("two", &vec![b'z'; 600 * 1024]))
        .await
        .unwrap_err();
    assert_eq!(used.code(), Code::InvalidArgument, "over the per-file cap");
    assert_eq!(
        write(&mut c, &neighbour, writing("two", &vec![b'z'; 500 * 1024]))
            .await
            .unwrap(),
        900 * 1024
    );
}

on_all_backends!(
    ready(auth_on()) => workspace_is_off_until_enabled, workspace_round_trip_and_sandbox
);
