//! The dashboard SPA (clients/dashboard) as the server serves it: `/admin/` is its index for a
//! signed-in viewer, with the session's CSRF token in a meta tag, a strict
//! Content-Security-Policy and `no-cache`; every script and stylesheet it names is a
//! content-hashed file under `/admin/assets/`, cached for a year, with its content type; paths
//! outside the build are 404. Then the whole app in Chromium (tests/clients/dashboard_check.mjs).
//!
//! The SPA is built by scripts/test (`npm run build` in clients/dashboard); debug servers read
//! `clients/dashboard/dist` from disk.

use std::path::PathBuf;

use serde_json::json;

use crate::testkit::{Backend, Ready, auth_on, browser_clients, in_ci, run_browser_check};

fn dist() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/dashboard/dist");
    if dir.join("index.html").is_file() {
        return Some(dir);
    }
    assert!(
        !in_ci(),
        "{} is missing: scripts/test builds the dashboard",
        dir.display()
    );
    eprintln!("skipping: the dashboard is not built (npm run build in clients/dashboard)");
    None
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Sets up the first administrator through the setup page: the session cookie pair.
async fn first_admin(r: &Ready, password: &str) -> String {
    let res = no_redirects()
        .post(format!("{}/admin/setup", r.srv.url))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.starts_with("cc_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spa_is_served_with_csp_and_caching() {
    if dist().is_none() {
        return;
    }
    let r = Ready::start(Backend::Sqlite, auth_on()).await.unwrap();
    let cookie = first_admin(&r, "correct horse battery").await;
    let http = no_redirects();

    // Signed out: the sign-in page, not the app.
    let res = http
        .get(format!("{}/admin/", r.srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/admin/login")
    );

    let res = http
        .get(format!("{}/admin/", r.srv.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["cache-control"], "no-cache");
    let csp = h["content-security-policy"].to_str().unwrap().to_string();
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let page = res.text().await.unwrap();
    assert!(
        page.contains(r#"<meta name="csrf-token" content=""#),
        "{page}"
    );
    assert!(
        !page.contains(r#"<meta name="csrf-token" content="">"#),
        "the session's token: {page}"
    );
    assert!(!page.contains("<script>"), "no inline script: {page}");

    // Every asset the page names: hashed, immutable, typed.
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/admin/assets/"))
        .collect();
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{page}");
    for asset in &assets {
        let res = http
            .get(format!("{}{asset}", r.srv.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{asset}");
        assert_eq!(
            res.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        if asset.ends_with(".js") {
            assert!(ct.starts_with("text/javascript"), "{asset}: {ct}");
        } else if asset.ends_with(".css") {
            assert!(ct.starts_with("text/css"), "{asset}: {ct}");
        }
    }
    for bad in [
        "/admin/assets/../index.html",
        "/admin/assets/%2e%2e/index.html",
        "/admin/assets/nope.js",
        "/admin/assets/.hidden",
    ] {
        let res = http
            .get(format!("{}{bad}", r.srv.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{bad}");
        assert_ne!(
            res.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("public, max-age=31536000, immutable"),
            "{bad}"
        );
    }
}

/// The whole app in Chromium against a server with data: two hosts, usage from one of them and
/// a memory; tests/clients/dashboard_check.mjs signs in and goes through every main page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_chromium() {
    if dist().is_none() {
        return;
    }
    let Some(clients) = browser_clients("axe-core") else {
        return;
    };
    // Alerts are checked every second and go to a webhook that accepts them, so the alerts page
    // has an alert to acknowledge and a delivery to list.
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", hook.local_addr().unwrap());
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }),
    );
    tokio::spawn(async move { axum::serve(hook, receiver).await });
    let opts = crate::testkit::Opts {
        layer: codex_central::config::Layer {
            alert_webhook_urls: Some(vec![hook_url]),
            alert_webhook_secret: Some("a webhook secret for the e2e run".into()),
            alert_check_secs: Some(1),
            ..auth_on().layer
        },
    };
    let r = Ready::start(Backend::Sqlite, opts).await.unwrap();
    // A GitHub-shaped sign-in provider, so My account can link and unlink an account.
    let (github, _) = crate::oauth::github_stub(7001).await;
    let (status, body) = r
        .admin_post(
            "/api/v1/oauth/providers",
            json!({"name": "github", "kind": "github", "display_name": "GitHub Enterprise",
                   "client_id": "gh-client", "client_secret": "gh-secret", "issuer_url": github}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let password = "correct horse battery";
    first_admin(&r, password).await;
    let key = r.host_key("seeded-1.example.com").await;
    r.host_key("seeded-2.example.com").await;
    let (status, body) = r
        .host_post(
            &key,
            "/usage",
            json!({"usages": [
                {"input_tokens": 1200, "cached_input_tokens": 200, "output_tokens": 340,
                 "reasoning_output_tokens": 40, "total_tokens": 1540, "model": "gpt-5.1-codex",
                 "session_id": "s-1", "response_id": "resp_a"},
                {"input_tokens": 800, "output_tokens": 90, "total_tokens": 890, "model": "gpt-5-mini",
                 "session_id": "s-1", "response_id": "resp_b"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The 5-hour ChatGPT window at 96 %: the fleet's 95 % quota alert.
    let resets = chrono::Utc::now().timestamp() + 3600;
    let (status, body) = r
        .host_post(
            &key,
            "/usage",
            json!({"rate_limits": {"primary": {"used_percent": 96.0, "window_minutes": 300, "resets_at": resets}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = r
        .host_post(
            &key,
            "/mcp/memories/store",
            json!({"key": "deploy-notes", "content": "Deploys go out on Tuesdays.", "tags": ["ops"]}),
        )
        .await;
    assert!((200..300).contains(&status), "{body}");

    let shots = std::env::var_os("CC_DASHBOARD_SHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dashboard-shots")
        });
    // Fresh each run, so the count below is of this run's screenshots.
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    run_browser_check(
        "dashboard_check.mjs",
        &clients,
        &r.srv.url,
        &[
            ("CC_USER", "admin".as_ref()),
            ("CC_PASSWORD", password.as_ref()),
            ("CC_SHOTS", shots.as_os_str()),
        ],
        std::time::Duration::from_secs(240),
    )
    .await;
    let pngs = std::fs::read_dir(&shots)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert!(
        pngs >= 8,
        "a screenshot of each main page in {}",
        shots.display()
    );
}
