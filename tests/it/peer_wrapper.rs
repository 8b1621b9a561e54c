//! The peer's own wrapper (codex-orchestrator's bash `cdx`) against codex-central: one run
//! replayed by `tests/peer_cdx/replay.py` (its requests and its reading of the answers), with
//! a canonical auth.json, a published script, AGENTS.md, a prompt and a skill in place.

use serde_json::{Value, json};

use crate::fleet::document;
use crate::on_all_backends;
use crate::testkit::{Ready, auth_on, json};

const SCRIPT: &str = "#!/usr/bin/env bash\nWRAPPER_VERSION=\"2025.12.18-06\"\nBASE=__CODEX_SYNC_BASE_URL__\nKEY=__CODEX_SYNC_API_KEY__\nCA=\"__CODEX_SYNC_CA_FILE__\"\n";

async fn admin(r: &Ready, path: &str, body: Value) -> Value {
    let (status, body) = json(
        r.srv
            .post(path)
            .bearer_auth(&r.admin)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!((200..300).contains(&status), "{path}: {status} {body}");
    body
}

async fn one_run_of_the_peer_wrapper(r: Ready) {
    let (status, _) = json(
        r.srv
            .post("/admin/wrappers?version=2025.12.18-06&platform=script")
            .bearer_auth(&r.admin)
            .body(SCRIPT)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    let host = admin(
        &r,
        "/admin/hosts/register",
        json!({"fqdn": "peer-1.example.com"}),
    )
    .await;
    let key = host["data"]["host"]["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    admin(&r, "/admin/auth/upload", json!({"auth": document(5, "P")})).await;
    admin(
        &r,
        "/admin/agents/store",
        json!({"content": "# Fleet\nBe careful.\n"}),
    )
    .await;
    admin(
        &r,
        "/admin/config/store",
        json!({"settings": {"model": "gpt-5.1-codex", "approval_policy": "on-request"}}),
    )
    .await;
    admin(
        &r,
        "/admin/slash-commands/store",
        json!({"filename": "review.md", "prompt": "---\ndescription: Review\n---\nReview $1.\n"}),
    )
    .await;
    admin(
        &r,
        "/admin/skills/store",
        json!({"slug": "deploy", "manifest": "---\nname: deploy\ndescription: Ship it\n---\nRun it.\n"}),
    )
    .await;

    // The wrapper as installed: the script baked for this host.
    let home = tempfile::tempdir().unwrap();
    let wrapper = home.path().join("cdx");
    let baked = r
        .srv
        .get("/wrapper/download")
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(&wrapper, &baked).unwrap();

    let replay = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peer_cdx/replay.py");
    let out = tokio::process::Command::new("python3")
        .arg(&replay)
        .env("CDX_BASE", &r.srv.url)
        .env("CDX_KEY", &key)
        .env("CDX_WRAPPER", &wrapper)
        .env("HOME", home.path())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let steps: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let failed: Vec<&str> = steps
        .iter()
        .filter(|s| s["ok"] == false)
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert!(
        failed.is_empty(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let codex = home.path().join(".codex");
    assert!(codex.join("auth.json").exists(), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(codex.join("AGENTS.md")).unwrap(),
        "# Fleet\nBe careful.\n"
    );
    let config = std::fs::read_to_string(codex.join("config.toml")).unwrap();
    assert!(
        config.starts_with("model = \"gpt-5.1-codex\"\n"),
        "{config}"
    );
    assert!(config.contains(&format!("Bearer {key}")), "{config}");
    assert!(codex.join("prompts/review.md").exists());
    assert!(codex.join("skills/deploy").exists());
    // What the run pushed back became the fleet's (host_content_push is on by default).
    let (_, body) = json(
        r.srv
            .get("/admin/slash-commands/mine.md")
            .bearer_auth(&r.admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["command"]["description"], "Mine", "{body}");
}

on_all_backends!(ready(auth_on()) => one_run_of_the_peer_wrapper);
