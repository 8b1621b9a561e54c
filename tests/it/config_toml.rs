//! The fleet config.toml: template, versions, profiles, host overrides and the baked file
//! hosts sync, over the peer's routes, `/api/v1/config` and gRPC, on every backend.

use codex_central_proto::config::v1::config_service_client::ConfigServiceClient;
use codex_central_proto::config::v1::{
    BakeConfigRequest, ContentSyncStatus, GetConfigTemplateRequest, HostConfigOverride,
    RenderConfigRequest,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tonic::Code;

use crate::on_all_backends;
use crate::testkit::{Ready, auth_on, bearer, register_host};

fn sha(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A template with a commented free block: its text must reach hosts as typed.
pub fn template() -> Value {
    json!({
        "model": "gpt-5.1-codex",
        "model_provider": "central",
        "model_reasoning_effort": "medium",
        "approval_policy": "on-request",
        "sandbox_mode": "workspace-write",
        "sandbox_network_access": true,
        "model_providers": [{"id": "central", "name": "Central", "base_url": "https://central.example/v1", "env_key": "CENTRAL_KEY"}],
        "projects": [{"path": "/srv/repo", "trust_level": "trusted"}],
        "free_blocks": [{"name": "ui", "toml": "# Fleet UI choices\nhide_agent_reasoning = true # quiet\n\n# TUI\n[tui]\nnotifications = true\n"}]
    })
}

async fn config_template(r: Ready) {
    let (one, key) = register_host(&r.srv, &r.admin, "conf-1.example.com").await;
    let host_id = one["host"]["id"].as_u64().unwrap();

    // Nothing saved: admins see `missing`, hosts remove their copies.
    let (status, body) = r.admin_get("/admin/config").await;
    assert_eq!(
        (status, body["data"]["status"].as_str()),
        (200, Some("missing")),
        "{body}"
    );
    assert!(body["data"]["settings"].is_object(), "{body}");
    let (status, body) = r.host_post(&key, "/config/retrieve", json!({})).await;
    assert_eq!(
        (status, body["data"]["status"].as_str()),
        (200, Some("missing")),
        "{body}"
    );
    assert_eq!(body["data"]["size_bytes"], 0);

    // Saved: comments and order of the free block survive, 201 the first time.
    let (status, body) = r
        .admin_post("/admin/config/store", json!({"settings": template()}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["status"], "created");
    let base = body["data"]["content"].as_str().unwrap().to_string();
    let base_sha = body["data"]["sha256"].as_str().unwrap().to_string();
    assert_eq!(base_sha, sha(&base));
    assert!(
        base.contains("# Fleet UI choices\nhide_agent_reasoning = true # quiet\n"),
        "{base}"
    );
    assert!(
        base.contains("# TUI\n[tui]\nnotifications = true\n"),
        "{base}"
    );
    assert!(
        !base.contains("mcp_servers.cdx"),
        "the base file has no host key: {base}"
    );
    let (_, body) = r.admin_get("/admin/config").await;
    for field in ["model", "free_blocks", "projects", "sandbox_network_access"] {
        assert_eq!(
            body["data"]["settings"][field],
            template()[field],
            "{field}"
        );
    }

    // The same again: unchanged. A stale lock: 409, nothing stored.
    let (status, body) = r
        .admin_post(
            "/admin/config/store",
            json!({"settings": template(), "sha256": base_sha}),
        )
        .await;
    assert_eq!(
        (status, body["data"]["status"].as_str()),
        (200, Some("unchanged")),
        "{body}"
    );
    let mut edited = template();
    edited["model"] = json!("gpt-5.1-codex-max");
    let (status, body) = r
        .admin_post(
            "/admin/config/store",
            json!({"settings": edited, "sha256": sha("stale")}),
        )
        .await;
    assert_eq!(status, 409, "{body}");

    // Invalid TOML and keys Codex refuses: 422 naming the field and the line and column.
    let mut bad = template();
    bad["free_blocks"] = json!([{"name": "x", "toml": "ok = 1\nbroken = \n"}]);
    let (status, body) = r
        .admin_post("/admin/config/store", json!({"settings": bad}))
        .await;
    assert_eq!(status, 422, "{body}");
    let msg = body["errors"]["settings.free_blocks.0.toml"][0]
        .as_str()
        .unwrap_or_default();
    assert!(msg.starts_with("line 2, column 10"), "{body}");
    bad["free_blocks"] = json!([{"name": "x", "toml": "[profiles.fast]\nmodel = \"m\"\n"}]);
    let (status, body) = r
        .admin_post("/admin/config/store", json!({"settings": bad}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("profiles"), "{body}");
    bad["free_blocks"] = json!([{"name": "x", "toml": "experimental_use_rmcp_client = true\n"}]);
    let (status, body) = r
        .admin_post("/admin/config/store", json!({"settings": bad}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.to_string().contains("experimental_use_rmcp_client"),
        "{body}"
    );
    let (status, body) = r
        .admin_post(
            "/admin/config/store",
            json!({"settings": {"approval_policy": "sometimes"}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"]["settings.approval_policy"].is_array(),
        "{body}"
    );
    let (status, body) = r
        .admin_post(
            "/admin/config/store",
            json!({"settings": {"modle": "typo"}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("modle"), "{body}");

    // Hosts get the file baked for them: the managed MCP entry carries their own key.
    let (status, body) = r.host_post(&key, "/config/retrieve", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    assert_eq!(d["status"], "updated");
    let baked = d["content"].as_str().unwrap().to_string();
    assert_eq!(d["sha256"].as_str(), Some(sha(&baked).as_str()));
    assert_eq!(d["base_sha256"].as_str(), Some(base_sha.as_str()));
    assert_eq!(d["size_bytes"].as_u64(), Some(baked.len() as u64));
    let mcp = format!(
        "[mcp_servers.cdx]\nurl = \"{}/mcp\"\nhttp_headers = {{ Authorization = \"Bearer {key}\" }}\ndefault_tools_approval_mode = \"approve\"\n",
        r.srv.url
    );
    assert!(baked.contains(&mcp), "{baked}");
    let (_, body) = r
        .host_post(&key, "/config/retrieve", json!({"sha256": sha(&baked)}))
        .await;
    assert_eq!(body["data"]["status"], "unchanged");
    assert!(body["data"].get("content").is_none(), "{body}");
    // Another host's file differs by its key only.
    let other = r.host_key("conf-2.example.com").await;
    let (_, body) = r
        .host_post(&other, "/config/retrieve", json!({"sha256": sha(&baked)}))
        .await;
    assert_eq!(body["data"]["status"], "updated");
    assert_eq!(
        body["data"]["content"].as_str().unwrap(),
        baked.replace(&key, &other)
    );

    // The fleet's per-host model override is baked in.
    let (status, body) = r
        .admin_post(
            &format!("/admin/hosts/{host_id}/model"),
            json!({"model_override": "gpt-5.1-codex-mini", "reasoning_effort_override": "low"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = r
        .host_post(&key, "/config/retrieve", json!({"sha256": sha(&baked)}))
        .await;
    let content = body["data"]["content"].as_str().unwrap();
    assert!(
        content.starts_with("model = \"gpt-5.1-codex-mini\"\n"),
        "{content}"
    );
    assert!(
        content.contains("model_reasoning_effort = \"low\"\n"),
        "{content}"
    );

    // Per-host extra block and default profile; a bad block is refused with its line.
    let (status, body) = r
        .admin_put(
            &format!("/api/v1/config/hosts/{host_id}/override"),
            json!({"extra_toml": "[tools]\nweb_search = true\n", "default_profile": "nope"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["default_profile"].is_array(), "{body}");
    let (status, body) = r
        .admin_put(
            &format!("/api/v1/config/hosts/{host_id}/override"),
            json!({"extra_toml": "[tools]\nweb_search = \n"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"]["extra_toml"][0]
            .as_str()
            .unwrap()
            .starts_with("line 2"),
        "{body}"
    );

    // Profiles: their own files, listed to hosts, created, renamed, deleted.
    let (status, body) = r
        .admin_post(
            "/api/v1/config/profiles",
            json!({"name": "fast", "model": "gpt-5.1-codex-mini", "model_reasoning_effort": "low", "extra_toml": "# fast\n"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["filename"], "fast.config.toml");
    let (status, body) = r
        .admin_post("/api/v1/config/profiles", json!({"name": "fast"}))
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = r
        .admin_post("/api/v1/config/profiles", json!({"name": "bad name"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["name"].is_array(), "{body}");
    let (status, body) = r
        .admin_put(
            &format!("/api/v1/config/hosts/{host_id}/override"),
            json!({"extra_toml": "[tools]\nweb_search = true\n", "default_profile": "fast"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // A template that would break that host's block is refused, naming the host.
    let mut clash = template();
    clash["web_search"] = json!(true);
    let (status, body) = r
        .admin_post("/admin/config/store", json!({"settings": clash}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&format!("host {host_id}")),
        "{body}"
    );
    let (_, body) = r
        .host_post(
            &key,
            "/config/retrieve",
            json!({"sha256": sha(&baked), "profiles": {}}),
        )
        .await;
    let d = &body["data"];
    assert_eq!(d["status"], "updated");
    assert!(
        d["content"]
            .as_str()
            .unwrap()
            .ends_with("[tools]\nweb_search = true\n"),
        "{d}"
    );
    assert_eq!(d["default_profile"], "fast");
    let received = d["content"].as_str().unwrap().to_string();
    // RenderConfig for the host, with its model overrides, previews exactly that file (the key
    // as a placeholder); a draft override stands in for the stored one, and a bad draft is
    // refused naming host_override.extra_toml.
    let mut grpc = ConfigServiceClient::new(r.srv.channel().await);
    let preview = |host_override: Option<HostConfigOverride>| {
        let mut req = tonic::Request::new(RenderConfigRequest {
            host_id: host_id.to_string(),
            host_override,
            model_override: "gpt-5.1-codex-mini".into(),
            reasoning_effort_override: "low".into(),
            ..Default::default()
        });
        req.metadata_mut().insert("authorization", bearer(&r.admin));
        req
    };
    let shown = grpc
        .render_config(preview(None))
        .await
        .unwrap()
        .into_inner()
        .config
        .unwrap()
        .content;
    assert_eq!(shown, received.replace(&key, "<host key>"));
    let draft = |extra: &str| {
        Some(HostConfigOverride {
            host_id: host_id.to_string(),
            extra_toml: extra.into(),
            ..Default::default()
        })
    };
    let shown = grpc
        .render_config(preview(draft(
            "[shell_environment_policy]\ninherit = \"core\"\n",
        )))
        .await
        .unwrap()
        .into_inner()
        .config
        .unwrap()
        .content;
    assert!(
        shown.ends_with("[shell_environment_policy]\ninherit = \"core\"\n"),
        "{shown}"
    );
    assert!(!shown.contains("web_search = true"), "{shown}");
    let bad = grpc
        .render_config(preview(draft("[shell_environment_policy]\ninherit = \n")))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    let details = tonic_types::StatusExt::get_error_details(&bad);
    let fields: Vec<String> = details
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["host_override.extra_toml"], "{bad:?}");
    let fast = &d["profiles"][0];
    assert_eq!(fast["filename"], "fast.config.toml");
    assert_eq!(
        fast["content"],
        "model = \"gpt-5.1-codex-mini\"\nmodel_reasoning_effort = \"low\"\n\n# fast\n"
    );
    assert_eq!(
        fast["sha256"].as_str(),
        Some(sha(fast["content"].as_str().unwrap()).as_str())
    );
    let now = d["sha256"].clone();
    let mine = json!({"fast": fast["sha256"]});
    let (_, body) = r
        .host_post(
            &key,
            "/config/retrieve",
            json!({"sha256": now, "profiles": mine}),
        )
        .await;
    assert_eq!(body["data"]["status"], "unchanged", "{body}");
    // The peer's wrapper sends no profiles: its config.toml decides alone.
    let (_, body) = r
        .host_post(&key, "/config/retrieve", json!({"sha256": now}))
        .await;
    assert_eq!(body["data"]["status"], "unchanged", "{body}");
    let (_, body) = r
        .host_post(
            &key,
            "/config/retrieve",
            json!({"sha256": now, "profiles": {}}),
        )
        .await;
    assert_eq!(body["data"]["status"], "updated", "{body}");

    let (status, body) = r.admin_delete("/api/v1/config/profiles/fast").await;
    assert_eq!(status, 409, "a host's default profile stays: {body}");
    let (status, body) = r
        .admin_post(
            "/api/v1/config/profiles/fast/rename",
            json!({"new_name": "quick"}),
        )
        .await;
    assert_eq!(
        (status, body["data"]["name"].as_str()),
        (200, Some("quick")),
        "{body}"
    );
    let (_, body) = r
        .admin_get(&format!("/api/v1/config/hosts/{host_id}/override"))
        .await;
    assert_eq!(
        body["data"]["default_profile"], "quick",
        "the override followed"
    );
    let (status, _) = r
        .admin_delete(&format!("/api/v1/config/hosts/{host_id}/override"))
        .await;
    assert_eq!(status, 200);
    let (status, _) = r
        .admin_delete(&format!("/api/v1/config/hosts/{host_id}/override"))
        .await;
    assert_eq!(status, 404);
    let (status, body) = r.admin_delete("/api/v1/config/profiles/quick").await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = r.admin_get("/api/v1/config/profiles").await;
    assert_eq!(body["data"]["profiles"], json!([]));

    // History: every save kept; diff and restore.
    let (status, body) = r
        .admin_post("/admin/config/store", json!({"settings": edited}))
        .await;
    assert_eq!(
        (status, body["data"]["status"].as_str()),
        (200, Some("updated")),
        "{body}"
    );
    let current_sha = body["data"]["sha256"].as_str().unwrap().to_string();
    let (_, body) = r.admin_get("/api/v1/config/versions").await;
    let versions = body["data"]["versions"].as_array().unwrap();
    // created, profile create/rename/delete, the edit.
    assert_eq!(versions.len(), 5, "{body}");
    assert_eq!(versions[0]["version"], 5);
    assert_eq!(versions[4]["version"], 1);
    let (_, body) = r.admin_get("/api/v1/config/diff?from=1").await;
    let diff = body["data"]["diff"].as_str().unwrap();
    assert!(
        diff.contains("-model = \"gpt-5.1-codex\"\n+model = \"gpt-5.1-codex-max\"\n"),
        "{diff}"
    );
    let (_, body) = r.admin_get("/api/v1/config/versions/1").await;
    assert_eq!(body["data"]["files"][0]["filename"], "config.toml");
    assert_eq!(
        body["data"]["files"][0]["content"].as_str(),
        Some(base.as_str())
    );
    let (status, body) = r
        .admin_post(
            "/api/v1/config/versions/1/restore",
            json!({"sha256": sha("stale")}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = r
        .admin_post(
            "/api/v1/config/versions/1/restore",
            json!({"sha256": current_sha}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["version"], 6);
    assert_eq!(body["data"]["note"], "restored from version 1");
    assert_eq!(body["data"]["content"].as_str(), Some(base.as_str()));
    let (status, _) = r.admin_get("/api/v1/config/versions/99").await;
    assert_eq!(status, 404);

    // The preview renders without saving; the managed entry can be turned off.
    let (status, body) = r
        .admin_post(
            "/admin/config/render",
            json!({"settings": edited, "host_id": host_id}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["data"]["content"]
            .as_str()
            .unwrap()
            .contains("Bearer <host key>"),
        "{body}"
    );
    let (status, _) = r
        .admin_put(
            "/api/v1/config/settings",
            json!({"managed_mcp_enabled": false}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, body) = r.host_post(&key, "/config/retrieve", json!({})).await;
    assert!(
        !body["data"]["content"]
            .as_str()
            .unwrap()
            .contains("mcp_servers.cdx"),
        "{body}"
    );

    // gRPC: hosts bake, admins read; hosts may not read the template.
    let mut grpc = ConfigServiceClient::new(r.srv.channel().await);
    let mut req = tonic::Request::new(BakeConfigRequest {
        known_sha256: String::new(),
        ..Default::default()
    });
    req.metadata_mut().insert("authorization", bearer(&key));
    let res = grpc.bake_config(req).await.unwrap().into_inner();
    assert_eq!(res.status(), ContentSyncStatus::Updated);
    assert_eq!(res.config.unwrap().base_sha256, base_sha);
    let mut req = tonic::Request::new(GetConfigTemplateRequest {});
    req.metadata_mut().insert("authorization", bearer(&key));
    assert_eq!(
        grpc.get_config_template(req).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    let mut req = tonic::Request::new(GetConfigTemplateRequest {});
    req.metadata_mut().insert("authorization", bearer(&r.admin));
    let doc = grpc
        .get_config_template(req)
        .await
        .unwrap()
        .into_inner()
        .document
        .unwrap();
    assert_eq!(doc.version, 6);
}

on_all_backends!(ready(auth_on()) => config_template);

/// Two admins editing from the same copy: one wins, the other gets 409 and nothing is lost.
async fn concurrent_edits(r: Ready) {
    let (_, body) = r
        .admin_post("/admin/config/store", json!({"settings": template()}))
        .await;
    let sha0 = body["data"]["sha256"].as_str().unwrap().to_string();
    let mut a = template();
    a["model"] = json!("model-a");
    let mut b = template();
    b["model"] = json!("model-b");
    let (ra, rb) = tokio::join!(
        r.admin_post(
            "/admin/config/store",
            json!({"settings": a, "sha256": sha0})
        ),
        r.admin_post(
            "/admin/config/store",
            json!({"settings": b, "sha256": sha0})
        ),
    );
    let mut codes = [ra.0, rb.0];
    codes.sort();
    assert_eq!(codes, [200, 409], "{ra:?} {rb:?}");
    let (_, body) = r.admin_get("/api/v1/config/versions").await;
    assert_eq!(body["data"]["versions"].as_array().unwrap().len(), 2);
}

on_all_backends!(ready(auth_on()) => concurrent_edits);

/// requirements.toml: validated, versioned, restorable, carried by `/config/retrieve` with a
/// host's own block appended.
async fn requirements(r: Ready) {
    let (one, key) = register_host(&r.srv, &r.admin, "req-1.example.com").await;
    let host_id = one["host"]["id"].as_u64().unwrap();
    let (status, body) = r.admin_get("/api/v1/config/requirements").await;
    assert_eq!(
        (status, body["data"]["status"].as_str()),
        (200, Some("missing")),
        "{body}"
    );
    let (_, body) = r.host_post(&key, "/config/retrieve", json!({})).await;
    assert_eq!(body["data"]["requirements"]["status"], "missing", "{body}");

    let (status, body) = r
        .admin_put(
            "/api/v1/config/requirements",
            json!({"settings": {"allowed_sandbox_modes": ["read-only", "sometimes"]}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"]["settings.allowed_sandbox_modes.1"].is_array(),
        "{body}"
    );
    let (status, body) = r
        .admin_put(
            "/api/v1/config/requirements",
            json!({"settings": {"free_blocks": [{"name": "x", "toml": "# ok\nallowed_models = [\"a\"]\n"}]}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let msg = body["errors"]["settings.free_blocks.0.toml"][0]
        .as_str()
        .unwrap_or_default();
    assert!(
        msg.starts_with("line 2, column 1") && msg.contains("allowed_models"),
        "{body}"
    );

    let policy = json!({
        "allowed_approval_policies": ["untrusted", "on-request"],
        "allowed_sandbox_modes": ["read-only"],
        "free_blocks": [{"name": "note", "toml": "# Set by the fleet; Codex enforces it.\n"}]
    });
    let (status, body) = r
        .admin_put("/api/v1/config/requirements", json!({"settings": policy}))
        .await;
    assert_eq!(status, 201, "{body}");
    let content = body["data"]["content"].as_str().unwrap().to_string();
    assert_eq!(
        content,
        "allowed_approval_policies = [\"untrusted\", \"on-request\"]\nallowed_sandbox_modes = [\"read-only\"]\n\n# Set by the fleet; Codex enforces it.\n"
    );
    let v1_sha = body["data"]["sha256"].as_str().unwrap().to_string();

    // Hosts receive it (with their own block) and learn when it is unchanged.
    let (status, body) = r
        .admin_put(
            &format!("/api/v1/config/hosts/{host_id}/override"),
            json!({"requirements_toml": "allowed_web_search_modes = [\"cached\"]\n"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = r.host_post(&key, "/config/retrieve", json!({})).await;
    let req = &body["data"]["requirements"];
    assert_eq!(req["status"], "updated", "{body}");
    assert_eq!(req["path"], "/etc/codex/requirements.toml");
    let mine = req["content"].as_str().unwrap();
    assert!(
        mine.ends_with("allowed_web_search_modes = [\"cached\"]\n"),
        "{mine}"
    );
    assert_eq!(req["sha256"].as_str(), Some(sha(mine).as_str()));
    let (_, body) = r
        .host_post(
            &key,
            "/config/retrieve",
            json!({"requirements_sha256": sha(mine)}),
        )
        .await;
    assert_eq!(
        body["data"]["requirements"]["status"], "unchanged",
        "{body}"
    );
    assert!(body["data"]["requirements"].get("content").is_none());
    let (status, body) = r
        .admin_put(
            &format!("/api/v1/config/hosts/{host_id}/override"),
            json!({"requirements_toml": "bogus = 1\n"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["requirements_toml"].is_array(), "{body}");

    // Versions, stale locks and restore.
    let (status, body) = r
        .admin_put(
            "/api/v1/config/requirements",
            json!({"settings": {"allowed_sandbox_modes": ["read-only", "workspace-write"]}, "sha256": sha("stale")}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = r
        .admin_put(
            "/api/v1/config/requirements",
            json!({"settings": {"allowed_sandbox_modes": ["read-only", "workspace-write"]}, "sha256": v1_sha}),
        )
        .await;
    assert_eq!(
        (status, body["data"]["status"].as_str()),
        (200, Some("updated")),
        "{body}"
    );
    let (_, body) = r.admin_get("/api/v1/config/requirements/versions").await;
    assert_eq!(
        body["data"]["versions"].as_array().unwrap().len(),
        2,
        "{body}"
    );
    let (status, body) = r
        .admin_post("/api/v1/config/requirements/versions/1/restore", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["content"].as_str(), Some(content.as_str()));
    assert_eq!(body["data"]["note"], "restored from version 1");
}

on_all_backends!(ready(auth_on()) => requirements);
