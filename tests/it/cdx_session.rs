//! What the Rust `cdx` does around a Codex session, against the real server: the fleet's
//! skills become folders under CODEX_HOME (scripts executable) and go when retired, leaving a
//! person's own skill alone; during a long session auth.json follows the server in the
//! background; an insecure host's auth.json is gone once Codex exits; the fleet's silent mode
//! quiets warnings that do not stop the run. Codex is a shell script standing in for it.
//!
//! Needs `target/debug/cdx` (`cargo build -p cdx`; scripts/test builds it).

use std::path::{Path, PathBuf};
use std::process::Output;

use base64::Engine;
use serde_json::json;

use crate::idp_stub::chatgpt_document;
use crate::testkit::{Backend, Ready, auth_on, register_host};

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

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A host: cdx's config, HOME/CODEX_HOME, and a Codex stand-in that sleeps `$FAKE_SLEEP`
/// seconds, then copies the auth.json it sees to `$HOME/seen.json` (or notes its absence).
struct Host {
    dir: tempfile::TempDir,
}

impl Host {
    fn new(base_url: &str, key: &str) -> Host {
        let h = Host {
            dir: tempfile::tempdir().unwrap(),
        };
        let cfg = h.path("config/cdx/config.toml");
        std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
        std::fs::write(
            &cfg,
            format!("base_url = \"{base_url}\"\napi_key = \"{key}\"\n"),
        )
        .unwrap();
        std::fs::create_dir_all(h.path("home/.codex")).unwrap();
        let codex = h.path("bin/codex");
        std::fs::create_dir_all(codex.parent().unwrap()).unwrap();
        std::fs::write(
            &codex,
            "#!/bin/sh\nsleep \"${FAKE_SLEEP:-0}\"\nif [ -f \"$CODEX_HOME/auth.json\" ]; then cp \"$CODEX_HOME/auth.json\" \"$HOME/seen.json\"; else echo none >\"$HOME/seen.json\"; fi\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&codex, std::fs::Permissions::from_mode(0o755)).unwrap();
        h
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(cdx_bin());
        c.args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", self.path("home"))
            .env("CODEX_HOME", self.path("home/.codex"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("CDX_SYSTEM_DIR", self.path("etc-codex"))
            .env("CDX_CODEX_BIN", self.path("bin/codex"));
        c
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().await.unwrap()
    }
}

const SKILL_MD: &str =
    "---\nname: deploy\ndescription: Ship a release\n---\nRun scripts/release.sh.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skills_and_auth_json_kept_fresh_during_a_session() {
    let r = Ready::start(Backend::Sqlite, auth_on()).await.unwrap();
    let key = r.host_key("session-1.example.com").await;
    let first = chatgpt_document(120, 30, "rt_first_AbCdEfGhIjKlMnOp");
    let (status, body) = r
        .admin_post("/admin/auth/upload", json!({"auth": first}))
        .await;
    assert_eq!(status, 200, "{body}");
    let b64 = base64::engine::general_purpose::STANDARD;
    let (status, body) = r
        .admin_post(
            "/admin/skills/store",
            json!({"slug": "deploy", "manifest": SKILL_MD,
                   "files": [{"path": "scripts/release.sh", "content_base64": b64.encode("#!/bin/sh\necho release\n")}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let policy = json!({"allowed_sandbox_modes": ["read-only"]});
    let (status, body) = r
        .admin_put("/api/v1/config/requirements", json!({"settings": policy}))
        .await;
    assert_eq!(status, 201, "{body}");
    let host = Host::new(&r.srv.url, &key);
    std::fs::create_dir_all(host.path("home/.codex/skills/mine")).unwrap();
    std::fs::write(
        host.path("home/.codex/skills/mine/SKILL.md"),
        "---\nname: mine\n---\n",
    )
    .unwrap();

    // A 3-second session syncing every second: a newer canonical copy uploaded meanwhile
    // reaches auth.json before Codex looks at it again.
    let child = host
        .command(&[])
        .env("FAKE_SLEEP", "3")
        .env("CDX_AUTH_SYNC_SECS", "1")
        .output();
    let upload = async {
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        let second = chatgpt_document(120, 0, "rt_second_QrStUvWxYz012345");
        let (status, body) = r
            .admin_post("/admin/auth/upload", json!({"auth": second}))
            .await;
        assert_eq!(status, 200, "{body}");
    };
    let (out, ()) = tokio::join!(child, upload);
    let out = out.unwrap();
    assert!(out.status.success(), "{}", text(&out));
    // The host never sees refresh tokens (the server keeps them): the copies differ in
    // `last_refresh`, 30 minutes ago for the first and now for the second.
    let seen: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(host.path("home/seen.json")).unwrap())
            .unwrap();
    let refreshed =
        chrono::DateTime::parse_from_rfc3339(seen["last_refresh"].as_str().unwrap()).unwrap();
    let age = chrono::Utc::now().signed_duration_since(refreshed);
    assert!(
        age < chrono::Duration::minutes(5),
        "Codex saw the second copy: {seen}"
    );
    for secret in [
        "rt_first_AbCdEfGhIjKlMnOp",
        "rt_second_QrStUvWxYz012345",
        key.as_str(),
    ] {
        assert!(
            !text(&out).contains(secret),
            "printed a secret: {}",
            text(&out)
        );
    }

    // As root, the fleet's enforced policy lands in Codex's system directory.
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n";
    let req = host.path("etc-codex/requirements.toml");
    if root {
        let text = std::fs::read_to_string(&req).unwrap();
        assert!(text.contains("read-only"), "{text}");
    } else {
        assert!(!req.exists(), "only root installs requirements.toml");
    }

    let skill = host.path("home/.codex/skills/deploy");
    assert_eq!(
        std::fs::read_to_string(skill.join("SKILL.md")).unwrap(),
        SKILL_MD
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(skill.join("scripts/release.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "scripts stay runnable");

    // Retired on the server: cdx's folder goes, the person's own skill stays.
    let res = r
        .srv
        .delete("/admin/skills/deploy")
        .bearer_auth(&r.admin)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let out = host.run(&[]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(!skill.exists(), "{}", text(&out));
    assert!(host.path("home/.codex/skills/mine/SKILL.md").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_hosts_keep_no_auth_json_and_silent_mode_quiets_warnings() {
    let r = Ready::start(Backend::Sqlite, auth_on()).await.unwrap();
    let (registered, key) = register_host(&r.srv, &r.admin, "session-2.example.com").await;
    let id = registered["host"]["id"].as_i64().unwrap();
    let doc = chatgpt_document(120, 5, "rt_insecure_AbCdEfGhIjKl");
    let (status, body) = r
        .admin_post("/admin/auth/upload", json!({"auth": doc}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = r
        .admin_post(
            &format!("/admin/hosts/{id}/secure"),
            json!({"secure": false}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = r
        .admin_post(
            &format!("/admin/hosts/{id}/insecure/enable"),
            json!({"duration_minutes": 10}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = r
        .admin_post(
            "/admin/config/store",
            json!({"settings": {"model": "gpt-5.1-codex"}}),
        )
        .await;
    assert!((200..300).contains(&status), "{body}");
    let host = Host::new(&r.srv.url, &key);
    // A config.toml cdx cannot merge into: a warning, not a stop.
    std::fs::write(host.path("home/.codex/config.toml"), "this is [not toml\n").unwrap();

    let out = host.run(&[]).await;
    assert!(out.status.success(), "{}", text(&out));
    let seen = std::fs::read_to_string(host.path("home/seen.json")).unwrap();
    assert!(
        seen.contains("last_refresh"),
        "Codex had auth.json while it ran: {seen} {}",
        text(&out)
    );
    assert!(
        !host.path("home/.codex/auth.json").exists(),
        "purged after the run"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning"),
        "{}",
        text(&out)
    );

    let (status, body) = r
        .admin_post("/admin/cdx-silent", json!({"silent": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    let out = host.run(&[]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("warning"),
        "{}",
        text(&out)
    );
    assert!(!host.path("home/.codex/auth.json").exists());
    let out = host.run(&["--verbose"]).await;
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning"),
        "--verbose shows it: {}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_edits_are_offered_to_the_fleet() {
    let r = Ready::start(Backend::Sqlite, auth_on()).await.unwrap();
    let key = r.host_key("session-3.example.com").await;
    let (status, body) = r
        .admin_post(
            "/admin/slash-commands/store",
            json!({"filename": "review.md", "prompt": "Review $1.\n"}),
        )
        .await;
    assert!((200..300).contains(&status), "{body}");
    let host = Host::new(&r.srv.url, &key);
    let prompt = host.path("home/.codex/prompts/review.md");
    let out = host.run(&[]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&prompt).unwrap(), "Review $1.\n");

    // Pushes on (the default): the edit becomes the fleet's prompt.
    std::fs::write(&prompt, "Review $1 carefully.\n").unwrap();
    let out = host.run(&["--verbose"]).await;
    assert!(
        text(&out).contains("offered to the fleet"),
        "{}",
        text(&out)
    );
    let (_, body) = r.admin_get("/admin/slash-commands/review.md").await;
    assert_eq!(
        body["data"]["command"]["prompt"], "Review $1 carefully.\n",
        "{body}"
    );

    // Under review: one proposal however often cdx runs; the local edit stays.
    let (status, body) = crate::testkit::json(
        r.srv
            .put("/api/v1/config/settings")
            .bearer_auth(&r.admin)
            .json(&json!({"host_content_push": "review"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    std::fs::write(&prompt, "Review $1 twice.\n").unwrap();
    for _ in 0..2 {
        let out = host.run(&[]).await;
        assert!(out.status.success(), "{}", text(&out));
    }
    let (_, body) = r.admin_get("/api/v1/config/proposals?state=pending").await;
    assert_eq!(
        body["data"]["proposals"].as_array().unwrap().len(),
        1,
        "{body}"
    );
    assert_eq!(
        std::fs::read_to_string(&prompt).unwrap(),
        "Review $1 twice.\n"
    );
    let (_, body) = r.admin_get("/admin/slash-commands/review.md").await;
    assert_eq!(
        body["data"]["command"]["prompt"], "Review $1 carefully.\n",
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kill_switch_stops_codex_and_lifting_it_lets_it_run() {
    let r = Ready::start(Backend::Sqlite, auth_on()).await.unwrap();
    let key = r.host_key("session-4.example.com").await;
    let host = Host::new(&r.srv.url, &key);
    let out = host.run(&[]).await;
    assert!(out.status.success(), "{}", text(&out));

    let (status, body) = r
        .admin_post("/admin/api/state", json!({"disabled": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    std::fs::remove_file(host.path("home/seen.json")).unwrap();
    let out = host.run(&[]).await;
    assert_eq!(out.status.code(), Some(79), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("disabled by an administrator"),
        "{}",
        text(&out)
    );
    assert!(!host.path("home/seen.json").exists(), "Codex did not start");

    let (status, body) = r
        .admin_post("/admin/api/state", json!({"disabled": false}))
        .await;
    assert_eq!(status, 200, "{body}");
    let out = host.run(&[]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(host.path("home/seen.json").exists());
}
