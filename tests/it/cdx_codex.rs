//! The Rust `cdx` in front of the real Codex CLI 0.169 (installed by scripts/test) and a local
//! Responses stub: one run syncs every artifact (auth.json, the fleet's config.toml naming the
//! stub provider and the server's MCP entry, AGENTS.md, a prompt, a skill), Codex answers, and
//! the usage Codex wrote to its rollout reaches the server with the stub's numbers; a second
//! run adds its own session's row and counts the first one once.
//!
//! Needs `target/debug/cdx` (`cargo build -p cdx`; scripts/test builds it).

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Value, json};

use crate::codex_cli::codex;
use crate::codex_config::{provider, stub_and_server};
use crate::idp_stub::chatgpt_document;

fn cdx_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("cdx"))
        .unwrap();
    assert!(
        bin.is_file(),
        "run `cargo build -p cdx` first: {} is missing",
        bin.display()
    );
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdx_runs_the_real_codex_cli() {
    let Some(codex) = codex() else {
        return;
    };
    let Some((r, base_url, seen)) = stub_and_server().await else {
        return;
    };
    let key = r.host_key("real-codex.example.com").await;
    let template = json!({"model": "stub-model", "model_provider": "stub",
                          "model_providers": [provider(&base_url)]});
    let b64 = base64::engine::general_purpose::STANDARD;
    for (path, body) in [
        ("/admin/config/store", json!({"settings": template})),
        (
            "/admin/auth/upload",
            json!({"auth": chatgpt_document(120, 5, "rt_real_AbCdEfGhIjKlMnOpQr")}),
        ),
        (
            "/admin/agents/store",
            json!({"content": "# Fleet\nAnswer briefly.\n"}),
        ),
        (
            "/admin/slash-commands/store",
            json!({"filename": "review.md", "prompt": "Review $1.\n"}),
        ),
        (
            "/admin/skills/store",
            json!({"slug": "deploy",
            "manifest": "---\nname: deploy\ndescription: Ship a release\n---\nRun it.\n",
            "files": [{"path": "run.sh", "content_base64": b64.encode("#!/bin/sh\n")}]}),
        ),
    ] {
        let (status, body) = r.admin_post(path, body).await;
        assert!((200..300).contains(&status), "{path}: {body}");
    }

    let dir = tempfile::tempdir().unwrap();
    let p = |rel: &str| dir.path().join(rel);
    std::fs::create_dir_all(p("config/cdx")).unwrap();
    std::fs::create_dir_all(p("work")).unwrap();
    std::fs::write(
        p("config/cdx/config.toml"),
        format!("base_url = \"{}\"\napi_key = \"{key}\"\n", r.srv.url),
    )
    .unwrap();
    let run = || {
        let mut c = tokio::process::Command::new(cdx_bin());
        c.args(["--execute", "--skip-git-repo-check", "say hi"])
            .current_dir(p("work"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", p("home"))
            .env("CODEX_HOME", p("home/.codex"))
            .env("XDG_CONFIG_HOME", p("config"))
            .env("XDG_STATE_HOME", p("state"))
            .env("CDX_SYSTEM_DIR", p("etc-codex"))
            .env("CDX_CODEX_BIN", &codex)
            .env("STUB_KEY", "sk-stub");
        async move {
            tokio::time::timeout(std::time::Duration::from_secs(120), c.output())
                .await
                .expect("cdx and Codex finish")
                .unwrap()
        }
    };
    let out = run().await;
    let log = format!(
        "{:?}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("config loaded"),
        "Codex answered with the stub's text: {log}"
    );
    assert!(!log.contains(&key), "the host key was printed: {log}");
    assert_eq!(
        seen.lock().await.first().map(String::as_str),
        Some("stub-model")
    );

    let home = p("home/.codex");
    assert!(home.join("auth.json").is_file());
    let config = std::fs::read_to_string(home.join("config.toml")).unwrap();
    assert!(
        config.contains("model_provider = \"stub\"") && config.contains("[mcp_servers.cdx]"),
        "{config}"
    );
    assert!(
        std::fs::read_to_string(home.join("AGENTS.md"))
            .unwrap()
            .contains("Answer briefly")
    );
    assert!(home.join("prompts/review.md").is_file());
    assert!(home.join("skills/deploy/SKILL.md").is_file());

    // The stub's usage (completed(): 120 in, 100 cached, 7 out, 2 reasoning) as one row.
    let rows = |body: &Value| -> Vec<Value> {
        body["data"]["usages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let (status, body) = r.admin_get("/admin/usage?limit=50").await;
    assert_eq!(status, 200, "{body}");
    let first = rows(&body);
    assert_eq!(first.len(), 1, "{body}\n{log}");
    assert_eq!(first[0]["input_tokens"], 120, "{}", first[0]);
    assert_eq!(first[0]["cached_tokens"], 100, "{}", first[0]);
    assert_eq!(first[0]["output_tokens"], 7, "{}", first[0]);
    assert_eq!(first[0]["reasoning_tokens"], 2, "{}", first[0]);

    let out = run().await;
    assert!(out.status.success());
    let (_, body) = r.admin_get("/admin/usage?limit=50").await;
    let both = rows(&body);
    assert_eq!(both.len(), 2, "one row per session: {body}");
    assert_ne!(both[0]["session_id"], both[1]["session_id"], "{body}");
}
