//! The Rust `cdx` wrapper (clients/cdx) against the real server: a run writes the canonical
//! auth.json (0600) and merges the fleet's config.toml into the person's own, passes Codex's
//! exit code through, reports the rollout's usage once however often it runs, continues
//! offline within the cache window with a warning and refuses beyond it, and never prints a
//! token or the host key. Codex is a small shell script standing in for it (`CDX_CODEX_BIN`).
//!
//! The binary is not built here: `cargo build -p cdx` first (scripts/test does).

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::Utc;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::idp_stub::chatgpt_document;
use crate::testkit::{Backend, Ready, auth_on};

const SESSION: &str = "01a2098d-ac7f-7b32-bfac-0cf0b7117a1c";
const REFRESH_TOKEN: &str = "rt_cdx_AbCdEfGhIjKlMnOpQrStUv";

/// `target/debug/cdx`, beside the directory of this test executable (`target/debug/deps`).
fn cdx_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join(format!("cdx{}", std::env::consts::EXE_SUFFIX)))
        .unwrap();
    assert!(
        bin.is_file(),
        "the cdx binary is missing at {}: run `cargo build -p cdx` before this test",
        bin.display()
    );
    bin
}

/// A scratch host: HOME, CODEX_HOME, XDG dirs, cdx's config and the fake Codex.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new(base_url: &str, key: &str) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let s = Scratch { dir };
        std::fs::create_dir_all(s.codex_home()).unwrap();
        let cfg = s.path("config/cdx/config.toml");
        std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
        std::fs::write(
            &cfg,
            format!(
                "base_url = \"{base_url}\"\napi_key = \"{key}\"\nfqdn = \"cdx-1.example.com\"\n"
            ),
        )
        .unwrap();
        let now = Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let meta = json!({"timestamp": now.to_string(), "ordinal": 0, "type": "session_meta",
            "payload": {"session_id": SESSION, "id": SESSION, "cwd": "/home/user/project",
                        "originator": "codex_exec", "cli_version": "0.169.0", "model_provider": "stub",
                        "base_instructions": {"text": "<elided>"}}});
        let count = json!({"timestamp": now.to_string(), "ordinal": 13, "type": "event_msg",
            "payload": {"type": "token_count", "info": {
                "total_token_usage": {"input_tokens": 123, "cached_input_tokens": 100, "cache_write_input_tokens": 0,
                                      "output_tokens": 7, "reasoning_output_tokens": 2, "total_tokens": 130},
                "last_token_usage": {"input_tokens": 123, "cached_input_tokens": 100, "cache_write_input_tokens": 0,
                                     "output_tokens": 7, "reasoning_output_tokens": 2, "total_tokens": 130},
                "last_usage_includes_reasoning": false, "model_context_window": 258400},
              "rate_limits": {"limit_id": "codex", "limit_name": null, "primary": null, "secondary": null,
                              "credits": null, "individual_limit": null, "spend_control_reached": null,
                              "plan_type": null, "rate_limit_reached_type": null}}});
        let script = format!(
            "#!/bin/sh\nd=\"$CODEX_HOME/sessions/2026/11/23\"\nmkdir -p \"$d\"\ncat >\"$d/rollout-2026-11-23T17-56-49-{SESSION}.jsonl\" <<'ROLLOUT'\n{meta}\n{count}\nROLLOUT\necho \"fake codex $*\"\nexit 3\n"
        );
        let fake = s.path("bin/codex");
        std::fs::create_dir_all(fake.parent().unwrap()).unwrap();
        std::fs::write(&fake, script).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        s
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn codex_home(&self) -> PathBuf {
        self.path("home/.codex")
    }

    fn state_file(&self) -> PathBuf {
        self.path("state/cdx/state.json")
    }

    async fn run(&self, args: &[&str]) -> Output {
        tokio::process::Command::new(cdx_bin())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("CODEX_HOME", self.codex_home())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("CDX_SYSTEM_DIR", self.path("etc-codex"))
            .env("CDX_CODEX_BIN", self.path("bin/codex"))
            .output()
            .await
            .unwrap()
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// This host's usage rows as the admin sees them.
async fn usage_rows(r: &Ready) -> Vec<Value> {
    let (status, body) = r.admin_get("/admin/usage?limit=50").await;
    assert_eq!(status, 200, "{body}");
    body["data"]["usages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["session_id"] == SESSION)
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdx_syncs_runs_codex_reports_usage_and_goes_offline() {
    let r = Ready::start(Backend::Sqlite, auth_on()).await.unwrap();
    let key = r.host_key("cdx-1.example.com").await;
    let doc = chatgpt_document(120, 5, REFRESH_TOKEN);
    let (status, body) = r
        .admin_post("/admin/auth/upload", json!({ "auth": doc }))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = r
        .admin_post(
            "/admin/config/store",
            json!({"settings": {"model": "gpt-5.1-codex", "approval_policy": "on-request"}}),
        )
        .await;
    assert!((200..300).contains(&status), "{body}");
    for (path, body) in [
        (
            "/admin/agents/store",
            json!({"content": "# Fleet\nBe careful.\n"}),
        ),
        (
            "/admin/slash-commands/store",
            json!({"filename": "review.md", "prompt": "---\ndescription: Review\n---\nReview $1.\n"}),
        ),
    ] {
        let (status, body) = r.admin_post(path, body).await;
        assert!((200..300).contains(&status), "{path}: {body}");
    }
    let uploaded: Value = serde_json::from_str(&doc).unwrap();
    let secrets = [
        key.clone(),
        REFRESH_TOKEN.to_string(),
        uploaded["tokens"]["access_token"]
            .as_str()
            .unwrap()
            .to_string(),
        uploaded["tokens"]["id_token"].as_str().unwrap().to_string(),
    ];
    let host = Scratch::new(&r.srv.url, &key);
    // The person's own config: their section and comment must survive the fleet's merge.
    std::fs::write(
        host.codex_home().join("config.toml"),
        "# mine\n[mcp_servers.mine]\ncommand = \"my-server\"\n",
    )
    .unwrap();

    let first = host.run(&["--verbose", "exec", "hi"]).await;
    assert_eq!(first.status.code(), Some(3), "{}", text(&first));
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("fake codex exec hi"),
        "{}",
        text(&first)
    );

    // auth.json: the document the server gives this host, byte for byte, mode 0600.
    let auth_path = host.codex_home().join("auth.json");
    let written = std::fs::read_to_string(&auth_path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&auth_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let (status, body) = r
        .host_post(
            &key,
            "/auth",
            json!({"command": "retrieve", "last_refresh": "2000-01-01T00:00:00Z", "digest": "0".repeat(64)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let canonical = &body["data"];
    let parsed: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(parsed, canonical["auth"]);
    assert_eq!(
        hex::encode(Sha256::digest(written.as_bytes())),
        canonical["canonical_digest"].as_str().unwrap(),
        "the file's digest is the canonical digest"
    );
    assert_eq!(
        parsed["tokens"]["access_token"],
        uploaded["tokens"]["access_token"]
    );

    // config.toml: the fleet's keys merged in, the person's section and comment kept.
    let config = std::fs::read_to_string(host.codex_home().join("config.toml")).unwrap();
    assert!(
        config.contains("# mine") && config.contains("[mcp_servers.mine]"),
        "{config}"
    );
    assert!(
        config.contains("gpt-5.1-codex") && config.contains("[mcp_servers.cdx]"),
        "{config}"
    );

    // AGENTS.md and the prompt, as the fleet has them.
    assert_eq!(
        std::fs::read_to_string(host.codex_home().join("AGENTS.md")).unwrap(),
        "# Fleet\nBe careful.\n"
    );
    assert!(
        std::fs::read_to_string(host.codex_home().join("prompts/review.md"))
            .unwrap()
            .contains("Review $1.")
    );

    // Usage: one row with the rollout's numbers.
    let rows = usage_rows(&r).await;
    assert_eq!(rows.len(), 1, "{rows:?}\n{}", text(&first));
    let row = &rows[0];
    assert_eq!(row["input_tokens"], 123, "{row}");
    assert_eq!(row["cached_tokens"], 100, "{row}");
    assert_eq!(row["output_tokens"], 7, "{row}");
    assert_eq!(row["reasoning_tokens"], 2, "{row}");
    assert_eq!(row["total"], 130, "{row}");

    // Again: the same rollout is reported again and not counted twice.
    let second = host.run(&["exec", "hi"]).await;
    assert_eq!(second.status.code(), Some(3), "{}", text(&second));
    assert_eq!(usage_rows(&r).await.len(), 1);
    // Its auth.json matched the canonical digest: no upload, no rewrite.
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(host.state_file()).unwrap()).unwrap();
    assert_eq!(state["last_outcome"], "auth valid", "{state}");
    assert_eq!(std::fs::read_to_string(&auth_path).unwrap(), written);

    let status_out = host.run(&["status"]).await;
    assert_eq!(status_out.status.code(), Some(0), "{}", text(&status_out));
    assert!(String::from_utf8_lossy(&status_out.stdout).contains("secure"));

    // The server goes away: within the window Codex still runs, with one warning line.
    let Ready { srv, admin: _ } = r;
    srv.stop().await;
    let offline = host.run(&["--verbose", "exec", "hi"]).await;
    assert_eq!(offline.status.code(), Some(3), "{}", text(&offline));
    let stderr = String::from_utf8_lossy(&offline.stderr).to_string();
    assert!(
        stderr.contains("warning") && stderr.contains("cached auth.json"),
        "{}",
        text(&offline)
    );

    // Beyond the window (the last sync 8 days ago): refused, Codex not started.
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(host.state_file()).unwrap()).unwrap();
    state["last_sync"] = json!((Utc::now() - chrono::Duration::days(8)).to_rfc3339());
    std::fs::write(host.state_file(), state.to_string()).unwrap();
    let refused = host.run(&["exec", "hi"]).await;
    assert_eq!(refused.status.code(), Some(69), "{}", text(&refused));
    assert!(
        !String::from_utf8_lossy(&refused.stdout).contains("fake codex"),
        "{}",
        text(&refused)
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("offline window"),
        "{}",
        text(&refused)
    );

    // Never a token or the host key on the terminal.
    for out in [&first, &second, &status_out, &offline, &refused] {
        let all = text(out);
        for s in &secrets {
            assert!(!all.contains(s.as_str()), "a secret was printed:\n{all}");
        }
    }
}
