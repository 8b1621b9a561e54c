//! Baked config files as the real Codex CLI 0.169 loads them: `--strict-config` accepts every
//! baked `config.toml` and profile file, `-p <profile>` layers the profile over the base, and
//! `codex mcp list` sees the managed entry.

use std::sync::Arc;

use axum::extract::State;
use codex_central::config::Layer;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::codex_cli::{codex, completed, sse};
use crate::testkit::{Backend, Opts, Ready, admin_token, spawn};

/// A Responses upstream that answers every turn with one line of text.
async fn upstream(
    State(seen): State<Arc<Mutex<Vec<String>>>>,
    body: String,
) -> axum::response::Response {
    let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let n = {
        let mut seen = seen.lock().await;
        seen.push(doc["model"].as_str().unwrap_or_default().to_string());
        seen.len()
    };
    // Response ids are unique upstream; usage is deduplicated by them.
    let id = format!("resp_{n}");
    let message = json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                         "content": [{"type": "output_text", "text": "config loaded", "annotations": []}]});
    sse(&[
        json!({"type": "response.created", "sequence_number": 0, "response": {"id": id, "status": "in_progress", "output": []}}),
        json!({"type": "response.output_item.done", "sequence_number": 1, "output_index": 0, "item": message}),
        completed(&id, json!([message])),
    ])
}

pub(crate) fn provider(base_url: &str) -> Value {
    json!({"id": "stub", "name": "Stub", "base_url": base_url, "env_key": "STUB_KEY",
           "http_headers": {"X-Fleet": "test"},
           "request_max_retries": 0, "stream_max_retries": 0, "stream_idle_timeout_ms": 20000})
}

/// Templates using every structured field, and a minimal one.
fn templates(base_url: &str, work: &str) -> Vec<Value> {
    vec![
        json!({
            "model": "stub-model", "model_provider": "stub",
            "model_reasoning_effort": "low", "model_reasoning_summary": "auto", "model_verbosity": "low",
            "approval_policy": "never", "sandbox_mode": "read-only", "sandbox_network_access": false,
            "notify": ["true"], "history_persistence": "none", "web_search": false,
            "features": {"web_search_request": false},
            "notices": {"hide_full_access_warning": true},
            "model_providers": [provider(base_url)],
            "mcp_servers": [
                {"name": "docs", "command": "/bin/false", "args": ["--stdio"], "env": {"A": "b"},
                 "startup_timeout_sec": 5, "tool_timeout_sec": 30, "disabled": true},
                {"name": "remote", "url": "http://127.0.0.1:9/mcp", "bearer_token_env_var": "REMOTE_TOKEN",
                 "env_http_headers": {"X-Team": "TEAM"}, "default_tools_approval_mode": "prompt", "disabled": true}
            ],
            "projects": [{"path": work, "trust_level": "trusted"}],
            "otel": {"exporter": "none", "environment": "test", "log_user_prompt": false},
            "free_blocks": [{"name": "more", "toml": "# extra\nhide_agent_reasoning = true\n\n# environment\n[shell_environment_policy]\ninherit = \"core\""}]
        }),
        json!({"model": "stub-model", "model_provider": "stub", "model_providers": [provider(base_url)]}),
    ]
}

fn profiles() -> Vec<Value> {
    vec![
        json!({"name": "fast", "model": "stub-fast", "model_reasoning_effort": "minimal", "model_verbosity": "low"}),
        json!({"name": "careful", "approval_policy": "on-request", "sandbox_mode": "workspace-write",
               "model_reasoning_summary": "detailed", "extra_toml": "# deeper\n[tools]\nweb_search = true\n"}),
    ]
}

async fn codex_run(
    codex: &std::path::Path,
    home: &std::path::Path,
    work: &std::path::Path,
    args: &[&str],
) -> std::process::Output {
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(codex)
            .args(args)
            .current_dir(work)
            .env("CODEX_HOME", home)
            .env("STUB_KEY", "sk-stub")
            .env_remove("OPENAI_API_KEY")
            .output(),
    )
    .await
    .expect("codex finishes")
    .unwrap()
}

/// The Responses stub (its base URL and the models it was asked for) and a server with auth
/// mode on on SQLite.
pub(crate) async fn stub_and_server() -> Option<(Ready, String, Arc<Mutex<Vec<String>>>)> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/v1/responses", axum::routing::post(upstream))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let srv = spawn(
        Backend::Sqlite,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                ..Default::default()
            },
        },
    )
    .await?;
    let admin = admin_token(&srv).await;
    Some((Ready { srv, admin }, base_url, seen))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_accepts_every_baked_file_and_profile() {
    let Some(codex) = codex() else {
        return;
    };
    let Some((r, base_url, seen)) = stub_and_server().await else {
        return;
    };
    let key = r.host_key("codex-config.example.com").await;
    for p in profiles() {
        let (status, body) = r.admin_post("/api/v1/config/profiles", p).await;
        assert_eq!(status, 201, "{body}");
    }
    let work = tempfile::tempdir().unwrap();
    let work_path = work.path().canonicalize().unwrap();
    for (i, template) in templates(&base_url, work_path.to_str().unwrap())
        .into_iter()
        .enumerate()
    {
        let (status, body) = r
            .admin_post("/admin/config/store", json!({"settings": template}))
            .await;
        assert!(status == 200 || status == 201, "template {i}: {body}");
        let (_, body) = r
            .host_post(&key, "/config/retrieve", json!({"profiles": {}}))
            .await;
        let d = &body["data"];
        assert_eq!(d["status"], "updated", "{body}");
        let home = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            d["content"].as_str().unwrap(),
        )
        .unwrap();
        for p in d["profiles"].as_array().unwrap() {
            std::fs::write(
                home.path().join(p["filename"].as_str().unwrap()),
                p["content"].as_str().unwrap(),
            )
            .unwrap();
        }

        let mcp = codex_run(&codex, home.path(), &work_path, &["mcp", "list"]).await;
        let listed = String::from_utf8_lossy(&mcp.stdout);
        assert!(
            mcp.status.success(),
            "template {i}: {listed}\n{}",
            String::from_utf8_lossy(&mcp.stderr)
        );
        assert!(
            listed.contains("cdx") && listed.contains(&format!("{}/mcp", r.srv.url)),
            "{listed}"
        );

        for (profile, model) in [
            (None, "stub-model"),
            (Some("fast"), "stub-fast"),
            (Some("careful"), "stub-model"),
        ] {
            let mut args = vec!["exec", "--strict-config", "--skip-git-repo-check"];
            if let Some(p) = profile {
                args.extend(["-p", p]);
            }
            args.push("say hi");
            seen.lock().await.clear();
            let out = codex_run(&codex, home.path(), &work_path, &args).await;
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "template {i}, profile {profile:?}: codex refused the baked files:\n{stdout}\n{stderr}\n{}",
                d["content"].as_str().unwrap()
            );
            assert!(stdout.contains("config loaded"), "{stdout}\n{stderr}");
            assert_eq!(
                seen.lock().await.first().map(String::as_str),
                Some(model),
                "{stderr}"
            );
        }
    }
}

/// The baked requirements.toml as Codex enforces it from `/etc/codex/requirements.toml`, in a
/// private mount namespace so the machine's `/etc` is untouched: a forbidden sandbox is
/// overridden with a warning naming the file, an allowed one is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_enforces_the_baked_requirements() {
    let Some(codex) = codex() else {
        return;
    };
    let probe = std::process::Command::new("unshare")
        .args(["-m", "true"])
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        assert!(
            !crate::testkit::in_ci(),
            "unshare -m is needed (root) for this test"
        );
        eprintln!("skipping: unshare -m is not available (needs root)");
        return;
    }
    let Some((r, base_url, _)) = stub_and_server().await else {
        return;
    };
    let key = r.host_key("codex-req.example.com").await;
    let template = json!({"model": "stub-model", "model_provider": "stub", "model_providers": [provider(&base_url)]});
    let (status, body) = r
        .admin_post("/admin/config/store", json!({"settings": template}))
        .await;
    assert_eq!(status, 201, "{body}");
    let policy = json!({"allowed_approval_policies": ["untrusted", "on-request"], "allowed_sandbox_modes": ["read-only"]});
    let (status, body) = r
        .admin_put("/api/v1/config/requirements", json!({"settings": policy}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (_, body) = r.host_post(&key, "/config/retrieve", json!({})).await;
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        body["data"]["content"].as_str().unwrap(),
    )
    .unwrap();
    let requirements = home.path().join("requirements.toml");
    std::fs::write(
        &requirements,
        body["data"]["requirements"]["content"].as_str().unwrap(),
    )
    .unwrap();

    // As root in a new mount namespace: a copy of /etc with codex/requirements.toml, bound
    // over /etc for this process tree only.
    let script = r#"set -e
etc=$(mktemp -d)
cp -a /etc/. "$etc"/ 2>/dev/null || true
mkdir -p "$etc/codex"
cp "$REQUIREMENTS" "$etc/codex/requirements.toml"
mount --bind "$etc" /etc
exec "$CODEX" exec --skip-git-repo-check -s "$SANDBOX" "say hi" </dev/null"#;
    for (sandbox, forbidden) in [("danger-full-access", true), ("read-only", false)] {
        let out = tokio::time::timeout(
            std::time::Duration::from_secs(120),
            tokio::process::Command::new("unshare")
                .args(["-m", "bash", "-c", script])
                .current_dir(work.path())
                .env("CODEX", &codex)
                .env("REQUIREMENTS", &requirements)
                .env("SANDBOX", sandbox)
                .env("CODEX_HOME", home.path())
                .env("STUB_KEY", "sk-stub")
                .env_remove("OPENAI_API_KEY")
                .output(),
        )
        .await
        .expect("codex finishes")
        .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{sandbox}: {text}");
        assert!(text.contains("sandbox: read-only"), "{sandbox}: {text}");
        let sandbox_refused = text.contains("invalid value for `sandbox_mode`")
            && text.contains("(set by /etc/codex/requirements.toml)");
        assert_eq!(sandbox_refused, forbidden, "{sandbox}: {text}");
        // `codex exec` asks for approval policy `never`, which the file does not allow either.
        assert!(
            text.contains("`Never` is not in the allowed set [UnlessTrusted, OnRequest]"),
            "{text}"
        );
        assert!(text.contains("config loaded"), "{text}");
    }
    assert!(
        std::fs::metadata("/etc/codex/requirements.toml").is_err()
            || !std::fs::read_to_string("/etc/codex/requirements.toml")
                .unwrap_or_default()
                .contains("allowed_sandbox_modes = [\"read-only\"]"),
        "the machine's /etc was left alone"
    );
}

/// A user's exported bundle, applied by its own `apply.sh`, is a Codex setup that works: the
/// real Codex sends its turn through the gateway with the minted token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_applied_export_bundle_runs_codex_through_the_gateway() {
    let Some(codex) = codex() else {
        return;
    };
    let Some((r, base_url, seen)) = stub_and_server().await else {
        return;
    };
    let (status, body) = r
        .admin_post(
            "/api/v1/providers",
            json!({"name": "up", "kind": "openai-compatible", "base_url": base_url, "wire_api": "responses",
                   "models": [{"name": "fleet-model", "upstream": "up-model"}], "api_key": "sk-upstream"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (cookie, csrf) = crate::testkit::sign_in(&r.srv, &r.admin, "erin").await;
    let res = r
        .srv
        .post("/api/v1/account/codex-config/export")
        .header("cookie", cookie)
        .header("x-csrf-token", csrf)
        .json(&json!({"mint_token": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let data = res.json::<Value>().await.unwrap()["data"].clone();
    let bundle = tempfile::tempdir().unwrap();
    for name in ["auth.json", "config.toml", "apply.sh", "apply.ps1"] {
        std::fs::write(
            bundle.path().join(name),
            data["files"][name].as_str().unwrap(),
        )
        .unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("bash")
        .arg(bundle.path().join("apply.sh"))
        .env("HOME", home.path())
        .env_remove("CODEX_HOME")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let work = tempfile::tempdir().unwrap();
    let out = codex_run(
        &codex,
        &home.path().join(".codex"),
        work.path(),
        &["exec", "--strict-config", "--skip-git-repo-check", "say hi"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("config loaded"), "{stdout}");
    assert_eq!(
        seen.lock().await.first().map(String::as_str),
        Some("up-model")
    );
}
