//! OAuth/OIDC sign-in end to end: a real OpenID Connect provider (npm `oidc-provider`, started
//! from tests/clients/oidc_provider.mjs) and a GitHub-API-shaped server, driven by an HTTP
//! client that keeps cookies like a browser.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use codex_central::config::Layer;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Mutex;

use crate::testkit::{Backend, Opts, TestServer, admin_token, auth_on, in_ci, spawn};

/// A browser's cookie jar, simplified: one value per cookie name, whatever the path or port.
#[derive(Default, Clone)]
struct Jar(Arc<std::sync::Mutex<HashMap<String, String>>>);

impl Jar {
    fn take(&self, res: &reqwest::Response) {
        let mut jar = self.0.lock().unwrap();
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let pair = v.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || v.contains("Max-Age=0") || v.contains("expires=Thu, 01 Jan 1970")
            {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_string(), value.to_string());
            }
        }
    }

    fn header(&self) -> String {
        let jar = self.0.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// GET with the jar; returns the response (cookies taken).
async fn get(http: &reqwest::Client, jar: &Jar, url: &str) -> reqwest::Response {
    let res = http
        .get(url)
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    jar.take(&res);
    res
}

fn location(res: &reqwest::Response, base: &str) -> String {
    let loc = res.headers()["location"].to_str().unwrap().to_string();
    if loc.starts_with('/') {
        format!("{base}{loc}")
    } else {
        loc
    }
}

/// Follows the provider's redirects from `start` until it sends the browser back to the
/// server; returns that callback URL.
async fn through_provider(
    http: &reqwest::Client,
    jar: &Jar,
    first: String,
    provider: &str,
    server: &str,
) -> String {
    let mut url = first;
    for _ in 0..10 {
        if url.starts_with(server) {
            return url;
        }
        assert!(url.starts_with(provider), "unexpected hop {url}");
        let res = get(http, jar, &url).await;
        assert!(
            res.status().is_redirection(),
            "{url}: {} {}",
            res.status(),
            res.text().await.unwrap_or_default()
        );
        url = location(&res, provider);
    }
    panic!("the provider never sent the browser back");
}

/// Signs in through `/oauth/start/{provider}` and returns the callback's answer.
async fn sign_in(
    srv: &TestServer,
    jar: &Jar,
    provider: &str,
    provider_base: &str,
) -> (reqwest::Response, String) {
    let http = client();
    let res = get(
        &http,
        jar,
        &format!(
            "{}/oauth/start/{provider}?return_to=/admin/account",
            srv.url
        ),
    )
    .await;
    assert_eq!(
        res.status(),
        302,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let to_provider = location(&res, &srv.url);
    let callback = through_provider(&http, jar, to_provider, provider_base, &srv.url).await;
    (get(&http, jar, &callback).await, callback)
}

async fn account(srv: &TestServer, jar: &Jar) -> Value {
    let res = client()
        .get(format!("{}/api/v1/account", srv.url))
        .header("cookie", jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

struct Oidc {
    child: tokio::process::Child,
    base: String,
}

impl Drop for Oidc {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn oidc_provider(redirect: &str) -> Option<Oidc> {
    oidc_provider_with(redirect, "").await
}

async fn oidc_provider_with(redirect: &str, tamper: &str) -> Option<Oidc> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let modules = root.join("target/node-clients/node_modules");
    if !modules.join("oidc-provider").exists() {
        assert!(
            !in_ci(),
            "{} is missing: scripts/test installs oidc-provider",
            modules.display()
        );
        eprintln!("skipping: oidc-provider is not installed (run scripts/test once)");
        return None;
    }
    let mut child = tokio::process::Command::new("node")
        .arg(root.join("tests/clients/oidc_provider.mjs"))
        .env("OIDC_NODE_MODULES", &modules)
        .env("OIDC_CLIENT_ID", "codex-central-test")
        .env("OIDC_CLIENT_SECRET", "oidc-test-secret-0123")
        .env("OIDC_REDIRECT_URI", redirect)
        .env("OIDC_SUBJECT", "alice-sub")
        .env("OIDC_TAMPER", tamper)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line())
        .await
        .expect("the OIDC provider starts")
        .unwrap()
        .expect("a ready line");
    let port = line
        .strip_prefix("ready ")
        .expect("ready <port>")
        .trim()
        .to_string();
    Some(Oidc {
        child,
        base: format!("http://127.0.0.1:{port}"),
    })
}

async fn add_provider(srv: &TestServer, admin: &str, body: Value) -> Value {
    let res = srv
        .post("/api/v1/oauth/providers")
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// A real OpenID Connect provider: discovery, PKCE, nonce and a signed ID token; the first login
/// creates the user, later ones reuse it; states are single-use and bound to the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_connect_sign_in() {
    let srv = spawn(Backend::Sqlite, auth_on()).await.unwrap();
    let Some(idp) = oidc_provider(&format!("{}/oauth/callback/corp", srv.url)).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let created = add_provider(
        &srv,
        &admin,
        json!({"name": "corp", "kind": "oidc", "display_name": "Corp SSO", "client_id": "codex-central-test",
               "client_secret": "oidc-test-secret-0123", "issuer_url": idp.base}),
    )
    .await;
    let p = &created["data"]["provider"];
    assert_eq!(
        p["callback_url"],
        format!("{}/oauth/callback/corp", srv.url)
    );
    assert_eq!(p["client_secret_set"], true);
    assert!(!created.to_string().contains("oidc-test-secret"));
    // The login page offers it (once setup is done).
    let res = srv
        .post("/api/v1/users")
        .bearer_auth(&admin)
        .json(&json!({"username": "root", "password": "root password", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let page = client()
        .get(format!("{}/admin/login", srv.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Corp SSO") && page.contains("/oauth/start/corp"),
        "{page}"
    );

    let jar = Jar::default();
    let (res, callback) = sign_in(&srv, &jar, "corp", &idp.base).await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(res.headers()["location"], "/admin/account");
    let me = account(&srv, &jar).await;
    let port = idp.base.rsplit(':').next().unwrap();
    assert_eq!(
        me["data"]["user"]["username"],
        format!("oidc_127.0.0.1-{port}_alice-sub")
    );
    assert_eq!(me["data"]["user"]["role"], "member");
    let first_id = me["data"]["user"]["id"].clone();

    // The callback cannot be replayed.
    let res = get(&client(), &jar, &callback).await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("invalid or expired OAuth state")
    );

    // A second sign-in (the provider remembers the browser) reuses the user.
    let jar2 = Jar::default();
    let (res, _) = sign_in(&srv, &jar2, "corp", &idp.base).await;
    assert_eq!(res.status(), 303);
    assert_eq!(account(&srv, &jar2).await["data"]["user"]["id"], first_id);

    // A callback link made for someone else's browser (no state cookie) is refused.
    let http = client();
    let attacker = Jar::default();
    let res = get(&http, &attacker, &format!("{}/oauth/start/corp", srv.url)).await;
    let url = location(&res, &srv.url);
    let callback = through_provider(&http, &attacker, url, &idp.base, &srv.url).await;
    let victim = Jar::default();
    let res = get(&http, &victim, &callback).await;
    assert_eq!(res.status(), 400, "state not bound to this browser");

    // 100 racing callbacks with one state: exactly one signs in.
    let jar3 = Jar::default();
    let res = get(&http, &jar3, &format!("{}/oauth/start/corp", srv.url)).await;
    let url = location(&res, &srv.url);
    let callback = through_provider(&http, &jar3, url, &idp.base, &srv.url).await;
    let mut racers = Vec::new();
    for _ in 0..100 {
        let (http, cookie, url) = (http.clone(), jar3.header(), callback.clone());
        racers.push(tokio::spawn(async move {
            http.get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = HashMap::new();
    for r in racers {
        *statuses.entry(r.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(statuses.get(&303), Some(&1), "{statuses:?}");
    assert_eq!(statuses.get(&400), Some(&99), "{statuses:?}");

    // An expired state (10 minutes) is refused.
    let jar4 = Jar::default();
    let res = get(&http, &jar4, &format!("{}/oauth/start/corp", srv.url)).await;
    let url = location(&res, &srv.url);
    let callback = through_provider(&http, &jar4, url, &idp.base, &srv.url).await;
    let store = codex_central_store::Store::connect(&srv.db.as_ref().unwrap().url)
        .await
        .unwrap();
    use sea_orm::EntityTrait;
    codex_central_store::entities::oauth_states::Entity::update_many()
        .col_expr(
            codex_central_store::entities::oauth_states::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(1i64),
        )
        .exec(store.db())
        .await
        .unwrap();
    let res = get(&http, &jar4, &callback).await;
    assert_eq!(res.status(), 400);

    // A disabled user is refused.
    let id = first_id.as_str().unwrap();
    let res = srv
        .post(&format!("/api/v1/users/{id}/enabled"))
        .bearer_auth(&admin)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let (res, _) = sign_in(&srv, &Jar::default(), "corp", &idp.base).await;
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("disabled"));

    // The user list shows one OIDC user; sign-ins and creation are audited.
    let audit: Value = srv
        .get("/api/v1/audit?page_size=500")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["data"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "oauth_provider.create",
        "user.create_oauth",
        "login.success",
        "login.refused",
    ] {
        assert!(actions.contains(&a), "{a}: {actions:?}");
    }
}

/// The test decides who "is signed in at GitHub" with `user`.
#[derive(Default)]
pub(crate) struct GitHub {
    codes: Mutex<HashMap<String, (String, String)>>,
    user: Mutex<u32>,
}

async fn gh_authorize(
    State(gh): State<Arc<GitHub>>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    assert_eq!(
        q.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    let user = *gh.user.lock().await;
    gh.codes.lock().await.insert(
        code.clone(),
        (q["code_challenge"].clone(), user.to_string()),
    );
    let to = format!("{}?code={code}&state={}", q["redirect_uri"], q["state"]);
    (StatusCode::FOUND, [("location", to)])
}

async fn gh_token(
    State(gh): State<Arc<GitHub>>,
    Form(f): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    let Some((challenge, user)) = gh.codes.lock().await.remove(&f["code"]) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "bad_verification_code"})),
        )
            .into_response();
    };
    use sha2::Digest;
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let computed = base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        sha2::Sha256::digest(verifier.as_bytes()),
    );
    if computed != challenge || f.get("client_secret").map(String::as_str) != Some("gh-secret") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "incorrect_client_credentials"})),
        )
            .into_response();
    }
    axum::Json(json!({"access_token": format!("gho_{user}"), "token_type": "bearer", "scope": "read:user"})).into_response()
}

async fn gh_user(headers: HeaderMap) -> impl IntoResponse {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match auth.strip_prefix("Bearer gho_") {
        Some(id) => {
            axum::Json(json!({"id": id.parse::<u64>().unwrap(), "login": format!("Octo-Cat{id}")}))
                .into_response()
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// A GitHub-shaped provider on a local port (GitHub Enterprise URLs: authorize, token, user),
/// signed in as `user`; its base URL (the provider's `issuer_url`, client `gh-client` with
/// secret `gh-secret`) and the switch for who is signed in.
pub(crate) async fn github_stub(user: u32) -> (String, Arc<GitHub>) {
    let gh = Arc::new(GitHub::default());
    *gh.user.lock().await = user;
    let app = axum::Router::new()
        .route("/login/oauth/authorize", axum::routing::get(gh_authorize))
        .route("/login/oauth/access_token", axum::routing::post(gh_token))
        .route("/api/v3/user", axum::routing::get(gh_user))
        .with_state(gh.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, gh)
}

/// A GitHub-shaped provider (GitHub Enterprise URLs on a test server): sign-in creates
/// `github_<login>`; a password user links it from the account page and can unlink it; an
/// account whose only way in is GitHub cannot unlink it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_sign_in_and_linking() {
    let (base, gh) = github_stub(4001).await;
    let srv = spawn(Backend::Sqlite, auth_on()).await.unwrap();
    let admin = admin_token(&srv).await;
    add_provider(
        &srv,
        &admin,
        json!({"name": "github", "kind": "github", "client_id": "gh-client", "client_secret": "gh-secret", "issuer_url": base}),
    )
    .await;
    // A blank secret on edit keeps the stored one.
    let res = srv
        .http
        .put(format!("{}/api/v1/oauth/providers/github", srv.url))
        .bearer_auth(&admin)
        .json(&json!({"display_name": "GitHub Enterprise", "client_secret": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let jar = Jar::default();
    let (res, _) = sign_in(&srv, &jar, "github", &base).await;
    assert_eq!(
        res.status(),
        303,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let me = account(&srv, &jar).await;
    assert_eq!(me["data"]["user"]["username"], "github_octo-cat4001");
    let csrf = me["data"]["csrf_token"].as_str().unwrap().to_string();
    // Its only way in cannot be unlinked.
    let res = client()
        .delete(format!("{}/api/v1/account/links/github", srv.url))
        .header("cookie", jar.header())
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409, "{}", res.text().await.unwrap());

    // A password user links their own GitHub account from the account page.
    *gh.user.lock().await = 4002;
    let res = srv
        .post("/api/v1/users")
        .bearer_auth(&admin)
        .json(&json!({"username": "dora", "password": "dora's password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let http = client();
    let dora = Jar::default();
    let res = http
        .post(format!("{}/admin/login", srv.url))
        .json(&json!({"username": "dora", "password": "dora's password"}))
        .send()
        .await
        .unwrap();
    dora.take(&res);
    let csrf = res.json::<Value>().await.unwrap()["data"]["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let page = get(&http, &dora, &format!("{}/admin/account", srv.url))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Link GitHub Enterprise"), "{page}");
    let res = http
        .post(format!("{}/oauth/start/github", srv.url))
        .header("cookie", dora.header())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={csrf}"))
        .send()
        .await
        .unwrap();
    dora.take(&res);
    assert_eq!(res.status(), 302);
    let url = location(&res, &srv.url);
    let callback = through_provider(&http, &dora, url, &base, &srv.url).await;
    let res = get(&http, &dora, &callback).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/account?done=linked");
    let links: Value = http
        .get(format!("{}/api/v1/account/links", srv.url))
        .header("cookie", dora.header())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        links["data"]["links"][0]["display"], "Octo-Cat4002",
        "{links}"
    );
    // Signing in with that GitHub account now reaches dora.
    let again = Jar::default();
    let (res, _) = sign_in(&srv, &again, "github", &base).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        account(&srv, &again).await["data"]["user"]["username"],
        "dora"
    );
    let res = http
        .delete(format!("{}/api/v1/account/links/github", srv.url))
        .header("cookie", dora.header())
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "dora still has her password");
    // From the dashboard (whose CSP forbids a form's redirect to another origin): a page of ours
    // moves on to the provider, and the callback returns to the dashboard's account page.
    let res = http
        .post(format!("{}/oauth/start/github", srv.url))
        .header("cookie", dora.header())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf_token={csrf}&return_to=%2Fadmin%2F%23%2Faccount"
        ))
        .send()
        .await
        .unwrap();
    dora.take(&res);
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let escaped = page
        .split("content=\"0;url=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no refresh in {page}"))
        .to_string();
    assert!(page.contains(&format!("href=\"{escaped}\"")), "{page}");
    let url = escaped.replace("&#38;", "&").replace("&amp;", "&");
    assert!(url.starts_with(&base), "{url}");
    let callback = through_provider(&http, &dora, url, &base, &srv.url).await;
    let res = get(&http, &dora, &callback).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/#/account");
    // Any other return_to goes back to the account page, as before.
    let res = http
        .post(format!("{}/oauth/start/github", srv.url))
        .header("cookie", dora.header())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf_token={csrf}&return_to=https%3A%2F%2Fevil.example%2F"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    // Starting a link without the CSRF field is refused.
    let res = http
        .post(format!("{}/oauth/start/github", srv.url))
        .header("cookie", dora.header())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf_token=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

/// Providers from the config file are there at start, secrets sealed, and re-applied on restart
/// without duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("gitee.secret");
    std::fs::write(&secret_file, "gitee-secret-from-file\n").unwrap();
    let layer = Layer {
        auth_mode: Some(codex_central::config::AuthMode::On),
        oauth_providers: Some(vec![codex_central::config::OAuthProviderLayer {
            name: "gitee".into(),
            kind: "gitee".into(),
            client_id: "gitee-client".into(),
            client_secret_file: Some(secret_file),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let srv = spawn(Backend::Sqlite, Opts { layer }).await.unwrap();
    let admin = admin_token(&srv).await;
    let listed: Value = srv
        .get("/api/v1/oauth/providers")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let p = &listed["data"]["providers"][0];
    assert_eq!(p["name"], "gitee");
    assert_eq!(p["display_name"], "Gitee");
    assert_eq!(p["client_secret_set"], true);
    assert_eq!(p["scopes"], json!(["user_info"]));
    assert!(!listed.to_string().contains("gitee-secret"));
    let store = codex_central_store::Store::connect(&srv.db.as_ref().unwrap().url)
        .await
        .unwrap();
    let row = codex_central_store::oauth::get_provider(&store, "gitee")
        .await
        .unwrap();
    assert!(!row.client_secret.unwrap().contains("gitee-secret"));
}

/// An ID token whose signature does not verify is refused, and nobody is signed in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_id_token_is_rejected() {
    let srv = spawn(Backend::Sqlite, auth_on()).await.unwrap();
    let Some(idp) =
        oidc_provider_with(&format!("{}/oauth/callback/corp", srv.url), "signature").await
    else {
        return;
    };
    let admin = admin_token(&srv).await;
    add_provider(
        &srv,
        &admin,
        json!({"name": "corp", "kind": "oidc", "client_id": "codex-central-test",
               "client_secret": "oidc-test-secret-0123", "issuer_url": idp.base}),
    )
    .await;
    let jar = Jar::default();
    let (res, _) = sign_in(&srv, &jar, "corp", &idp.base).await;
    assert_eq!(res.status(), 502);
    let page = res.text().await.unwrap();
    assert!(page.contains("ID token"), "{page}");
    assert!(!jar.header().contains("cc_session="), "no session");
    let users: Value = srv
        .get("/api/v1/users")
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        users["data"]["users"].as_array().unwrap().len(),
        0,
        "nobody was created"
    );
}
