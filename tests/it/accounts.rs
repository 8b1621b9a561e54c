//! Signing in and self-service over REST, pages and grpc-web: the first-run setup race, session
//! cookies, CSRF, login throttling, registration, personal tokens and BYOK keys.

use bytes::{Buf, BufMut, BytesMut};
use codex_central::config::Layer;
use codex_central_proto::auth::v1::{
    ListSessionsRequest, ListSessionsResponse, WhoAmIRequest, WhoAmIResponse,
};
use prost::Message;
use serde_json::{Value, json};

use crate::on_all_backends;
use crate::testkit::{Backend, Opts, TestServer, admin_token, auth_on, spawn};

/// An HTML form submission body.
fn form(req: reqwest::RequestBuilder, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    req.header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `cc_session=...` pair of a response's Set-Cookie, and the whole header.
fn session_cookie(res: &reqwest::Response) -> (String, String) {
    let header = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("cc_session="))
        .expect("a session cookie");
    let pair = header.split(';').next().unwrap().to_string();
    (pair, header)
}

async fn body(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn audit_actions(srv: &TestServer, admin: &str) -> Vec<String> {
    let (_, b) = body(
        srv.get("/api/v1/audit?page_size=500")
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    b["data"]["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["action"].as_str().map(String::from))
        .collect()
}

/// 100 browsers race the setup form: exactly one becomes the admin and is signed in.
async fn setup_race_sessions_and_tokens(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on()).await else {
        return;
    };
    let http = no_redirects();
    let res = http
        .get(format!("{}/admin/", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/setup");
    let page = http
        .get(format!("{}/admin/setup", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<label for="password">"#) && html.contains("width=device-width"));

    let mut racers = Vec::new();
    for i in 0..100 {
        let http = http.clone();
        let url = format!("{}/admin/setup", srv.url);
        racers.push(tokio::spawn(async move {
            http.post(url)
                .json(
                    &json!({"username": format!("admin{i}"), "password": "correct horse battery"}),
                )
                .send()
                .await
                .unwrap()
        }));
    }
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for r in racers {
        let res = r.await.unwrap();
        match res.status().as_u16() {
            201 => winners.push(res),
            409 => {
                let b: Value = res.json().await.unwrap();
                assert_eq!(b["code"], "setup_done", "{b}");
                conflicts += 1
            }
            other => panic!("setup answered {other}: {}", res.text().await.unwrap()),
        }
    }
    assert_eq!((winners.len(), conflicts), (1, 99));
    let winner = winners.pop().unwrap();
    let (cookie, header) = session_cookie(&winner);
    assert!(
        header.contains("HttpOnly") && header.contains("SameSite=Lax"),
        "{header}"
    );
    assert!(
        !header.contains("Secure"),
        "plain HTTP without --cookie-secure: {header}"
    );
    let (_, created) = body(winner).await;
    assert_eq!(created["data"]["user"]["role"], "admin");
    let csrf = created["data"]["csrf_token"].as_str().unwrap().to_string();
    // Setup is over: the page sends people to sign in, the API answers 409.
    let res = http
        .get(format!("{}/admin/setup", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/admin/login");

    // The cookie signs the browser in; changes need the CSRF header.
    let (status, me) = body(
        http.get(format!("{}/api/v1/account", srv.url))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["csrf_token"], csrf.as_str());
    assert_eq!(me["data"]["user"]["role"], "admin");
    let res = http
        .post(format!("{}/api/v1/account/tokens", srv.url))
        .header("cookie", &cookie)
        .json(&json!({"name": "laptop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "no CSRF header");
    let res = http
        .post(format!("{}/api/v1/account/tokens", srv.url))
        .header("cookie", &cookie)
        .header("x-csrf-token", "0".repeat(64))
        .json(&json!({"name": "laptop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "wrong CSRF token");
    let (status, made) = body(
        http.post(format!("{}/api/v1/account/tokens", srv.url))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": "laptop", "policy": {"allowed_models": ["gpt-5"], "requests_per_minute": 60}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let token = made["data"]["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("m2c_") && token.len() == 68, "{token}");
    let info = &made["data"];
    assert_eq!(info["policy"]["allowed_models"], json!(["gpt-5"]));
    assert_eq!(info["policy"]["requests_per_minute"], 60);
    assert!(token.starts_with(info["prefix"].as_str().unwrap()));
    // The flat, mimo2codex-style shape.
    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let (status, flat) = body(
        http.post(format!("{}/api/v1/account/tokens", srv.url))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": "ci", "models": ["m1"], "rpm": 30, "tpm": 9000, "expires_at": in_an_hour,
                          "budget": {"period": "day", "micros": 5_000_000, "alert_percent": 80}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{flat}");
    let d = &flat["data"];
    assert!(d["token"].as_str().unwrap().starts_with("m2c_"));
    assert!(d["id"].is_string() && d["created_at"].is_string() && d["expires_at"].is_string());
    assert_eq!(
        (
            d["name"].clone(),
            d["models"].clone(),
            d["rpm"].clone(),
            d["tpm"].clone()
        ),
        (json!("ci"), json!(["m1"]), json!(30), json!(9000))
    );
    assert_eq!(
        d["budget"],
        json!({"period": "day", "micros": 5_000_000, "alert_percent": 80})
    );
    let (status, bad) = body(
        http.post(format!("{}/api/v1/account/tokens", srv.url))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"policy": {"requests_per_minute": 0}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    assert!(
        bad["errors"]["policy.requests_per_minute"].is_array(),
        "{bad}"
    );

    // The token is a bearer for REST (and later /v1); the list never shows the secret.
    let (status, who) = body(
        srv.get("/api/v1/whoami")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{who}");
    let (_, listed) = body(
        srv.get("/api/v1/account/tokens")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["data"]["tokens"].as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains(&token[4..]));
    let id = info["id"].as_str().unwrap();
    let res = srv
        .delete(&format!("/api/v1/account/tokens/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = srv
        .get("/api/v1/whoami")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a revoked token stops at once");

    // Logout needs the CSRF token too, then the cookie is dead everywhere.
    let res = http
        .post(format!("{}/admin/logout", srv.url))
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = http
        .post(format!("{}/admin/logout", srv.url))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = http
        .get(format!("{}/api/v1/account", srv.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = http
        .get(format!("{}/admin/account", srv.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        303,
        "pages send signed-out browsers to the login"
    );

    let admin = admin_token(&srv).await;
    let actions = audit_actions(&srv, &admin).await;
    for a in [
        "setup.complete",
        "personal_token.create",
        "personal_token.revoke",
        "logout",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} audited: {actions:?}");
    }
}

/// Unknown user and wrong password look the same; repeated failures lock out with Retry-After;
/// the HTML form signs in and redirects; disabling a user ends their session at once.
async fn login_throttling_and_forms(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on()).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let res = srv
        .post("/api/v1/users")
        .bearer_auth(&admin)
        .json(&json!({"username": "carol", "password": "carol's password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let carol = res.json::<Value>().await.unwrap()["data"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let http = no_redirects();
    let login = |user: &str, pass: &str| {
        http.post(format!("{}/admin/login", srv.url))
            .json(&json!({"username": user, "password": pass}))
            .send()
    };
    let (s1, wrong) = body(login("carol", "not her password").await.unwrap()).await;
    let (s2, unknown) = body(login("nobody", "not her password").await.unwrap()).await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(
        wrong, unknown,
        "failures never reveal whether the user exists"
    );

    // The form: a 303 to the requested page with the cookie.
    let res = form(
        http.post(format!("{}/admin/login", srv.url)),
        &[
            ("username", "carol"),
            ("password", "carol's password"),
            ("next", "/admin/account"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/admin/account");
    let (cookie, _) = session_cookie(&res);
    let page = http
        .get(format!("{}/admin/account", srv.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("carol")
            && html.contains("Personal API tokens")
            && html.contains(r#"name="csrf_token""#)
    );
    // An open redirect is refused.
    let res = form(
        http.post(format!("{}/admin/login", srv.url)),
        &[
            ("username", "carol"),
            ("password", "carol's password"),
            ("next", "//evil.example/"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.headers()["location"], "/admin/");

    // Disabling carol ends her session on the next request.
    let res = srv
        .post(&format!("/api/v1/users/{carol}/enabled"))
        .bearer_auth(&admin)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let res = http
        .get(format!("{}/api/v1/account", srv.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Ten failures for one username lock it (per username, whatever the password).
    for _ in 0..9 {
        assert_eq!(login("dave", "wrong wrong").await.unwrap().status(), 401);
    }
    let res = login("dave", "wrong wrong").await.unwrap();
    assert_eq!(res.status(), 401);
    let res = login("dave", "wrong wrong").await.unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    let actions = audit_actions(&srv, &admin).await;
    assert!(actions.iter().any(|a| a == "login.failure"));
    assert!(actions.iter().any(|a| a == "login.success"));
}

/// The session's 7 days slide with use; a session past its expiry is refused. Time is moved by
/// rewriting the session row, the clock the server reads being the database's rows.
async fn sessions_slide_and_expire(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on()).await else {
        return;
    };
    let res = no_redirects()
        .post(format!("{}/admin/setup", srv.url))
        .json(&json!({"username": "root", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let (cookie, _) = session_cookie(&res);
    let store = codex_central_store::Store::connect(&srv.db.as_ref().unwrap().url)
        .await
        .unwrap();
    use codex_central_store::entities::sessions::{Column, Entity};
    use sea_orm::{EntityTrait, sea_query::Expr};
    let now = chrono::Utc::now().timestamp_millis();
    let set = |last_seen: i64, expires: i64| {
        Entity::update_many()
            .col_expr(Column::LastSeenAt, Expr::value(last_seen))
            .col_expr(Column::ExpiresAt, Expr::value(expires))
            .exec(store.db())
    };
    let account = || {
        no_redirects()
            .get(format!("{}/api/v1/account", srv.url))
            .header("cookie", &cookie)
            .send()
    };
    // Last used six days ago, one day left: a request pushes the expiry to 7 days from now.
    set(now - 6 * 86_400_000, now + 86_400_000).await.unwrap();
    assert_eq!(account().await.unwrap().status(), 200);
    let row = Entity::find().one(store.db()).await.unwrap().unwrap();
    assert!(
        row.expires_at > now + 6 * 86_400_000 + 23 * 3_600_000,
        "slid to ~7 days: {}",
        row.expires_at - now
    );
    // Past its expiry: refused, and the pruner's query removes it.
    set(now - 8 * 86_400_000, now - 1000).await.unwrap();
    assert_eq!(account().await.unwrap().status(), 401);
    assert_eq!(
        codex_central_store::sessions::prune_expired(&store, chrono::Utc::now().timestamp_millis())
            .await
            .unwrap(),
        1
    );
}

on_all_backends!(
    setup_race_sessions_and_tokens,
    login_throttling_and_forms,
    sessions_slide_and_expire
);

fn grpc_web_frame(msg: &impl Message) -> Vec<u8> {
    let body = msg.encode_to_vec();
    let mut buf = BytesMut::with_capacity(5 + body.len());
    buf.put_u8(0);
    buf.put_u32(body.len() as u32);
    buf.put_slice(&body);
    buf.to_vec()
}

async fn sign_in_new_admin(srv: &TestServer) -> (String, String) {
    let res = no_redirects()
        .post(format!("{}/admin/setup", srv.url))
        .json(&json!({"username": "root", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (cookie, _) = session_cookie(&res);
    let b: Value = res.json().await.unwrap();
    (
        cookie,
        b["data"]["csrf_token"].as_str().unwrap().to_string(),
    )
}

/// The dashboard's grpc-web calls ride the cookie and must carry the CSRF header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_web_with_a_session_needs_the_csrf_header() {
    let srv = spawn(Backend::Sqlite, auth_on()).await.unwrap();
    let (cookie, csrf) = sign_in_new_admin(&srv).await;
    let http1 = reqwest::Client::builder().http1_only().build().unwrap();
    let call = |csrf: Option<&str>| {
        let mut req = http1
            .post(format!(
                "{}/codexcentral.auth.v1.IdentityService/WhoAmI",
                srv.url
            ))
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .header("cookie", &cookie)
            .body(grpc_web_frame(&WhoAmIRequest {}));
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    let res = call(None).await.unwrap();
    let status = res
        .headers()
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(status, "7", "PERMISSION_DENIED without the CSRF header");
    let res = call(Some(&csrf)).await.unwrap();
    assert_eq!(res.status(), 200);
    let mut b = res.bytes().await.unwrap();
    assert_eq!(b.get_u8(), 0);
    let len = b.get_u32() as usize;
    let me = WhoAmIResponse::decode(b.split_to(len)).unwrap();
    assert_eq!(me.principal.unwrap().name, "root");

    // A second sign-in; each browser's session list marks its own session as the current one.
    let res = no_redirects()
        .post(format!("{}/admin/login", srv.url))
        .json(&json!({"username": "root", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (other, _) = session_cookie(&res);
    let other_csrf = res.json::<Value>().await.unwrap()["data"]["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut currents = Vec::new();
    for (cookie, csrf) in [(&cookie, &csrf), (&other, &other_csrf)] {
        let res = http1
            .post(format!(
                "{}/codexcentral.auth.v1.SessionService/ListSessions",
                srv.url
            ))
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .header("cookie", cookie)
            .header("x-csrf-token", csrf)
            .body(grpc_web_frame(&ListSessionsRequest::default()))
            .send()
            .await
            .unwrap();
        let mut b = res.bytes().await.unwrap();
        assert_eq!(b.get_u8(), 0);
        let len = b.get_u32() as usize;
        let list = ListSessionsResponse::decode(b.split_to(len)).unwrap();
        assert_eq!(list.sessions.len(), 2);
        let current: Vec<_> = list.sessions.iter().filter(|s| s.current).collect();
        assert_eq!(current.len(), 1, "{list:?}");
        currents.push(current[0].id.clone());
    }
    assert_ne!(currents[0], currents[1]);
}

/// Registration is off by default (403 page and API); an admin opens it; BYOK keys are stored
/// encrypted and only ever shown masked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_and_byok_keys() {
    let srv = spawn(Backend::Sqlite, auth_on()).await.unwrap();
    let (admin_cookie, admin_csrf) = sign_in_new_admin(&srv).await;
    let http = no_redirects();
    let page = http
        .get(format!("{}/admin/register", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Registration is closed")
    );
    let reg = |name: &str| {
        http.post(format!("{}/admin/register", srv.url))
            .json(&json!({"username": name, "password": "member password"}))
            .send()
    };
    assert_eq!(reg("erin").await.unwrap().status(), 403);
    let res = http
        .put(format!("{}/api/v1/settings/registration", srv.url))
        .header("cookie", &admin_cookie)
        .header("x-csrf-token", &admin_csrf)
        .json(&json!({"open_registration": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = reg("erin").await.unwrap();
    assert_eq!(res.status(), 201);
    let (cookie, _) = session_cookie(&res);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["data"]["user"]["role"], "member");
    let csrf = b["data"]["csrf_token"].as_str().unwrap().to_string();
    // A member cannot change the setting.
    let res = http
        .put(format!("{}/api/v1/settings/registration", srv.url))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"open_registration": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let put = |provider: &str, key: &str| {
        http.put(format!("{}/api/v1/account/byok/{provider}", srv.url))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"api_key": key}))
            .send()
    };
    let secret = "sk-erin-own-key-0123456789abcd";
    let (status, set) = body(put("openai", secret).await.unwrap()).await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["data"]["key"]["masked"], "…abcd");
    assert!(!set.to_string().contains(secret));
    assert_eq!(put("no-such-provider", secret).await.unwrap().status(), 404);
    assert_eq!(
        put("openai", "has spaces in it").await.unwrap().status(),
        422
    );
    let (_, listed) = body(
        http.get(format!("{}/api/v1/account/byok", srv.url))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["data"]["keys"][0]["status"], "ok");
    assert!(!listed.to_string().contains(secret));
    // At rest the key is sealed.
    let store = codex_central_store::Store::connect(&srv.db.as_ref().unwrap().url)
        .await
        .unwrap();
    let rows = codex_central_store::byok_keys::list_all(&store)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].ciphertext.contains(secret));
    let res = http
        .delete(format!("{}/api/v1/account/byok/openai", srv.url))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = http
        .delete(format!("{}/api/v1/account/byok/openai", srv.url))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// In local mode the pages say so instead of asking anyone to sign in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_mode_pages_say_so() {
    let srv = spawn(Backend::Sqlite, Opts::default()).await.unwrap();
    for path in ["/admin/", "/admin/login", "/admin/setup", "/admin/account"] {
        let res = no_redirects()
            .get(format!("{}{path}", srv.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let page = res.text().await.unwrap();
        // The dashboard (when built) says so itself once it runs, from WhoAmI.
        let spa = path == "/admin/" && page.contains(r#"<meta name="csrf-token" content="">"#);
        assert!(spa || page.contains("local mode"), "{path}: {page}");
    }
}

/// Behind a TLS-terminating proxy, `--cookie-secure` marks the session cookie `Secure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_secure_marks_the_session_cookie() {
    let srv = spawn(
        Backend::Sqlite,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                cookie_secure: Some(true),
                ..Default::default()
            },
        },
    )
    .await
    .unwrap();
    let res = no_redirects()
        .post(format!("{}/admin/setup", srv.url))
        .json(&json!({"username": "root", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (_, header) = session_cookie(&res);
    assert!(header.contains("; Secure"), "{header}");
    assert!(header.contains("Max-Age=604800"), "7 days: {header}");
}
