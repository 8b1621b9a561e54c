//! The real `codex-central` binary: serve, admin, migrate, healthcheck, keys rotate, logs.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use codex_central_common::crypto::{Keyring, load_keyring_file};
use codex_central_store::{Store, settings};

const BIN: &str = env!("CARGO_BIN_EXE_codex-central");

fn cmd(data_dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("RUST_LOG")
        .env_remove("CODEX_CENTRAL_MASTER_KEY")
        .env_remove("CODEX_CENTRAL_DATABASE_URL")
        .env("CODEX_CENTRAL_DATA_DIR", data_dir);
    c
}

fn run(c: &mut Command) -> Output {
    c.stdin(Stdio::null()).output().expect("run codex-central")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Served {
    child: Child,
    port: u16,
    ready_after: Duration,
    /// Drains stderr while the server runs (a full pipe would block its logging).
    log: std::thread::JoinHandle<String>,
}

fn serve(c: &mut Command) -> Served {
    serve_with(c, &[])
}

fn serve_with(c: &mut Command, extra: &[&str]) -> Served {
    let port = free_port();
    let started = Instant::now();
    let child = c
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let mut child = child;
    let mut pipe = child.stderr.take().expect("stderr");
    let log = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    });
    let deadline = started + Duration::from_secs(30);
    loop {
        if let Ok(200) = reqwest::blocking_get(&format!("http://127.0.0.1:{port}/readyz")) {
            return Served {
                child,
                port,
                ready_after: started.elapsed(),
                log,
            };
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop(mut s: Served) -> (i32, String) {
    let pid = s.child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "no graceful exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = s.log.join().unwrap();
    (status.code().unwrap_or(-1), err)
}

/// Tiny blocking HTTP GET for polling from sync code without a runtime.
mod reqwest {
    pub fn blocking_get(url: &str) -> std::io::Result<u16> {
        use std::io::{Read, Write};
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_once('/').unwrap();
        let mut s = std::net::TcpStream::connect(host)?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(2)))?;
        write!(
            s,
            "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )?;
        let mut buf = String::new();
        s.read_to_string(&mut buf)?;
        Ok(buf.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0))
    }
}

#[test]
fn serve_starts_fast_with_a_banner_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh/data");
    let served = serve(&mut cmd(&data));
    eprintln!("ready after {:?}", served.ready_after);
    let (code, log) = stop(served);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("listening on http://127.0.0.1:"), "{log}");
    assert!(log.contains("database: sqlite"), "{log}");
    assert!(log.contains("auth mode: off"), "{log}");
    assert!(
        log.contains("created a new master key file") && log.contains("master.key"),
        "{log}"
    );
    assert!(log.contains("stopped"), "{log}");
    assert!(data.join("codex-central.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn admin_token_commands_work_on_an_empty_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("empty");
    let out = run(cmd(&data).args([
        "admin",
        "create-token",
        "--name",
        "ci bot",
        "--scope",
        "admin",
        "--expires-in",
        "30d",
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "exactly one line: {text:?}");
    let token = text.trim();
    assert!(
        token.starts_with("cct_")
            && token.len() == 68
            && token[4..].bytes().all(|b| b.is_ascii_hexdigit())
    );

    let out = run(cmd(&data).args(["admin", "list-tokens", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    assert!(
        listed.contains("\"ci bot\"")
            && listed.contains("\"active\"")
            && listed.contains("\"admin\""),
        "{listed}"
    );
    assert!(!listed.contains(token));
    let id =
        serde_json::from_str::<serde_json::Value>(listed.lines().next().unwrap()).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();

    let out = run(cmd(&data).args(["admin", "revoke-token", &id]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(cmd(&data).args(["admin", "list-tokens"]));
    assert!(
        !stdout(&out).contains("ci bot"),
        "revoked tokens are hidden by default"
    );
    let out = run(cmd(&data).args(["admin", "list-tokens", "--all"]));
    assert!(stdout(&out).contains("revoked"));
    let out = run(cmd(&data).args(["admin", "revoke-token", "no-such-id"]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not found"));
    let out = run(cmd(&data).args(["admin", "create-token", "--name", "x", "--expires-in", "3y"]));
    assert!(!out.status.success());

    let out = run(cmd(&data).args(["migrate"]));
    assert!(out.status.success(), "{}", stderr(&out));
    // Explicit --data-dir wins over the environment.
    let other = dir.path().join("other");
    let out = run(cmd(&data)
        .args(["admin", "list-tokens", "--data-dir"])
        .arg(&other));
    assert!(out.status.success());
    assert!(other.join("codex-central.db").exists());
}

#[test]
fn healthcheck_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(&mut cmd(dir.path()));
    let url = format!("http://127.0.0.1:{}", served.port);
    let out = run(Command::new(BIN).args(["healthcheck", "--url", &url]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(Command::new(BIN).args(["healthcheck", "--url", &format!("{url}/readyz")]));
    assert!(out.status.success());
    stop(served);
    let out = run(Command::new(BIN).args(["healthcheck", "--url", &url, "--timeout", "2"]));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bad_configuration_fails_fast_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(cmd(dir.path()).args(["serve", "--bind", "0.0.0.0:0", "--auth-mode", "off"]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("auth_mode"), "{}", stderr(&out));
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "bind = \"127.0.0.1:0\"\ndatabse_url = \"x\"\n").unwrap();
    let out = run(cmd(dir.path()).args(["serve", "--config"]).arg(&cfg));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("databse_url"), "{}", stderr(&out));
    let out = run(cmd(dir.path())
        .env("CODEX_CENTRAL_TRUSTED_PROXIES", "10.0.0.0/77")
        .args(["serve"]));
    assert!(stderr(&out).contains("trusted_proxies"), "{}", stderr(&out));
}

#[test]
fn wrong_or_missing_master_key_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let k1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let k2 = "HxwdHh8AAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRo=";
    let out = run(cmd(dir.path())
        .env("CODEX_CENTRAL_MASTER_KEY", k1)
        .args(["migrate"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(cmd(dir.path())
        .env("CODEX_CENTRAL_MASTER_KEY", k2)
        .args(["migrate"]));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("master key") && err.contains("cannot decrypt"),
        "{err}"
    );
    assert!(!err.contains(k1) && !err.contains(k2));
    // Without any key, the default key file is not silently created for existing data.
    let out = run(cmd(dir.path()).args(["migrate"]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is missing"), "{}", stderr(&out));
    assert!(!dir.path().join("master.key").exists());
}

#[tokio::test]
async fn keys_rotate_reencrypts_and_keeps_old_values_readable_until_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(cmd(dir.path()).args(["migrate"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let key_file = dir.path().join("master.key");
    let url = format!("sqlite://{}", dir.path().join("codex-central.db").display());
    let check = |store: Store| async move {
        let v = settings::get(&store, "crypto.key_check")
            .await
            .unwrap()
            .unwrap()
            .value;
        store.close().await.unwrap();
        v
    };
    let before = check(Store::connect(&url).await.unwrap()).await;
    let k1: Keyring = load_keyring_file(&key_file).unwrap();
    assert_eq!(before.split(':').nth(1).unwrap(), k1.current_key_id());

    // A person's upstream key and a sign-in provider's secret, sealed with the first key, and
    // a personal key nobody can read any more (sealed under a key that is gone).
    let store = Store::connect(&url).await.unwrap();
    let byok = |user: &str, ciphertext: String| codex_central_store::entities::byok_keys::Model {
        user_id: user.into(),
        provider_id: "openai".into(),
        ciphertext,
        suffix: "…user".into(),
        created_at: 0,
        updated_at: 0,
    };
    codex_central_store::byok_keys::upsert(
        store.db(),
        byok("u1", k1.encrypt_str("sk-user").unwrap()),
    )
    .await
    .unwrap();
    let lost = Keyring::new(
        codex_central_common::crypto::MasterKey::generate().unwrap(),
        Vec::new(),
    );
    codex_central_store::byok_keys::upsert(
        store.db(),
        byok("u2", lost.encrypt_str("sk-lost").unwrap()),
    )
    .await
    .unwrap();
    codex_central_store::oauth::insert_provider(
        store.db(),
        codex_central_store::entities::oauth_providers::Model {
            id: "corp".into(),
            kind: "oidc".into(),
            display_name: "Corp".into(),
            client_id: "cid".into(),
            client_secret: Some(k1.encrypt_str("oauth-secret").unwrap()),
            issuer_url: "https://sso.example".into(),
            scopes: "[\"openid\"]".into(),
            enabled: true,
            created_at: 0,
            updated_at: 0,
        },
    )
    .await
    .unwrap();
    store.close().await.unwrap();

    let out = run(cmd(dir.path()).args(["keys", "rotate"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("re-encrypted 3 secrets"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("1 personal upstream keys could not be read"),
        "{}",
        stderr(&out)
    );
    let k2 = load_keyring_file(&key_file).unwrap();
    assert_ne!(k2.current_key_id(), k1.current_key_id());
    assert_eq!(k2.previous().len(), 1);
    let after = check(Store::connect(&url).await.unwrap()).await;
    assert_eq!(after.split(':').nth(1).unwrap(), k2.current_key_id());
    // The old ciphertext is still readable with the rotated keyring, until previous keys go.
    assert!(k2.decrypt(&before).is_ok());
    assert!(run(cmd(dir.path()).args(["migrate"])).status.success());

    let out = run(cmd(dir.path()).args(["keys", "rotate", "--drop-previous"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let k3 = load_keyring_file(&key_file).unwrap();
    assert!(k3.previous().is_empty());
    assert!(k3.decrypt(&before).is_err());
    let now = check(Store::connect(&url).await.unwrap()).await;
    assert!(k3.decrypt(&now).is_ok());
    let store = Store::connect(&url).await.unwrap();
    let kept = codex_central_store::byok_keys::get(&store, "u1", "openai")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(k3.decrypt_string(&kept.ciphertext).unwrap(), "sk-user");
    let provider = codex_central_store::oauth::get_provider(&store, "corp")
        .await
        .unwrap();
    assert_eq!(
        k3.decrypt_string(&provider.client_secret.unwrap()).unwrap(),
        "oauth-secret"
    );
    store.close().await.unwrap();
    let out = run(cmd(dir.path()).args(["migrate"]));
    assert!(out.status.success(), "{}", stderr(&out));

    let store = Store::connect(&url).await.unwrap();
    let filter = codex_central_store::audit::AuditFilter {
        action: "master_key.rotate".into(),
        ..Default::default()
    };
    assert_eq!(
        codex_central_store::audit::list(&store, &filter, None, 10)
            .await
            .unwrap()
            .len(),
        2
    );
    store.close().await.unwrap();
}

#[tokio::test]
async fn secrets_never_reach_the_logs_even_at_trace_level() {
    codex_central::listener::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let master = "c2VjcmV0LW1hc3Rlci1rZXktZm9yLWxvZy10ZXN0ISE=";
    let mut base = cmd(dir.path());
    base.env("CODEX_CENTRAL_MASTER_KEY", master);
    let out = run(cmd(dir.path())
        .env("CODEX_CENTRAL_MASTER_KEY", master)
        .args([
            "admin",
            "create-token",
            "--name",
            "log-test",
            "--scope",
            "admin",
        ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();

    let served = serve_with(base.env("RUST_LOG", "trace"), &["--auth-mode", "on"]);
    let url = format!("http://127.0.0.1:{}", served.port);
    let http = ::reqwest::Client::new();
    let res = http
        .get(format!("{url}/api/v1/whoami"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let created: serde_json::Value = http
        .post(format!("{url}/api/v1/service-tokens"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"name": "minted", "scope": "read"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let minted = created["data"]["secret"].as_str().unwrap().to_string();
    let res = http
        .get(format!("{url}/api/v1/audit"))
        .header("x-api-key", &minted)
        .bearer_auth(&minted)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut grpc =
        codex_central_proto::auth::v1::identity_service_client::IdentityServiceClient::connect(
            url.clone(),
        )
        .await
        .unwrap();
    let mut req = tonic::Request::new(codex_central_proto::auth::v1::WhoAmIRequest {});
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    grpc.who_am_i(req).await.unwrap();
    // A host: its key, its installer link, and an auth.json sync.
    let registered: serde_json::Value = http
        .post(format!("{url}/admin/hosts/register"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"fqdn": "logged.example.com"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let host_key = registered["data"]["host"]["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let installer = registered["data"]["installer"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let script = http
        .get(format!("{url}/install/{installer}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(script.contains(&host_key));
    let res = http
        .post(format!("{url}/auth"))
        .header("x-api-key", &host_key)
        .json(
            &serde_json::json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (code, log) = stop(served);
    assert_eq!(code, 0);
    assert!(
        log.contains("TRACE") && log.len() > 10_000,
        "trace logging was on: {} bytes",
        log.len()
    );
    assert!(log.contains("request_id"), "request spans carry ids");
    assert!(
        log.contains("first-run setup: http://127.0.0.1:") && log.contains("/admin/setup"),
        "the banner shows the setup URL while no user exists"
    );
    for secret in [
        token.as_str(),
        minted.as_str(),
        &token[4..],
        &minted[4..],
        master,
        host_key.as_str(),
        &host_key[4..],
        installer.as_str(),
        &installer[4..],
    ] {
        assert!(!log.contains(secret), "a secret leaked into the logs");
    }
}

/// `admin create-user` and `admin reset-password` read the password from stdin and work on an
/// empty data dir; bad input fails with a message naming the problem.
#[test]
fn create_user_and_reset_password_from_stdin() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let with_stdin = |args: &[&str], input: &str| {
        let mut child = cmd(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = with_stdin(
        &["admin", "create-user", "--username", "Alice", "--admin"],
        "correct horse battery\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("created alice (admin,"),
        "{}",
        stdout(&out)
    );
    assert!(!stderr(&out).contains("correct horse"));
    let out = with_stdin(
        &["admin", "create-user", "--username", "alice"],
        "another password\n",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let out = with_stdin(&["admin", "create-user", "--username", "bob"], "short\n");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("at least 8"), "{}", stderr(&out));
    let out = with_stdin(&["admin", "create-user", "--username", "bob"], "");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no password on stdin"),
        "{}",
        stderr(&out)
    );
    let out = with_stdin(
        &["admin", "reset-password", "--username", "alice"],
        "new password 123\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = with_stdin(
        &["admin", "reset-password", "--username", "nobody"],
        "new password 123\n",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no user named"), "{}", stderr(&out));
    // An admin exists now: the banner no longer offers first-run setup.
    let served = serve_with(&mut cmd(dir.path()), &["--auth-mode", "on"]);
    let (code, log) = stop(served);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("auth mode: on"), "{log}");
    assert!(!log.contains("first-run setup"), "{log}");
}
