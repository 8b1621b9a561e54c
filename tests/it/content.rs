//! Content distributed to hosts: `AGENTS.md` and slash-command prompts, over the peer's host
//! and admin routes, `/api/v1/config` and gRPC, on every backend.

use codex_central_proto::config::v1::config_service_client::ConfigServiceClient;
use codex_central_proto::config::v1::{
    ContentSyncStatus, ListPromptsRequest, RetrieveAgentsDocumentRequest, SavePromptRequest,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use tonic::Code;

use crate::on_all_backends;
use crate::testkit::{Ready, auth_on, bearer, json};

fn sha(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

async fn agents_md(r: Ready) {
    let key = r.host_key("agents-1.example.com").await;
    let retrieve = |sha: Option<String>| {
        let body = match sha {
            Some(s) => json!({ "sha256": s }),
            None => json!({}),
        };
        r.host_post(&key, "/agents/retrieve", body)
    };
    // Nothing saved yet: hosts remove their copies.
    let (status, body) = retrieve(None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "missing");
    assert_eq!(body["data"]["size_bytes"], 0);
    let (_, body) = r.admin_get("/admin/agents").await;
    assert_eq!(body["data"]["status"], "missing");

    let v1 = "# Fleet rules\n\nRun the tests before you commit.\n";
    let (status, body) = r
        .admin_post("/admin/agents/store", json!({ "content": v1 }))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["status"], "created");
    assert_eq!(body["data"]["sha256"], sha(v1));
    let (_, body) = retrieve(None).await;
    assert_eq!(body["data"]["status"], "updated");
    assert_eq!(body["data"]["content"], v1);
    assert_eq!(body["data"]["size_bytes"], v1.len());
    let (_, body) = retrieve(Some(sha(v1))).await;
    assert_eq!(body["data"]["status"], "unchanged");
    assert!(body["data"].get("content").is_none(), "{body}");

    // Saving the same text is no new version; a stale lock is refused; a current one works.
    let (status, body) = r
        .admin_post("/admin/agents/store", json!({ "body": v1 }))
        .await;
    assert_eq!(
        (status, body["data"]["status"].clone()),
        (200, json!("unchanged"))
    );
    let v2 = "# Fleet rules\n\nRun the tests and the linters.\n";
    let (status, body) = r
        .admin_post(
            "/admin/agents/store",
            json!({ "content": v2, "sha256": sha("something else") }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = r
        .admin_post(
            "/admin/agents/store",
            json!({ "content": v2, "sha256": sha(v1) }),
        )
        .await;
    assert_eq!(
        (status, body["data"]["status"].clone()),
        (200, json!("updated"))
    );
    let (_, body) = retrieve(Some(sha(v1))).await;
    assert_eq!(body["data"]["content"], v2);

    // NUL cannot be stored on PostgreSQL: refused at the edge on every backend.
    let (status, body) = r
        .admin_post("/admin/agents/store", json!({ "content": "a\u{0}b" }))
        .await;
    assert_eq!(status, 422, "{body}");

    // Clearing removes the hosts' copies and is a version of its own.
    let (status, _) = json(
        r.srv
            .delete("/admin/agents")
            .bearer_auth(&r.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = retrieve(Some(sha(v2))).await;
    assert_eq!(body["data"]["status"], "missing");
    let (_, body) = r.admin_get("/api/v1/config/agents/versions").await;
    let versions = body["data"]["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 3, "{body}");
    assert_eq!(versions[0]["cleared"], true);
    assert_eq!(versions[2]["sha256"], sha(v1));

    // The same over gRPC, as a host.
    let mut grpc = ConfigServiceClient::new(r.srv.channel().await);
    let mut req = tonic::Request::new(RetrieveAgentsDocumentRequest::default());
    req.metadata_mut().insert("authorization", bearer(&key));
    let res = grpc
        .retrieve_agents_document(req)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(res.status(), ContentSyncStatus::Missing);
}

on_all_backends!(ready(auth_on()) => agents_md);

const REVIEW: &str =
    "---\ndescription: Review the change\nargument-hint: [path]\n---\nReview $1 carefully.\n";

async fn prompts(r: Ready) {
    let key = r.host_key("prompts-1.example.com").await;
    let (status, body) = r
        .admin_post(
            "/admin/slash-commands/store",
            json!({ "filename": "review.md", "prompt": REVIEW }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // Description and hint come from the front matter when not sent.
    assert_eq!(body["data"]["description"], "Review the change");
    assert_eq!(body["data"]["argument_hint"], "[path]");

    let list = async || {
        let (status, body) = json(
            r.srv
                .get("/slash-commands")
                .header("x-api-key", &key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["data"]["commands"].as_array().unwrap().clone()
    };
    let commands = list().await;
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["filename"], "review.md");
    assert_eq!(commands[0]["sha256"], sha(REVIEW));
    assert!(commands[0]["deleted_at"].is_null());
    assert!(commands[0].get("prompt").is_none(), "lists carry no bodies");

    let retrieve = |filename: &str, sha: Option<String>| {
        let mut body = json!({ "filename": filename });
        if let Some(s) = sha {
            body["sha256"] = json!(s);
        }
        r.host_post(&key, "/slash-commands/retrieve", body)
    };
    let (_, body) = retrieve("review.md", None).await;
    assert_eq!(body["data"]["status"], "updated");
    assert_eq!(body["data"]["prompt"], REVIEW);
    let (_, body) = retrieve("review.md", Some(sha(REVIEW))).await;
    assert_eq!(body["data"]["status"], "unchanged");
    assert!(body["data"].get("prompt").is_none());
    let (_, body) = retrieve("nope.md", None).await;
    assert_eq!(body["data"]["status"], "missing");
    let (status, body) = retrieve("../etc/passwd", None).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["filename"].is_array(), "{body}");

    // A host pushes its own prompt (host_content_push is on by default, as the peer).
    let local = "Summarise the diff.\n";
    let push = |filename: &str, text: &str, digest: String| {
        r.host_post(
            &key,
            "/slash-commands/store",
            json!({ "filename": filename, "prompt": text, "sha256": digest }),
        )
    };
    let (status, body) = push("local.md", local, sha("torn upload")).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["sha256"].is_array());
    let (status, body) = push("local.md", local, sha(local)).await;
    assert_eq!(
        (status, body["data"]["status"].clone()),
        (200, json!("created"))
    );
    let (_, body) = push("local.md", local, sha(local)).await;
    assert_eq!(body["data"]["status"], "unchanged");
    assert_eq!(list().await.len(), 2);

    // Retiring: hosts see deleted (with the time) and the list keeps the row.
    let retire = |filename: &str| {
        r.srv
            .delete(&format!("/admin/slash-commands/{filename}"))
            .bearer_auth(&r.admin)
            .send()
    };
    let (status, _) = json(retire("review.md").await.unwrap()).await;
    assert_eq!(status, 200);
    let (status, _) = json(retire("review.md").await.unwrap()).await;
    assert_eq!(status, 404);
    let (_, body) = retrieve("review.md", Some(sha(REVIEW))).await;
    assert_eq!(body["data"]["status"], "deleted");
    assert!(body["data"]["deleted_at"].is_string(), "{body}");
    let retired = list().await;
    assert!(
        retired
            .iter()
            .any(|c| c["filename"] == "review.md" && c["deleted_at"].is_string())
    );
    let (status, _) = r.admin_get("/admin/slash-commands/review.md").await;
    assert_eq!(status, 404);
    let (status, body) = r.admin_get("/admin/slash-commands/local.md").await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["command"]["prompt"], local);

    // Two editors from the same copy: the second is told, not overwritten.
    let edit = |text: &str| {
        r.admin_post(
            "/admin/slash-commands/store",
            json!({ "filename": "local.md", "prompt": text, "expected_sha256": sha(local) }),
        )
    };
    let (first, second) = tokio::join!(edit("First edit.\n"), edit("Second edit.\n"));
    let mut codes = [first.0, second.0];
    codes.sort_unstable();
    assert_eq!(codes, [200, 409], "{first:?} {second:?}");

    // Admins over gRPC see the same prompts; hosts may not save.
    let mut grpc = ConfigServiceClient::new(r.srv.channel().await);
    let mut req = tonic::Request::new(ListPromptsRequest {
        include_retired: true,
    });
    req.metadata_mut().insert("authorization", bearer(&r.admin));
    let res = grpc.list_prompts(req).await.unwrap().into_inner();
    assert_eq!(res.prompts.len(), 2);
    let mut req = tonic::Request::new(SavePromptRequest {
        filename: "x.md".into(),
        body: "x".into(),
        ..Default::default()
    });
    req.metadata_mut().insert("authorization", bearer(&key));
    let err = grpc.save_prompt(req).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

on_all_backends!(ready(auth_on()) => prompts);

async fn host_push_modes(r: Ready) {
    let key = r.host_key("push-1.example.com").await;
    let set_mode = async |mode: &str| {
        let (status, body) = json(
            r.srv
                .put("/api/v1/config/settings")
                .bearer_auth(&r.admin)
                .json(&json!({ "host_content_push": mode }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["host_content_push"], mode);
    };
    let text = "Explain this error.\n";
    let push = || {
        r.host_post(
            &key,
            "/slash-commands/store",
            json!({ "filename": "explain.md", "content": text, "sha256": sha(text) }),
        )
    };

    set_mode("review").await;
    let (status, body) = push().await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["data"]["status"], "pending_review");
    let proposal = body["data"]["proposal_id"].as_str().unwrap().to_string();
    // The wrapper pushes on every run: the same content makes no second proposal.
    let (status, body) = push().await;
    assert_eq!(status, 202);
    assert_eq!(body["data"]["proposal_id"], proposal.as_str());
    let (_, body) = r
        .host_post(
            &key,
            "/slash-commands/retrieve",
            json!({"filename": "explain.md"}),
        )
        .await;
    assert_eq!(
        body["data"]["status"], "missing",
        "not applied before review"
    );
    let (_, body) = r.admin_get("/api/v1/config/proposals?state=pending").await;
    let pending = body["data"]["proposals"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{body}");
    assert_eq!(pending[0]["item"]["prompt"], text);
    let (status, body) = r
        .admin_post(
            &format!("/api/v1/config/proposals/{proposal}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["state"], "approved");
    let (status, _) = r
        .admin_post(
            &format!("/api/v1/config/proposals/{proposal}/reject"),
            json!({ "reason": "late" }),
        )
        .await;
    assert_eq!(status, 409, "decided once");
    let (_, body) = r
        .host_post(
            &key,
            "/slash-commands/retrieve",
            json!({"filename": "explain.md"}),
        )
        .await;
    assert_eq!(body["data"]["status"], "updated");
    assert_eq!(body["data"]["prompt"], text);

    set_mode("off").await;
    let (status, body) = push().await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("host_content_push"),
        "{body}"
    );
    let (status, body) = json(
        r.srv
            .put("/api/v1/config/settings")
            .bearer_auth(&r.admin)
            .json(&json!({ "host_content_push": "sometimes" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["host_content_push"].is_array(), "{body}");
}

on_all_backends!(ready(auth_on()) => host_push_modes);

const SKILL_MD: &str = "---\nname: deploy\ndescription: Ship a release the fleet's way\n---\nRun scripts/release.sh.\n";

async fn skills(r: Ready) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = r.host_key("skills-1.example.com").await;
    let script = b"#!/bin/sh\necho release\n".to_vec();
    let (status, body) = r
        .admin_post(
            "/admin/skills/store",
            json!({
                "slug": "deploy",
                "manifest": SKILL_MD,
                "files": [{ "path": "scripts/release.sh", "content_base64": b64.encode(&script) }],
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["data"]["display_name"], "deploy",
        "from the front matter"
    );
    let digest = body["data"]["sha256"].as_str().unwrap().to_string();
    assert_ne!(digest, sha(SKILL_MD), "the files are part of the digest");

    let (status, body) = json(
        r.srv
            .get("/skills")
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["skills"][0]["slug"], "deploy");
    assert_eq!(body["data"]["skills"][0]["sha256"], digest.as_str());

    let (_, body) = r
        .host_post(&key, "/skills/retrieve", json!({ "slug": "deploy" }))
        .await;
    assert_eq!(body["data"]["status"], "updated");
    assert_eq!(body["data"]["manifest"], SKILL_MD);
    let file = &body["data"]["files"][0];
    assert_eq!(file["path"], "scripts/release.sh");
    assert_eq!(
        b64.decode(file["content_base64"].as_str().unwrap())
            .unwrap(),
        script
    );
    let (_, body) = r
        .host_post(
            &key,
            "/skills/retrieve",
            json!({ "filename": "deploy", "sha256": digest }),
        )
        .await;
    assert_eq!(body["data"]["status"], "unchanged");
    assert!(body["data"].get("manifest").is_none());

    // The peer's wrapper pushes a single document; its digest is that of the text.
    let notes = "---\nname: notes\ndescription: Keep notes\n---\nWrite them down.\n";
    let (status, body) = r
        .host_post(
            &key,
            "/skills/store",
            json!({ "slug": "notes.md", "manifest": notes, "sha256": sha(notes) }),
        )
        .await;
    assert_eq!(
        (status, body["data"]["status"].clone()),
        (200, json!("created")),
        "{body}"
    );
    let (_, body) = r
        .host_post(
            &key,
            "/skills/retrieve",
            json!({ "slug": "notes.md", "sha256": sha(notes) }),
        )
        .await;
    assert_eq!(body["data"]["status"], "unchanged");

    // What Codex could not use, or what would escape the folder, is refused naming the field.
    let (status, body) = r
        .admin_post(
            "/admin/skills/store",
            json!({ "slug": "bare", "manifest": "no front matter" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["manifest"].is_array(), "{body}");
    let (status, body) = r.admin_post("/admin/skills/store",
        json!({ "slug": "deploy", "manifest": SKILL_MD, "files": [{ "path": "../../.bashrc", "content": "x" }] }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["files.0.path"].is_array(), "{body}");

    // Review mode: the pushed skill waits for an admin, then applies.
    let (status, _) = json(
        r.srv
            .put("/api/v1/config/settings")
            .bearer_auth(&r.admin)
            .json(&json!({ "host_content_push": "review" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let edited = SKILL_MD.replace("release.sh", "release.sh --dry-run");
    let (status, body) = r
        .host_post(
            &key,
            "/skills/store",
            json!({ "slug": "deploy", "manifest": edited, "sha256": sha(&edited) }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let proposal = body["data"]["proposal_id"].as_str().unwrap().to_string();
    let (_, body) = r.admin_get("/api/v1/config/proposals?state=pending").await;
    assert_eq!(body["data"]["proposals"][0]["kind"], "skill", "{body}");
    let (status, _) = r
        .admin_post(
            &format!("/api/v1/config/proposals/{proposal}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, body) = r.admin_get("/admin/skills/deploy").await;
    assert_eq!(body["data"]["skill"]["manifest"], edited);
    assert_eq!(
        body["data"]["skill"]["files"].as_array().unwrap().len(),
        0,
        "the push replaced the folder"
    );

    // Retired skills tell hosts to delete them.
    let (status, _) = json(
        r.srv
            .delete("/admin/skills/deploy")
            .bearer_auth(&r.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (_, body) = r
        .host_post(&key, "/skills/retrieve", json!({ "slug": "deploy" }))
        .await;
    assert_eq!(body["data"]["status"], "deleted");
}

on_all_backends!(ready(auth_on()) => skills);
