//! Wrapper distribution, the fleet's Codex version and host usage reports, over real HTTP on
//! every backend.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use codex_central::config::Layer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::on_all_backends;
use crate::testkit::{Backend, Opts, admin_token, json, register_host, spawn};

const TEMPLATE: &str = "#!/usr/bin/env bash\n# cdx __WRAPPER_VERSION__\nBASE=__CODEX_SYNC_BASE_URL__\nKEY=__CODEX_SYNC_API_KEY__\nFQDN=__CODEX_SYNC_FQDN__\nIPV4=__CODEX_FORCE_IPV4__\nSILENT=__CODEX_SILENT__\nID=__CODEX_INSTALLATION_ID__\n";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn opts(layer: Layer) -> Opts {
    Opts {
        layer: Layer {
            auth_mode: Some(codex_central::config::AuthMode::On),
            ..layer
        },
    }
}

fn wrapper_dir(dir: &Path, binary: &[u8]) {
    std::fs::write(dir.join("cdx.sh"), TEMPLATE).unwrap();
    std::fs::write(dir.join(format!("cdx-{}", this_platform())), binary).unwrap();
    std::fs::write(dir.join("VERSION"), "1.2.3\n").unwrap();
}

fn this_platform() -> String {
    format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
}

async fn wrapper_distribution(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let binary = b"\x7fELF pretend cdx binary".to_vec();
    wrapper_dir(dir.path(), &binary);
    let ca = rcgen::generate_simple_self_signed(vec!["ca.example.com".to_string()])
        .unwrap()
        .cert
        .pem();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca).unwrap();
    let Some(srv) = spawn(
        backend,
        opts(Layer {
            wrapper_dir: Some(dir.path().to_path_buf()),
            host_ca_file: Some(ca_file),
            ..Default::default()
        }),
    )
    .await
    else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register_host(&srv, &admin, "build-1.example.com").await;

    // Host routes need the host key.
    let (status, _) = json(srv.get("/wrapper").send().await.unwrap()).await;
    assert_eq!(status, 401);

    // The legacy script is baked for the host; its metadata sha256 is of the baked bytes.
    let (status, meta) = json(
        srv.get("/wrapper")
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{meta}");
    assert_eq!(meta["data"]["version"], "1.2.3");
    assert_eq!(meta["data"]["kind"], "script");
    assert_eq!(meta["data"]["url"], "/wrapper/download");
    let res = srv
        .get("/wrapper/download")
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    let body = res.bytes().await.unwrap();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(text.contains(&format!("KEY={key}")), "{text}");
    assert!(text.contains("FQDN=build-1.example.com"));
    assert!(text.contains(&format!("BASE={}", srv.url)));
    assert!(text.contains("# cdx 1.2.3"));
    assert!(
        !text.contains("__CODEX"),
        "every placeholder is baked: {text}"
    );
    assert_eq!(headers["x-sha256"], sha(&body).as_str());
    assert_eq!(meta["data"]["sha256"], sha(&body).as_str());
    assert_eq!(meta["data"]["size_bytes"], body.len());
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/x-shellscript")
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["etag"], format!("\"{}\"", sha(&body)).as_str());
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("cdx-1.2.3.sh")
    );
    let res = srv
        .get("/wrapper/download")
        .header("x-api-key", &key)
        .header("if-none-match", format!("\"{}\"", sha(&body)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);

    // A platform with a build gets the binary as is; one without gets the script.
    let (os, arch) = this_platform()
        .split_once('-')
        .map(|(o, a)| (o.to_string(), a.to_string()))
        .unwrap();
    let res = srv
        .get(&format!("/wrapper/download?os={os}&arch={arch}"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert_eq!(res.headers()["x-sha256"], sha(&binary).as_str());
    assert_eq!(res.bytes().await.unwrap().as_ref(), binary.as_slice());
    let res = srv
        .get("/wrapper/download?platform=plan9-mips")
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/x-shellscript")
    );

    // The installer link installs the wrapper for this platform, verifying its sha256.
    let (registered, _) = register_host(&srv, &admin, "build-2.example.com").await;
    let url = registered["installer_url"]
        .as_str()
        .or_else(|| registered["installer"]["url"].as_str())
        .unwrap_or_else(|| panic!("installer url in {registered}"))
        .to_string();
    let home = tempfile::tempdir().unwrap();
    let script = srv
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let out = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env("CDX_BIN_DIR", home.path().join("bin"))
        // As root the installer would write /etc/cdx: keep it in the test's home.
        .env("CDX_CONFIG_DIR", home.path().join(".config/cdx"))
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "installer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(home.path().join("bin/cdx")).unwrap(), binary);
    // The optional CA is written beside the config and named in it.
    let config_dir = home.path().join(".config/cdx");
    assert_eq!(
        std::fs::read_to_string(config_dir.join("ca.pem"))
            .unwrap()
            .trim(),
        ca.trim()
    );
    let config = std::fs::read_to_string(config_dir.join("config.toml")).unwrap();
    assert!(config.contains("ca_file = "), "{config}");
    assert!(
        config.contains("fqdn = \"build-2.example.com\""),
        "{config}"
    );

    // Admins publish releases (larger than the REST body limit; LONGBLOB on MySQL) that take
    // precedence over the directory, and delete them again.
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let publish = |sha256: String| {
        srv.post(&format!(
            "/admin/wrappers?version=2.0.0&platform={}",
            this_platform()
        ))
        .bearer_auth(&admin)
        .header("x-sha256", sha256)
        .body(big.clone())
    };
    let (status, body) = json(publish("0".repeat(64)).send().await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["sha256"].is_array(), "{body}");
    let (status, body) = json(publish(sha(&big)).send().await.unwrap()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["release"]["size_bytes"], big.len());
    let res = srv
        .get(&format!("/wrapper/download?platform={}", this_platform()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-wrapper-version"], "2.0.0");
    assert_eq!(res.bytes().await.unwrap().as_ref(), big.as_slice());
    let (status, body) = json(
        srv.get("/admin/wrappers")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["releases"].as_array().unwrap().len(),
        3,
        "{body}"
    );
    let (status, _) = json(
        srv.post("/admin/wrappers?version=../x&platform=linux-x86_64")
            .bearer_auth(&admin)
            .body("x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = json(
        srv.post("/admin/wrappers?version=1&platform=linux-x86_64")
            .bearer_auth(&key)
            .body("x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "a host key is no admin credential");
    let del = |platform: String, version: &str| {
        srv.delete(&format!("/admin/wrappers/{platform}/{version}"))
            .bearer_auth(&admin)
    };
    let (status, _) = json(del(this_platform(), "2.0.0").send().await.unwrap()).await;
    assert_eq!(status, 200);
    let (status, _) = json(del(this_platform(), "2.0.0").send().await.unwrap()).await;
    assert_eq!(status, 404);
    let (status, body) = json(del(this_platform(), "1.2.3").send().await.unwrap()).await;
    assert_eq!(status, 409, "directory releases are not deletable: {body}");

    // /versions advertises the script release.
    let (_, versions) = json(srv.get("/versions").send().await.unwrap()).await;
    assert_eq!(versions["data"]["wrapper_version"], "1.2.3");
    assert_eq!(
        versions["data"]["wrapper_sha256"],
        sha(TEMPLATE.as_bytes()).as_str()
    );
}

on_all_backends!(wrapper_distribution);

/// What the peer's own bash wrapper checks on every run: `versions.wrapper_sha256` is the
/// digest of the script `/wrapper/download` serves that host (baked with its key), and
/// `chatgpt_usage` is an object with whole numbers even before any quota was seen.
async fn the_peer_wrapper_checks_hold(backend: Backend) {
    let Some(srv) = spawn(backend, opts(Layer::default())).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let script =
        format!("WRAPPER_VERSION=\"2025.12.18-06\"\n{TEMPLATE}MODEL=__CODEX_HOST_MODEL__\n");
    let publish = |version: &str| {
        srv.post(&format!(
            "/admin/wrappers?version={version}&platform=script"
        ))
        .bearer_auth(&admin)
        .body(script.clone())
    };
    // The script names its version; publishing it under another would loop the update check.
    let (status, body) = json(publish("9.9.9").send().await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["version"].is_array(), "{body}");
    let (status, body) = json(publish("2025.12.18-06").send().await.unwrap()).await;
    assert_eq!(status, 201, "{body}");

    let (one, key_one) = register_host(&srv, &admin, "peer-1.example.com").await;
    let (_, key_two) = register_host(&srv, &admin, "peer-2.example.com").await;
    let sync = |key: String| {
        srv.post("/auth").header("x-api-key", key).json(&json!({
            "command": "retrieve",
            "digest": "0".repeat(64),
            "last_refresh": "2000-01-01T00:00:00Z",
            "client_version": "0.169.0",
            "wrapper_version": "2025.12.18-06",
        }))
    };
    let served = async |key: &str| {
        let res = srv
            .get("/wrapper/download")
            .header("x-api-key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        sha(&res.bytes().await.unwrap())
    };
    let mut seen = Vec::new();
    for key in [&key_one, &key_two] {
        let (status, body) = json(sync(key.clone()).send().await.unwrap()).await;
        assert_eq!(status, 200, "{body}");
        let data = &body["data"];
        assert_eq!(data["versions"]["wrapper_version"], "2025.12.18-06");
        assert_eq!(
            data["versions"]["wrapper_sha256"],
            served(key).await.as_str(),
            "the digest of this host's baked script"
        );
        let usage = &data["chatgpt_usage"];
        assert_eq!(usage["status"], "unavailable", "{usage}");
        for window in ["primary_window", "secondary_window"] {
            for field in ["used_percent", "limit_seconds", "reset_after_seconds"] {
                assert!(usage[window][field].is_i64(), "{window}.{field} in {usage}");
            }
        }
        assert_eq!(usage["rate_limit_reached"], false);
        seen.push(data["versions"]["wrapper_sha256"].clone());
    }
    assert_ne!(seen[0], seen[1], "each host's script carries its own key");

    // A changed host setting changes the baked bytes, and the digest with them.
    let id = one["host"]["id"].clone();
    let (status, body) = json(
        srv.post(&format!("/admin/hosts/{id}/model"))
            .bearer_auth(&admin)
            .json(&json!({"model_override": "gpt-5.1-codex"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut last = Value::Null;
    for _ in 0..50 {
        let (_, body) = json(sync(key_one.clone()).send().await.unwrap()).await;
        last = body["data"]["versions"]["wrapper_sha256"].clone();
        if last != seen[0] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(last, served(&key_one).await.as_str());
    assert_ne!(last, seen[0]);

    // The overview shows the same object shape.
    let (_, overview) = json(
        srv.get("/admin/overview")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(overview["data"]["chatgpt_usage"]["status"], "unavailable");
}

on_all_backends!(the_peer_wrapper_checks_hold);

/// Without any artifact the routes answer 404 `Wrapper not available`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_wrapper_is_a_404() {
    let Some(srv) = spawn(Backend::Sqlite, opts(Layer::default())).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register_host(&srv, &admin, "h.example.com").await;
    for path in ["/wrapper", "/wrapper/download"] {
        let (status, body) = json(
            srv.get(path)
                .header("x-api-key", &key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["message"], "Wrapper not available");
    }
}

/// A GitHub-release-shaped source on loopback, counting requests.
async fn release_source(tag: &'static str) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/releases/latest",
        axum::routing::get(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                axum::Json(json!({"tag_name": tag, "name": "codex"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/releases/latest", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, hits)
}

async fn wait_for(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

async fn codex_version_policy(backend: Backend) {
    let (url, hits) = release_source("rust-v0.169.0").await;
    let Some(srv) = spawn(
        backend,
        opts(Layer {
            codex_release_url: Some(url),
            ..Default::default()
        }),
    )
    .await
    else {
        return;
    };
    let admin = admin_token(&srv).await;
    let versions = async || json(srv.get("/versions").send().await.unwrap()).await.1;

    // The background job reads the source; /versions reflects it within the cache second.
    assert!(
        wait_for(async || versions().await["data"]["client_version"] == "0.169.0").await,
        "{}",
        versions().await
    );
    let v = versions().await;
    assert_eq!(v["data"]["client_version_source"], "cache");
    assert!(v["data"]["client_version_checked_at"].is_string());
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "checked once, not per request"
    );

    // An admin check asks the job to look again (no outbound call on the request).
    let (status, body) = json(
        srv.post("/admin/versions/check")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["available_client"]["version"], "0.169.0");
    assert!(wait_for(async || hits.load(Ordering::SeqCst) == 2).await);
    let (status, _) = json(srv.post("/admin/versions/check").send().await.unwrap()).await;
    assert_eq!(status, 401);

    // Pinning wins over the latest release; "latest" follows it again.
    let pin = async |selection: Value| {
        json(
            srv.post("/admin/codex-version")
                .bearer_auth(&admin)
                .json(&json!({ "selection": selection }))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let (status, body) = pin(json!("rust-v0.170.1")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["locked_version"], "0.170.1");
    assert!(wait_for(async || versions().await["data"]["client_version"] == "0.170.1").await);
    assert_eq!(versions().await["data"]["client_version_source"], "locked");
    let (status, body) = pin(json!("newest please")).await;
    assert_eq!(status, 422);
    assert!(body["errors"]["selection"].is_array(), "{body}");
    let (status, _) = pin(json!(17)).await;
    assert_eq!(status, 422);
    let (status, body) = pin(json!("latest")).await;
    assert_eq!(status, 200);
    assert!(body["data"]["locked_version"].is_null());
    assert!(wait_for(async || versions().await["data"]["client_version"] == "0.169.0").await);

    // Both changes are audited.
    let (_, logs) = json(
        srv.get("/admin/logs?limit=50")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let pins = logs["data"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["action"] == "fleet.codex_version.set")
        .count();
    assert_eq!(pins, 2, "{logs}");
}

on_all_backends!(codex_version_policy);

async fn usage_reports(backend: Backend) {
    let Some(srv) = spawn(backend, opts(Layer::default())).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register_host(&srv, &admin, "u.example.com").await;
    let report = |body: &str| {
        srv.post("/usage")
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body(body.to_string())
    };
    let (status, body) = json(report("{}").send().await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["line"].is_array(), "{body}");
    let (status, _) = json(report("{not json").send().await.unwrap()).await;
    assert_eq!(status, 400);
    let (status, _) = json(
        srv.post("/usage")
            .json(&json!({"total": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);

    let line = "\u{1b}[1mToken usage: total=1,234 input=1,000 (+ 200 cached) output=234 (reasoning 100)\u{1b}[0m";
    let (status, body) = json(
        report(&json!({"line": line, "model": "gpt-5"}).to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    assert_eq!(d["recorded"], true);
    assert_eq!(d["total"], 1234);
    assert_eq!(d["cached"], 200);
    assert_eq!(d["reasoning"], 100);
    assert_eq!(d["model"], "gpt-5");
    assert!(d["line"].as_str().unwrap().starts_with("Token usage:"));
    assert!(d["ingest_id"].is_string());

    // A batch stores the good rows and reports the bad ones by index.
    let (status, body) = json(
        report(r#"{"usages":[{"total":"12_000","input":"10,000"},{"total":-5},{"output":7}]}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["recorded_count"], 2);
    assert_eq!(body["data"]["usages"][0]["total"], 12000);
    assert_eq!(body["data"]["errors"][0]["index"], 1);
    let (status, body) = json(
        report(r#"{"usages":[{"model":"x"}]}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = json(
        report(r#"{"usages":[{"total":1},{"model":"x"}]}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = json(
        report(r#"{"usages":[{"model":"x"},{"model":"y"}]}"#)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["usages.0.line"].is_array(), "{body}");
}

on_all_backends!(usage_reports);
