//! cdx's whole life on a host, against the real server: the single-use installer (bash, in a
//! temp HOME) installs the cdx build the server publishes from `--wrapper-dir` after checking its
//! sha256, writes the config (0600) and installs Codex at the fleet's version through
//! `cdx --update` and npm (a recording stand-in); the installed cdx runs `--execute`;
//! `--update` refuses a download whose sha256 does not match the metadata, then installs a newly
//! published build; `--uninstall` deregisters the host and removes what cdx installed while a
//! person's own files stay. The host key is never printed.
//!
//! Needs `target/debug/cdx` (`cargo build -p cdx`; scripts/test builds it).

use std::path::{Path, PathBuf};
use std::process::Output;

use axum::Router;
use axum::routing::get;
use codex_central::config::Layer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::testkit::{Ready, auth_on, json as body_of};

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

fn platform() -> String {
    format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
}

fn executable(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A host's home: the installer's and cdx's environment, with `npm` and `codex` stand-ins first
/// on PATH (the real npm must never install anything from a test).
struct HostHome {
    dir: tempfile::TempDir,
}

impl HostHome {
    fn new() -> HostHome {
        let h = HostHome {
            dir: tempfile::tempdir().unwrap(),
        };
        // npm records its arguments and "installs" a codex that reports that version.
        executable(
            &h.path("fakebin/npm"),
            &format!(
                "#!/bin/sh\necho \"$@\" >>\"{log}\"\nv=\"${{3#@openai/codex@}}\"\nprintf '#!/bin/sh\\nif [ \"$1\" = --version ]; then echo \"codex-cli %s\"; exit 0; fi\\necho \"fake codex $*\"\\n' \"$v\" >\"{codex}\"\nchmod 755 \"{codex}\"\n",
                log = h.path("npm.log").display(),
                codex = h.path("fakebin/codex").display(),
            ),
        );
        h
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn command(&self, program: &Path) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(program);
        c.env_clear()
            .env(
                "PATH",
                format!(
                    "{}:/usr/local/bin:/usr/bin:/bin",
                    self.path("fakebin").display()
                ),
            )
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("CODEX_HOME", self.path("home/.codex"))
            .env("CDX_BIN_DIR", self.path("bin"))
            .env("CDX_SYSTEM_DIR", self.path("etc-codex"))
            .env("CDX_CONFIG_DIR", self.path("config/cdx"));
        c
    }

    async fn cdx(&self, args: &[&str]) -> Output {
        self.command(&self.path("bin/cdx"))
            .args(args)
            .output()
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installer_update_and_uninstall() {
    let wrappers = tempfile::tempdir().unwrap();
    // Published builds carry no debug info (a debug build is larger than the 64 MiB limit).
    let published = wrappers.path().join(format!("cdx-{}", platform()));
    let stripped = std::process::Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(&published)
        .arg(cdx_bin())
        .status()
        .unwrap();
    assert!(stripped.success());
    let build = std::fs::read(&published).unwrap();
    std::fs::write(wrappers.path().join("VERSION"), "9.9.0\n").unwrap();
    let opts = crate::testkit::Opts {
        layer: Layer {
            wrapper_dir: Some(wrappers.path().to_path_buf()),
            ..auth_on().layer
        },
    };
    let Some(r) = Ready::start(crate::testkit::Backend::Sqlite, opts).await else {
        return;
    };
    let (status, body) = r
        .admin_post("/admin/codex-version", json!({"selection": "0.169.0"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (registered, key) =
        crate::testkit::register_host(&r.srv, &r.admin, "life-1.example.com").await;
    let url = registered["installer"]["url"].as_str().unwrap().to_string();

    // Install: config, verified binary, Codex at the fleet's version through npm.
    let host = HostHome::new();
    let script = r
        .srv
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let out = host
        .command(Path::new("bash"))
        .arg("-c")
        .arg(&script)
        .output()
        .await
        .unwrap();
    let log = text(&out);
    assert!(out.status.success(), "installer: {log}");
    assert!(!log.contains(&key), "the host key was printed: {log}");
    assert!(log.contains("installed") && log.contains("done"), "{log}");
    assert_eq!(std::fs::read(host.path("bin/cdx")).unwrap(), build);
    let config = host.path("config/cdx/config.toml");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&config).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("secure = true"), "{written}");
    assert_eq!(
        std::fs::read_to_string(host.path("npm.log"))
            .unwrap()
            .trim(),
        "install -g @openai/codex@0.169.0"
    );

    // The installed cdx syncs and runs `codex exec` with the prompt.
    let out = host.cdx(&["--execute", "say hi"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("fake codex exec say hi"),
        "{}",
        text(&out)
    );
    let out = host.cdx(&["--update"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(said.contains("cdx is up to date (9.9.0)"), "{said}");
    assert!(
        said.contains("Codex is at the fleet's version (0.169.0)"),
        "{said}"
    );

    // The fleet moves to another Codex: each run says so once it knows, --update installs it.
    let (status, body) = r
        .admin_post("/admin/codex-version", json!({"selection": "0.170.0"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let out = host.cdx(&["--execute", "hi"]).await;
    assert!(
        text(&out).contains("Codex 0.169.0 is installed, the fleet runs 0.170.0"),
        "{}",
        text(&out)
    );
    let out = host.cdx(&["--update"]).await;
    assert!(
        text(&out).contains("Codex 0.169.0 -> 0.170.0"),
        "{}",
        text(&out)
    );
    let out = host.cdx(&["--execute", "hi"]).await;
    assert!(
        !text(&out).contains("is installed, the fleet runs"),
        "{}",
        text(&out)
    );

    // A download that does not match its metadata is refused; cdx stays as it was.
    let tampered = TamperedServer::start(&build).await;
    let bad_cfg = host.path("bad.toml");
    std::fs::write(
        &bad_cfg,
        format!("base_url = \"{}\"\napi_key = \"cdx_k\"\n", tampered.url),
    )
    .unwrap();
    let out = host
        .command(&host.path("bin/cdx"))
        .arg("--update")
        .env("CDX_CONFIG", &bad_cfg)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert!(text(&out).contains("checksum mismatch"), "{}", text(&out));
    assert_eq!(std::fs::read(host.path("bin/cdx")).unwrap(), build);

    // A newly published build (trailing bytes keep an ELF runnable) replaces cdx.
    let mut newer = build.clone();
    newer.extend_from_slice(b"\ncdx 9.9.1 build marker\n");
    let res = r
        .srv
        .post(&format!(
            "/admin/wrappers?version=9.9.1&platform={}",
            platform()
        ))
        .bearer_auth(&r.admin)
        .body(newer.clone())
        .send()
        .await
        .unwrap();
    let (status, body) = body_of(res).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let out = host.cdx(&["--update"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("-> 9.9.1"), "{}", text(&out));
    assert_eq!(std::fs::read(host.path("bin/cdx")).unwrap(), newer);

    // Uninstall: deregistered on the server, cdx's files gone, the person's own files kept.
    std::fs::create_dir_all(host.path("home/.codex")).unwrap();
    std::fs::write(host.path("home/.codex/mine.md"), "my notes").unwrap();
    let out = host.cdx(&["--uninstall"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("deregistered"), "{}", text(&out));
    assert!(!host.path("bin/cdx").exists());
    assert!(!config.exists());
    assert!(!host.path("home/.codex/auth.json").exists());
    assert!(!host.path("state/cdx/state.json").exists());
    assert!(host.path("home/.codex/mine.md").is_file());
    let res = r
        .srv
        .post("/auth")
        .header("x-api-key", &key)
        .json(&json!({"command": "retrieve", "last_refresh": "2026-01-01T00:00:00Z", "digest": "0".repeat(64)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "the key no longer works after uninstall");
}

/// A server whose metadata names one sha256 and whose download is other bytes (as a tampering
/// proxy or a corrupted mirror would send).
struct TamperedServer {
    url: String,
}

impl TamperedServer {
    async fn start(real: &[u8]) -> TamperedServer {
        let mut genuine = real.to_vec();
        genuine.extend_from_slice(b"genuine");
        let claimed = hex::encode(Sha256::digest(&genuine));
        let mut served = real.to_vec();
        served.extend_from_slice(b"tampered");
        let meta: Value = json!({"status": "ok", "data": {"version": "9.9.9", "kind": "binary",
            "platform": platform(), "sha256": claimed, "size_bytes": real.len()}});
        let header = claimed.clone();
        let app = Router::new()
            .route("/wrapper", get(move || async move { axum::Json(meta) }))
            .route(
                "/wrapper/download",
                get(move || async move { ([("x-sha256", header)], served) }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        TamperedServer { url }
    }
}

/// A host on the peer's bash wrapper moves to cdx as docs/compatibility.md says: its key is
/// rotated, the new installer replaces the wrapper, and the host keeps its id and its usage;
/// the old key stops working and the rows the bash wrapper reported are not counted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_moves_from_the_bash_wrapper() {
    let wrappers = tempfile::tempdir().unwrap();
    let published = wrappers.path().join(format!("cdx-{}", platform()));
    let stripped = std::process::Command::new("strip")
        .args(["--strip-debug", "-o"])
        .arg(&published)
        .arg(cdx_bin())
        .status()
        .unwrap();
    assert!(stripped.success());
    let opts = crate::testkit::Opts {
        layer: Layer {
            wrapper_dir: Some(wrappers.path().to_path_buf()),
            ..auth_on().layer
        },
    };
    let Some(r) = Ready::start(crate::testkit::Backend::Sqlite, opts).await else {
        return;
    };
    let (status, body) = r
        .admin_post("/admin/codex-version", json!({"selection": "0.169.0"}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (registered, old_key) =
        crate::testkit::register_host(&r.srv, &r.admin, "legacy-1.example.com").await;
    let id = registered["host"]["id"].as_i64().unwrap();
    // What the bash wrapper sends on a run: retrieve with its version, then its printed summary.
    let (status, body) = r
        .host_post(
            &old_key,
            "/auth",
            json!({"command": "retrieve", "last_refresh": "2026-01-01T00:00:00Z",
                   "digest": "0".repeat(64), "wrapper_version": "2025.12.18-06"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = r
        .host_post(
            &old_key,
            "/usage",
            json!({"line": "Token usage: total=1,234 input=1,000 (+ 200 cached) output=234 (reasoning 34)"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, rotated) = r
        .admin_post(&format!("/admin/hosts/{id}/rotate"), json!({}))
        .await;
    assert_eq!(status, 200, "{rotated}");
    let url = rotated["data"]["installer"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let host = HostHome::new();
    let script = r
        .srv
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let out = host
        .command(Path::new("bash"))
        .arg("-c")
        .arg(&script)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "installer: {}", text(&out));
    let out = host.cdx(&["--execute", "hi"]).await;
    assert!(out.status.success(), "{}", text(&out));

    // Host activity (versions, call counts) reaches the store every 5 seconds.
    let mut body = Value::Null;
    for _ in 0..40 {
        body = r.admin_get("/admin/hosts").await.1;
        let version = body["data"]["hosts"][0]["wrapper_version"]
            .as_str()
            .unwrap_or_default();
        if version.starts_with("cdx-") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let hosts = body["data"]["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 1, "{body}");
    assert_eq!(hosts[0]["id"].as_i64(), Some(id));
    let version = hosts[0]["wrapper_version"].as_str().unwrap_or_default();
    assert!(version.starts_with("cdx-"), "{body}");
    let (_, body) = r.admin_get("/admin/usage?limit=50").await;
    let rows = body["data"]["usages"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "the bash wrapper's row, once: {body}");
    assert_eq!(rows[0]["total"], 1234);
    let (status, _) = r
        .host_post(
            &old_key,
            "/auth",
            json!({"command": "retrieve", "last_refresh": "2026-01-01T00:00:00Z", "digest": "0".repeat(64)}),
        )
        .await;
    assert_eq!(status, 401, "the bash wrapper's key no longer works");
}
