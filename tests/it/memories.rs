//! `MemoryService` over gRPC on every backend: hosts and people keep their own memories and
//! find the fleet's, admins see and delete anyone's; store is created / updated / unchanged;
//! append and query work within a resource; lists page; bad input names its field.

use codex_central_proto::memory::v1::memory_service_client::MemoryServiceClient;
use codex_central_proto::memory::v1::*;
use serde_json::json;
use tonic::Code;
use tonic::transport::Channel;

use crate::on_all_backends;
use crate::testkit::{Ready, auth_on, authed, new_token, sign_in};

async fn put(
    c: &mut MemoryServiceClient<Channel>,
    who: &str,
    req: StoreMemoryRequest,
) -> StoreMemoryResponse {
    c.store_memory(authed(who, req)).await.unwrap().into_inner()
}

fn note(id: &str, content: &str, tags: &[&str]) -> StoreMemoryRequest {
    StoreMemoryRequest {
        id: id.into(),
        content: content.into(),
        title: String::new(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        metadata_json: String::new(),
        shared: false,
    }
}

async fn search(c: &mut MemoryServiceClient<Channel>, who: &str, query: &str) -> Vec<String> {
    c.search_memories(authed(
        who,
        SearchMemoriesRequest {
            query: query.into(),
            ..Default::default()
        },
    ))
    .await
    .unwrap()
    .into_inner()
    .matches
    .into_iter()
    .map(|m| m.id)
    .collect()
}

fn field_of(status: &tonic::Status) -> String {
    let details = tonic_types::StatusExt::get_error_details(status);
    details
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

async fn memories_have_owners(r: Ready) {
    let host = r.host_key("memory.example.com").await;
    let session = sign_in(&r.srv, &r.admin, "mia").await;
    let member = new_token(&r.srv, &session, json!({"name": "mcp"})).await;
    let mut c = MemoryServiceClient::new(r.srv.channel().await);

    let first = put(
        &mut c,
        &host,
        note(
            "deploy.key",
            "the deploy key rotates weekly",
            &["Ops", " Secrets "],
        ),
    )
    .await;
    assert_eq!(first.status(), MemoryWriteStatus::Created);
    let m = first.memory.unwrap();
    assert_eq!(m.tags, ["ops", "secrets"], "normalised");
    assert_eq!(m.metadata_json, "{}");
    assert_eq!(
        m.owner.as_ref().unwrap().name,
        "memory.example.com",
        "owners are named"
    );
    let again = put(
        &mut c,
        &host,
        note(
            "deploy.key",
            "the deploy key rotates weekly",
            &["ops", "secrets"],
        ),
    )
    .await;
    assert_eq!(again.status(), MemoryWriteStatus::Unchanged);
    let changed = put(
        &mut c,
        &host,
        note("deploy.key", "the deploy key rotates daily", &["ops"]),
    )
    .await;
    assert_eq!(changed.status(), MemoryWriteStatus::Updated);
    assert_eq!(changed.memory.unwrap().record_id, m.record_id);
    let generated = put(&mut c, &host, note("", "staging deploy notes", &[])).await;
    assert_eq!(generated.memory.unwrap().id.len(), 36, "an id is generated");
    put(
        &mut c,
        &member,
        note("laptop", "deploy from my laptop", &[]),
    )
    .await;
    let shared = put(
        &mut c,
        &r.admin,
        StoreMemoryRequest {
            shared: true,
            ..note("policy", "fleet deploy policy: fridays frozen", &[])
        },
    )
    .await;
    assert_eq!(
        shared.memory.unwrap().owner.unwrap().kind(),
        MemoryOwnerKind::Fleet
    );

    // Each sees their own and the fleet's; the admin sees everyone's.
    let mut mine = search(&mut c, &host, "deploy").await;
    mine.sort();
    assert_eq!(mine.len(), 3, "{mine:?}");
    assert!(mine.contains(&"deploy.key".to_string()) && mine.contains(&"policy".to_string()));
    let mut theirs = search(&mut c, &member, "deploy").await;
    theirs.sort();
    assert_eq!(theirs, ["laptop", "policy"]);
    assert_eq!(search(&mut c, &r.admin, "deploy").await.len(), 4);
    let got = c
        .retrieve_memory(authed(
            &member,
            RetrieveMemoryRequest {
                id: "deploy.key".into(),
                record_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!got.found, "another owner's memory is not found");
    let got = c
        .retrieve_memory(authed(
            &host,
            RetrieveMemoryRequest {
                id: "policy".into(),
                record_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(got.found, "the fleet's memory is");
    let named = c
        .search_memories(authed(
            &member,
            SearchMemoriesRequest {
                owner: Some(MemoryOwner {
                    kind: MemoryOwnerKind::Host as i32,
                    id: "1".into(),
                    name: String::new(),
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(named.code(), Code::PermissionDenied);

    // Resources: appended chunks, queried within the resource.
    for text in [
        "build runs on ubuntu",
        "tests need postgres",
        "deploy runs on fridays",
    ] {
        c.append_memory(authed(
            &host,
            AppendMemoryRequest {
                resource_id: "repo:web".into(),
                text: text.into(),
                tags: vec![],
            },
        ))
        .await
        .unwrap();
    }
    let q = c
        .query_memories(authed(
            &host,
            QueryMemoriesRequest {
                resource_id: "repo:web".into(),
                query: "runs".into(),
                top_k: 5,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(q.matches.len(), 2);
    assert!(q.matches.iter().all(|m| m.score.is_some()));

    // Lists page, newest first.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_memories(authed(
                &host,
                ListMemoriesRequest {
                    page: Some(codex_central_proto::common::v1::PageRequest {
                        page_size: 2,
                        page_token: token.clone(),
                    }),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        seen.extend(page.memories.into_iter().map(|m| m.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 6, "own 5 and the fleet's: {seen:?}");

    // Bad input names the field.
    for (req, field) in [
        (note("bad id!", "x", &[]), "id"),
        (note("ok", "", &[]), "content"),
        (note("ok", &"x".repeat(65 * 1024), &[]), "content"),
        (
            StoreMemoryRequest {
                tags: (0..33).map(|i| format!("t{i}")).collect(),
                ..note("ok", "x", &[])
            },
            "tags",
        ),
        (
            StoreMemoryRequest {
                metadata_json: "[1]".into(),
                ..note("ok", "x", &[])
            },
            "metadata_json",
        ),
    ] {
        let err = c.store_memory(authed(&host, req)).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
        assert_eq!(field_of(&err), field);
    }
    let err = c
        .store_memory(authed(
            &host,
            StoreMemoryRequest {
                shared: true,
                ..note("x", "y", &[])
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // Deletes: own by id, anyone's by record id for admins.
    let del = |id: &str, record: &str| DeleteMemoryRequest {
        id: id.into(),
        record_id: record.into(),
    };
    assert!(
        c.delete_memory(authed(&host, del("deploy.key", "")))
            .await
            .unwrap()
            .into_inner()
            .deleted
    );
    assert!(
        !c.delete_memory(authed(&host, del("deploy.key", "")))
            .await
            .unwrap()
            .into_inner()
            .deleted
    );
    assert_eq!(
        c.delete_memory(authed(&member, del("", &m.record_id)))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    let laptop = c
        .search_memories(authed(
            &member,
            SearchMemoriesRequest {
                query: "laptop".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .matches
        .remove(0);
    assert!(
        c.delete_memory(authed(&r.admin, del("", &laptop.record_id)))
            .await
            .unwrap()
            .into_inner()
            .deleted
    );
    assert_eq!(
        search(&mut c, &member, "laptop").await,
        Vec::<String>::new()
    );
}

on_all_backends!(ready(auth_on()) => memories_have_owners);

/// The peer's REST shortcuts: a host's memories by its key, the admin's view of everyone's.
async fn rest_shortcuts_keep_the_peer_shapes(r: Ready) {
    let (host, key) = crate::testkit::register_host(&r.srv, &r.admin, "rest.example.com").await;
    let host_id = host["host"]["id"].to_string().trim_matches('"').to_string();
    let call = |path: &str, body: serde_json::Value| {
        r.srv
            .post(path)
            .header("x-api-key", &key)
            .json(&body)
            .send()
    };
    let (code, body) = crate::testkit::json(
        call(
            "/mcp/memories/store",
            json!({"key": "build.notes", "text": "cargo build needs protoc",
                                           "metadata": {"lang": "rust"}, "tags": ["Build"]}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    let d = &body["data"];
    assert_eq!(
        (d["status"].as_str(), d["id"].as_str()),
        (Some("created"), Some("build.notes"))
    );
    let m = &d["memory"];
    assert_eq!(m["host_id"], host_id.as_str());
    assert_eq!(m["host"], "rest.example.com");
    assert_eq!(m["metadata"], json!({"lang": "rust"}));
    assert_eq!(m["tags"], json!(["build"]));
    let record_id = m["record_id"].as_str().unwrap().to_string();

    let (_, body) = crate::testkit::json(
        call(
            "/mcp/memories/retrieve",
            json!({"memory_id": "build.notes"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["status"], "found");
    assert_eq!(
        body["data"]["memory"]["content"],
        "cargo build needs protoc"
    );
    let (_, body) = crate::testkit::json(
        call("/mcp/memories/search", json!({"q": "protoc", "limit": 500}))
            .await
            .unwrap(),
    )
    .await;
    let d = &body["data"];
    assert_eq!(
        (
            d["status"].as_str(),
            d["count"].as_u64(),
            d["limit"].as_u64()
        ),
        (Some("ok"), Some(1), Some(100))
    );
    assert!(d["matches"][0]["score"].is_number());

    // Bad input: JSON that does not parse is the peer's 400; a bad id names the field.
    let res = r
        .srv
        .post("/mcp/memories/store")
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let (code, body) = crate::testkit::json(
        call(
            "/mcp/memories/store",
            json!({"id": "no spaces", "content": "x"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert!(body.to_string().contains("\"id\""), "{body}");

    // Admins search by host and delete by record id; hosts delete their own.
    let (code, body) = r
        .admin_get(&format!(
            "/admin/mcp/memories?q=cargo&host_id={host_id}&limit=500"
        ))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["count"], 1);
    let (_, body) = r
        .admin_delete(&format!("/admin/mcp/memories/{record_id}"))
        .await;
    assert_eq!(body["data"]["deleted"], true);
    let res = r
        .srv
        .delete("/mcp/memories/build.notes")
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    let (_, body) = crate::testkit::json(res).await;
    assert_eq!(body["data"]["status"], "missing");
    call(
        "/mcp/memories/store",
        json!({"id": "tmp", "content": "scratch"}),
    )
    .await
    .unwrap();
    let (_, body) = crate::testkit::json(
        call("/mcp/memories/delete", json!({"id": "tmp"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (body["data"]["status"].as_str(), body["data"]["id"].as_str()),
        (Some("deleted"), Some("tmp"))
    );
    let res = r
        .srv
        .post("/mcp/memories/search")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a host key is required");
}

on_all_backends!(ready(auth_on()) => rest_shortcuts_keep_the_peer_shapes);

/// Admins change the limits (audited, validated); the store follows them at once.
async fn limits_are_settings(r: Ready) {
    let (code, body) = r
        .admin_put(
            "/api/v1/memory/settings",
            json!({"max_content_bytes": 1000}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["max_content_bytes"], 1000);
    assert_eq!(
        body["data"]["workspace_quota_bytes"],
        100 * 1024 * 1024,
        "kept"
    );
    let (code, body) = r
        .admin_put(
            "/api/v1/memory/settings",
            json!({"max_content_bytes": 70000}),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert!(body.to_string().contains("max_content_bytes"), "{body}");
    let host = r.host_key("limits.example.com").await;
    let mut c = MemoryServiceClient::new(r.srv.channel().await);
    let err = c
        .store_memory(authed(&host, note("big", &"x".repeat(1001), &[])))
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), field_of(&err).as_str()),
        (Code::InvalidArgument, "content")
    );
    put(&mut c, &host, note("fits", &"x".repeat(1000), &[])).await;
    let (_, audit) = r.admin_get("/api/v1/audit?action=memory.settings").await;
    assert_eq!(
        audit["data"]["events"].as_array().map(Vec::len),
        Some(1),
        "{audit}"
    );
}

on_all_backends!(ready(auth_on()) => limits_are_settings);
