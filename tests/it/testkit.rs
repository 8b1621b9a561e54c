//! Starts the real stack (the same `app::start_on` that `serve` uses) on port 0 against SQLite
//! in a temp dir, or a fresh, uniquely named PostgreSQL or MariaDB database that is dropped
//! afterwards. With `CI=true` an unreachable database server fails the test; locally the test
//! is skipped with a printed reason.

use std::net::SocketAddr;
use std::path::PathBuf;

use codex_central::app::{self, Running};
use codex_central::config::{Config, Layer};
use codex_central_proto::auth::v1::identity_service_client::IdentityServiceClient;
use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tonic::transport::Channel;

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const MYSQL_ADMIN_URL: &str = "mysql://root@127.0.0.1:3306/mysql";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A database for one test. Server databases are dropped when this is dropped.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    name: Option<String>,
    _dir: Option<TempDir>,
}

impl TestDb {
    /// `None` means "skip": the server is unreachable and we are not in CI.
    pub async fn create(backend: Backend) -> Option<TestDb> {
        let name = format!("cc_test_{}", uuid::Uuid::now_v7().simple());
        let (admin_url, url) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                return Some(TestDb {
                    backend,
                    url,
                    name: None,
                    _dir: Some(dir),
                });
            }
            Backend::Postgres => (
                PG_ADMIN_URL,
                format!("postgres://postgres@127.0.0.1:5432/{name}"),
            ),
            Backend::MySql => (
                MYSQL_ADMIN_URL,
                format!("mysql://root@127.0.0.1:3306/{name}"),
            ),
        };
        let admin = match Database::connect(admin_url).await {
            Ok(db) => db,
            Err(err) => {
                if in_ci() {
                    panic!("{backend:?} at {admin_url} is unreachable in CI: {err}");
                }
                eprintln!("SKIP: {backend:?} at {admin_url} is unreachable: {err}");
                return None;
            }
        };
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        let _ = admin.close().await;
        Some(TestDb {
            backend,
            url,
            name: Some(name),
            _dir: None,
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.name.take() else { return };
        let (admin_url, sql) = match self.backend {
            Backend::Postgres => (
                PG_ADMIN_URL,
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ),
            Backend::MySql => (MYSQL_ADMIN_URL, format!("DROP DATABASE IF EXISTS {name}")),
            Backend::Sqlite => return,
        };
        // Drop runs inside a runtime; do the async cleanup on a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(admin) = Database::connect(admin_url).await {
                    let _ = admin.execute_unprepared(&sql).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Options for [`spawn`]: tweak the config layer before the server starts.
#[derive(Default, Clone)]
pub struct Opts {
    pub layer: Layer,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub url: String,
    pub http: reqwest::Client,
    pub db: Option<TestDb>,
    running: Option<Running>,
    _data: TempDir,
}

impl TestServer {
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.endpoint())
            .expect("uri")
            .connect()
            .await
            .expect("connect gRPC")
    }

    pub async fn identity(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::new(self.channel().await)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.url))
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.url))
    }

    pub fn delete(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.delete(format!("{}{path}", self.url))
    }

    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.put(format!("{}{path}", self.url))
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

/// Starts a full server (role `all`) on `backend`. `None` = skipped (see [`TestDb::create`]).
pub async fn spawn(backend: Backend, opts: Opts) -> Option<TestServer> {
    let db = TestDb::create(backend).await?;
    let mut layer = opts.layer;
    layer.database_url = Some(db.url.clone());
    Some(spawn_with(layer, Some(db)).await)
}

/// Starts a server from a config layer as given (bind is forced to port 0).
pub async fn spawn_with(mut layer: Layer, db: Option<TestDb>) -> TestServer {
    codex_central::listener::install_crypto_provider();
    let data = tempfile::tempdir().expect("temp dir");
    if layer.data_dir.is_none() {
        layer.data_dir = Some(data.path().to_path_buf());
    }
    layer.bind = Some("127.0.0.1:0".into());
    // No outbound release checks unless a test points them somewhere.
    if layer.codex_release_url.is_none() {
        layer.codex_release_url = Some(String::new());
    }
    // Nor refreshes at the real token endpoint (port 9 refuses the connection: nothing spent).
    if layer.codex_token_url.is_none() {
        layer.codex_token_url = Some("http://127.0.0.1:9/oauth/token".into());
    }
    // Nor usage polls at chatgpt.com.
    if layer.chatgpt_base_url.is_none() {
        layer.chatgpt_base_url = Some("http://127.0.0.1:9/backend-api".into());
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    // Installers and wrappers bake the public URL: make it the real one.
    if layer.public_url.is_none() {
        layer.public_url = Some(format!("http://{}", listener.local_addr().expect("addr")));
    }
    let config = Config::resolve(layer).expect("valid test config");
    let running = app::start_on(config, listener)
        .await
        .expect("server starts");
    let addr = running.addr;
    TestServer {
        addr,
        url: format!("http://{addr}"),
        http: reqwest::Client::new(),
        db,
        running: Some(running),
        _data: data,
    }
}

/// A master key two replicas of one test share, so each can read what the other sealed.
pub const REPLICA_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Options for a server with auth mode on (every surface needs credentials).
pub fn auth_on() -> Opts {
    Opts {
        layer: Layer {
            auth_mode: Some(codex_central::config::AuthMode::On),
            ..Layer::default()
        },
    }
}

/// Auth mode on behind a proxy on 127.0.0.1 whose `X-Forwarded-For` is believed, so a test can
/// call from any client address.
pub fn auth_on_behind_proxy() -> Opts {
    Opts {
        layer: Layer {
            trusted_proxies: Some(vec!["127.0.0.1/32".into()]),
            ..auth_on().layer
        },
    }
}

/// Status and JSON body of an answer (`null` when the body is not JSON).
pub async fn json(res: reqwest::Response) -> (u16, serde_json::Value) {
    let status = res.status().as_u16();
    (
        status,
        res.json::<serde_json::Value>()
            .await
            .unwrap_or(serde_json::Value::Null),
    )
}

/// A running server with auth mode on and an admin token: what most tests start from.
pub struct Ready {
    pub srv: TestServer,
    pub admin: String,
}

impl Ready {
    pub async fn start(backend: Backend, opts: Opts) -> Option<Ready> {
        let srv = spawn(backend, opts).await?;
        let admin = admin_token(&srv).await;
        Some(Ready { srv, admin })
    }

    /// Registers `fqdn` and returns its host key.
    pub async fn host_key(&self, fqdn: &str) -> String {
        register_host(&self.srv, &self.admin, fqdn).await.1
    }

    pub async fn host_post(
        &self,
        key: &str,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        json(
            self.srv
                .post(path)
                .header("x-api-key", key)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// An admin call: the status and the JSON answer.
    async fn admin_call(
        &self,
        req: reqwest::RequestBuilder,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let req = req.bearer_auth(&self.admin);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        json(req.send().await.unwrap()).await
    }

    pub async fn admin_post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        self.admin_call(self.srv.post(path), Some(body)).await
    }

    pub async fn admin_put(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.admin_call(self.srv.put(path), Some(body)).await
    }

    pub async fn admin_get(&self, path: &str) -> (u16, serde_json::Value) {
        self.admin_call(self.srv.get(path), None).await
    }

    pub async fn admin_delete(&self, path: &str) -> (u16, serde_json::Value) {
        self.admin_call(self.srv.delete(path), None).await
    }
}

/// Registers `fqdn` with an admin token: the register answer's `data` and the host key.
pub async fn register_host(
    srv: &TestServer,
    admin: &str,
    fqdn: &str,
) -> (serde_json::Value, String) {
    let (status, body) = json(
        srv.post("/admin/hosts/register")
            .bearer_auth(admin)
            .json(&serde_json::json!({ "fqdn": fqdn }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let key = body["data"]["host"]["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    (body["data"].clone(), key)
}

/// Generates one `#[tokio::test]` per backend. `on_all_backends!(name, ...)` calls
/// `async fn name(backend: Backend)`; `on_all_backends!(ready(opts) => name, ...)` starts the
/// server with `opts`, makes an admin token and calls `async fn name(ready: Ready)`.
#[macro_export]
macro_rules! on_all_backends {
    (ready($opts:expr) => $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                async fn run(backend: $crate::testkit::Backend) {
                    let opts = {
                        #[allow(unused_imports)]
                        use super::*;
                        $opts
                    };
                    if let Some(ready) = $crate::testkit::Ready::start(backend, opts).await {
                        super::$name(ready).await
                    }
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() { run($crate::testkit::Backend::Sqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() { run($crate::testkit::Backend::Postgres).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mysql() { run($crate::testkit::Backend::MySql).await }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() { super::$name($crate::testkit::Backend::Sqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() { super::$name($crate::testkit::Backend::Postgres).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn mysql() { super::$name($crate::testkit::Backend::MySql).await }
            }
        )+
    };
}

/// A gRPC request carrying `token` as its bearer credential.
pub fn authed<T>(token: &str, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert("authorization", bearer(token));
    req
}

/// An authorization header value for a bearer token.
pub fn bearer(token: &str) -> tonic::metadata::MetadataValue<tonic::metadata::Ascii> {
    format!("Bearer {token}").parse().expect("ascii token")
}

/// Creates an admin service token straight in the store, as `codex-central admin create-token`
/// does for an operator.
pub async fn admin_token(srv: &TestServer) -> String {
    admin_token_in(&srv.db.as_ref().unwrap().url).await
}

/// [`admin_token`] for the database at `url` (servers started as separate processes).
pub async fn admin_token_in(url: &str) -> String {
    let db = codex_central_store::Store::connect(url).await.unwrap();
    let actor = codex_central_auth::domain::service_tokens::Actor {
        principal: codex_central_common::Principal::local_admin(),
        client_ip: String::new(),
    };
    let t = codex_central_auth::domain::service_tokens::create(
        &db,
        &actor,
        "bootstrap",
        codex_central_auth::domain::service_tokens::Scope::Admin,
        None,
    )
    .await
    .unwrap();
    db.close().await.unwrap();
    t.secret.expose().clone()
}

/// Creates user `username` and signs in: the session cookie and its CSRF token.
pub async fn sign_in(srv: &TestServer, admin: &str, username: &str) -> (String, String) {
    let res = srv
        .post("/api/v1/users")
        .bearer_auth(admin)
        .json(&serde_json::json!({"username": username, "password": "a long password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let res = srv
        .post("/admin/login")
        .json(&serde_json::json!({"username": username, "password": "a long password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = res.json::<serde_json::Value>().await.unwrap()["data"]["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    (cookie, csrf)
}

/// A personal token minted with a session from [`sign_in`].
pub async fn new_token(
    srv: &TestServer,
    session: &(String, String),
    body: serde_json::Value,
) -> String {
    let res = srv
        .post("/api/v1/account/tokens")
        .header("cookie", &session.0)
        .header("x-csrf-token", &session.1)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<serde_json::Value>().await.unwrap()["data"]["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A `codex-central serve` process (auth mode on, logs at warn) on a free port with its own data
/// dir, ready when returned; killed when dropped.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub url: String,
    _data: TempDir,
}

impl ServerProcess {
    pub async fn start(args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        let data = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_codex-central"));
        command
            .args([
                "serve",
                "--auth-mode",
                "on",
                "--log-level",
                "warn",
                "--bind",
            ])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data.path())
            .args(args)
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let child = command.spawn().expect("start codex-central");
        let server = ServerProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _data: data,
        };
        let http = reqwest::Client::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !http
            .get(format!("{}/readyz", server.url))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(std::time::Instant::now() < deadline, "server did not start");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        server
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The node test clients' `node_modules` and Debian's Chromium, when both are installed with
/// `package` among the modules; `None` (after saying why) to skip locally. In CI a missing one
/// fails the test: `scripts/test` installs them.
pub fn browser_clients(package: &str) -> Option<(PathBuf, PathBuf)> {
    let modules =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/node-clients/node_modules");
    let chromium = PathBuf::from("/usr/bin/chromium");
    if modules.join(package).exists() && chromium.exists() {
        return Some((modules, chromium));
    }
    assert!(
        !in_ci(),
        "{package} or {} is missing: scripts/test installs them",
        chromium.display()
    );
    eprintln!("skipping: Chromium or {package} is not installed (run scripts/test once)");
    None
}

/// Runs a browser check script of tests/clients against `base` with the installed clients and
/// `envs`; fails unless it exits 0 and prints `all ok`. Its stdout.
pub async fn run_browser_check(
    script: &str,
    (modules, chromium): &(PathBuf, PathBuf),
    base: &str,
    envs: &[(&str, &std::ffi::OsStr)],
    limit: std::time::Duration,
) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = tokio::time::timeout(
        limit,
        tokio::process::Command::new("node")
            .arg(root.join("tests/clients").join(script))
            .env("CC_BASE", base)
            .env("PW_NODE_MODULES", modules)
            .env("CHROMIUM", chromium)
            .envs(envs.iter().copied())
            .output(),
    )
    .await
    .expect("the browser checks finish")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("all ok"), "{stdout}");
    // Every check's line, for `--success-output` and the CI log of a failure elsewhere.
    print!("{stdout}");
    stdout
}

/// A host row as the fleet service would store one, for store tests; `key` fills its key digest.
pub fn host_row(fqdn: &str, key: char) -> codex_central_store::entities::hosts::Model {
    let now = codex_central_store::now_ms();
    codex_central_store::entities::hosts::Model {
        id: 0,
        fqdn: fqdn.into(),
        key_digest: key.to_string().repeat(64),
        key_prefix: format!("cch_{}", key.to_string().repeat(4)),
        status: "active".into(),
        secure: true,
        vip: false,
        allow_roaming: false,
        force_ipv4: false,
        curl_insecure: false,
        ip: None,
        insecure_enabled_until: None,
        insecure_grace_until: None,
        insecure_window_minutes: 10,
        expires_at: None,
        client_version: None,
        client_version_override: None,
        wrapper_version: None,
        model_override: None,
        reasoning_effort_override: None,
        api_calls: 0,
        last_seen_at: None,
        provisioned_at: None,
        created_at: now,
        updated_at: now,
    }
}
