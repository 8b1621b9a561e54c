//! The REST surface of a real server on every backend: envelope, auth modes, service tokens,
//! audit, policy reads, ops endpoints.

use codex_central::config::Layer;
use serde_json::{Value, json};

use crate::on_all_backends;
use crate::testkit::{Backend, Opts, auth_on, json, spawn};

async fn local_mode_is_an_implicit_admin(backend: Backend) {
    let Some(srv) = spawn(backend, Opts::default()).await else {
        return;
    };
    let (status, body) = json(srv.get("/healthz").send().await.unwrap()).await;
    assert_eq!((status, &body["status"]), (200, &json!("ok")));
    let (status, body) = json(srv.get("/readyz").send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = json(srv.get("/api/v1/whoami").send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["principal"]["kind"], "local");
    assert_eq!(body["data"]["auth_mode"], "off");
    assert_eq!(body["data"]["client_ip"], "127.0.0.1");
    for path in [
        "/api/v1/fleet/policy",
        "/api/v1/usage/quota-policy",
        "/api/v1/config/settings",
        "/api/v1/memory/settings",
    ] {
        let (status, body) = json(srv.get(path).send().await.unwrap()).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, body) = json(srv.get("/api/v1/fleet/policy").send().await.unwrap()).await;
    assert_eq!(body["data"]["api_enabled"], true);
    assert_eq!(body["data"]["prune_inactive_days"], 30);
    let (_, body) = json(srv.get("/api/v1/config/settings").send().await.unwrap()).await;
    assert_eq!(body["data"]["host_content_push"], "on");
    let (_, body) = json(srv.get("/api/v1/usage/quota-policy").send().await.unwrap()).await;
    assert_eq!(
        body["data"],
        json!({"hard_fail": true, "limit_percent": 100, "week_partition_days": 0})
    );
    let (status, body) = json(srv.get("/no/such/route").send().await.unwrap()).await;
    assert_eq!(
        (status, body["status"].as_str(), body["code"].as_str()),
        (404, Some("error"), Some("not_found"))
    );
    srv.stop().await;
}

async fn service_tokens_gate_everything_in_auth_mode_on(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on()).await else {
        return;
    };
    // Nothing but probes without a credential.
    let (status, body) = json(srv.get("/api/v1/whoami").send().await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    assert_eq!(srv.get("/readyz").send().await.unwrap().status(), 200);
    let (status, _) = json(
        srv.get("/api/v1/whoami")
            .bearer_auth("cct_0000")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);

    let admin_token = crate::testkit::admin_token(&srv).await;

    let (status, body) = json(
        srv.get("/api/v1/whoami")
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["principal"]["kind"], "service_token");
    assert_eq!(body["data"]["principal"]["role"], "admin");
    assert_eq!(body["data"]["auth_mode"], "on");

    // Create a read-only token through REST; the secret is shown once.
    let res = srv
        .post("/api/v1/service-tokens")
        .bearer_auth(&admin_token)
        .json(&json!({"name": "dashboards", "scope": "read", "expires_in": 3600}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, 201, "{body}");
    let read_token = body["data"]["secret"].as_str().unwrap().to_string();
    let read_id = body["data"]["id"].as_str().unwrap().to_string();
    assert!(read_token.starts_with("cct_") && read_token.len() == 68);
    assert!(body["data"]["expires_at"].is_string());

    // A read token reads but cannot administer.
    let (status, _) = json(
        srv.get("/api/v1/service-tokens")
            .bearer_auth(&read_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let res = srv
        .post("/api/v1/service-tokens")
        .bearer_auth(&read_token)
        .json(&json!({"name": "x", "scope": "admin"}))
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("permission_denied"))
    );

    // Listing never includes secrets.
    let (_, body) = json(
        srv.get("/api/v1/service-tokens")
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let listed = body.to_string();
    assert!(!listed.contains(&read_token) && !listed.contains(&admin_token));
    assert_eq!(body["data"]["tokens"].as_array().unwrap().len(), 2);

    // Revoke: the token stops working at once.
    let (status, body) = json(
        srv.delete(&format!("/api/v1/service-tokens/{read_id}"))
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["revoked_at"].is_string());
    let (status, _) = json(
        srv.get("/api/v1/whoami")
            .bearer_auth(&read_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = json(
        srv.delete("/api/v1/service-tokens/nope")
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);

    // Audit rows for create and revoke, queryable by admins, filterable by action.
    let (status, body) = json(
        srv.get("/api/v1/audit?action=service_token.create")
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["events"].as_array().unwrap().len(), 2);
    let (_, body) = json(
        srv.get("/api/v1/audit?action=service_token.revoke")
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ev = &body["data"]["events"][0];
    assert_eq!(ev["target"], format!("service_token:{read_id}"));
    assert_eq!(ev["client_ip"], "127.0.0.1");
    assert!(!body.to_string().contains(&read_token));
    srv.stop().await;
}

async fn bad_input_is_4xx_never_5xx(backend: Backend) {
    let Some(srv) = spawn(backend, Opts::default()).await else {
        return;
    };
    let cases: Vec<(reqwest::RequestBuilder, u16)> = vec![
        (
            srv.post("/api/v1/service-tokens")
                .header("content-type", "application/json")
                .body("{not json"),
            400,
        ),
        (
            srv.post("/api/v1/service-tokens").json(&json!({"name": 5})),
            422,
        ),
        (
            srv.post("/api/v1/service-tokens")
                .json(&json!({"name": "", "scope": "read"})),
            422,
        ),
        (
            srv.post("/api/v1/service-tokens")
                .json(&json!({"name": "a", "scope": "root"})),
            422,
        ),
        (
            srv.post("/api/v1/service-tokens")
                .json(&json!({"name": "a", "expires_in": -5})),
            422,
        ),
        (
            srv.post("/api/v1/service-tokens")
                .json(&json!({"name": "a\u{0007}"})),
            422,
        ),
        (srv.post("/api/v1/service-tokens").body("name=a"), 415),
        // The server answers 413 without reading the rest of the body and then closes the
        // connection, so this request gets a client (and connection) of its own.
        (
            reqwest::Client::new()
                .post(format!("{}/api/v1/service-tokens", srv.url))
                .header("content-type", "application/json")
                .body(vec![b' '; 3 * 1024 * 1024]),
            413,
        ),
        (
            reqwest::Client::new()
                .post(format!("{}/auth", srv.url))
                // A key of the right shape: a request without one is refused before its body.
                .header("x-api-key", format!("cch_{}", "0".repeat(64)))
                .header("content-type", "application/json")
                .body(vec![b' '; 3 * 1024 * 1024]),
            413,
        ),
        (
            reqwest::Client::new()
                .post(format!("{}/usage", srv.url))
                // A key of the right shape: a request without one is refused before its body.
                .header("x-api-key", format!("cch_{}", "0".repeat(64)))
                .header("content-type", "application/json")
                .body(vec![b' '; 3 * 1024 * 1024]),
            413,
        ),
        (
            reqwest::Client::new()
                .post(format!("{}/host/users", srv.url))
                // A key of the right shape: a request without one is refused before its body.
                .header("x-api-key", format!("cch_{}", "0".repeat(64)))
                .header("content-type", "application/json")
                .body(vec![b' '; 3 * 1024 * 1024]),
            413,
        ),
        (
            reqwest::Client::new()
                .post(format!("{}/seed/auth/cs_00", srv.url))
                .header("content-type", "application/json")
                .body(vec![b' '; 3 * 1024 * 1024]),
            413,
        ),
        (
            srv.delete("/auth?force=1&force=0")
                .header("x-api-key", format!("cch_{}", "0".repeat(64))),
            422,
        ),
        (
            srv.get("/wrapper?platform=a&platform=b")
                .header("x-api-key", format!("cch_{}", "0".repeat(64))),
            422,
        ),
        (srv.get("/api/v1/audit?page_token=%%%"), 422),
        (srv.get("/api/v1/audit?page_size=abc"), 422),
        (srv.get("/api/v1/service-tokens?page_token=bm9wZQ"), 200),
    ];
    for (req, want) in cases {
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert_eq!(status, want, "{body}");
        if want >= 400 {
            assert_eq!(body["status"], "error", "{body}");
            assert!(
                body["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{body}"
            );
        }
    }
    let (_, body) = json(
        srv.post("/api/v1/service-tokens")
            .json(&json!({"name": "", "scope": "read"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        body["errors"].is_object(),
        "422 carries field errors: {body}"
    );
    srv.stop().await;
}

async fn metrics_count_requests_and_pool(backend: Backend) {
    let Some(srv) = spawn(backend, Opts::default()).await else {
        return;
    };
    for _ in 0..3 {
        srv.get("/api/v1/whoami").send().await.unwrap();
    }
    let text = srv
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "http_requests_total{route=\"/api/v1/whoami\",method=\"GET\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    // The pool gauges come from the background health monitor; give it its first tick.
    let mut text = text;
    for _ in 0..50 {
        if text.contains("db_pool_connections") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        text = srv
            .get("/metrics")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    assert!(text.contains("db_pool_connections"), "{text}");
    srv.stop().await;
}

on_all_backends!(
    local_mode_is_an_implicit_admin,
    service_tokens_gate_everything_in_auth_mode_on,
    bad_input_is_4xx_never_5xx,
    metrics_count_requests_and_pool,
);

#[tokio::test]
async fn forwarded_headers_count_only_from_trusted_proxies() {
    let untrusted = spawn(Backend::Sqlite, Opts::default()).await.unwrap();
    let (_, body) = json(
        untrusted
            .get("/api/v1/whoami")
            .header("x-forwarded-for", "203.0.113.9")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        body["data"]["client_ip"], "127.0.0.1",
        "a client cannot pick its own IP"
    );
    untrusted.stop().await;

    let opts = Opts {
        layer: Layer {
            trusted_proxies: Some(vec!["127.0.0.1/32".into()]),
            ..Default::default()
        },
    };
    let behind_proxy = spawn(Backend::Sqlite, opts).await.unwrap();
    let (_, body) = json(
        behind_proxy
            .get("/api/v1/whoami")
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        body["data"]["client_ip"], "203.0.113.9",
        "right-most untrusted hop"
    );
    let (_, body) = json(
        behind_proxy
            .get("/api/v1/whoami")
            .header("forwarded", "for=\"[2001:db8::7]:443\"")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["client_ip"], "2001:db8::7");
    // The same rule for native gRPC.
    let mut req = tonic::Request::new(codex_central_proto::auth::v1::WhoAmIRequest {});
    req.metadata_mut()
        .insert("x-real-ip", "192.0.2.44".parse().unwrap());
    let me = behind_proxy
        .identity()
        .await
        .who_am_i(req)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.client_ip, "192.0.2.44");
    behind_proxy.stop().await;
}

#[tokio::test]
async fn request_ids_are_returned_and_kept() {
    let srv = spawn(Backend::Sqlite, Opts::default()).await.unwrap();
    let res = srv.get("/healthz").send().await.unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    let res = srv
        .get("/healthz")
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-123");
    srv.stop().await;
}

/// `/readyz` follows the database: 503 while it is gone or behind on migrations, 200 again
/// once it is back and migrated, without restarting the server. PostgreSQL only: dropping a
/// database there terminates its connections like a server outage does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database() {
    let backend = Backend::Postgres;
    let Some(srv) = spawn(backend, Opts::default()).await else {
        return;
    };
    let url = srv.db.as_ref().unwrap().url.clone();
    let (_, name) = url.rsplit_once('/').unwrap();
    let admin = sea_orm::Database::connect(crate::testkit::PG_ADMIN_URL)
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
    wait_for_ready(&srv, 503).await;
    // Back, but empty: migrations are not current, so still not ready.
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(srv.get("/readyz").send().await.unwrap().status(), 503);
    let store = codex_central_store::Store::connect_and_migrate(&url)
        .await
        .unwrap();
    store.close().await.unwrap();
    wait_for_ready(&srv, 200).await;
    admin.close().await.unwrap();
    srv.stop().await;
}

async fn wait_for_ready(srv: &crate::testkit::TestServer, want: u16) {
    for _ in 0..100 {
        if srv.get("/readyz").send().await.unwrap().status().as_u16() == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("/readyz never answered {want}");
}

/// Another replica (here: the CLI's domain call on its own connection) revokes a token; this
/// server notices within the documented cache bound of one second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_elsewhere_is_seen_within_a_second() {
    let opts = Opts {
        layer: Layer {
            auth_mode: Some(codex_central::config::AuthMode::On),
            ..Default::default()
        },
    };
    let srv = spawn(Backend::Sqlite, opts).await.unwrap();
    let token = crate::testkit::admin_token(&srv).await;
    let (status, body) = json(
        srv.get("/api/v1/whoami")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let id = body["data"]["principal"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let db = codex_central_store::Store::connect(&srv.db.as_ref().unwrap().url)
        .await
        .unwrap();
    let actor = codex_central_auth::domain::service_tokens::Actor {
        principal: codex_central_common::Principal::local_admin(),
        client_ip: String::new(),
    };
    codex_central_auth::domain::service_tokens::revoke(&db, &actor, &id)
        .await
        .unwrap();
    db.close().await.unwrap();
    tokio::time::sleep(
        codex_central_auth::domain::authenticator::CACHE_TTL
            + std::time::Duration::from_millis(100),
    )
    .await;
    let (status, _) = json(
        srv.get("/api/v1/whoami")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    srv.stop().await;
}

/// `/api/openapi.json` lists only operations that exist: each one answers something other than
/// the "no such route" 404 or a 405.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_only_real_routes() {
    let Some(srv) = spawn(Backend::Sqlite, Opts::default()).await else {
        return;
    };
    let (status, doc) = json(srv.get("/api/openapi.json").send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/v1/responses") && paths.contains_key("/api/v1/providers"));
    let mut checked = 0;
    for (path, ops) in paths {
        let concrete = path.replace("{id}", "1").replace("{name}", "nope");
        for method in ops.as_object().unwrap().keys() {
            let url = format!("{}{concrete}", srv.url);
            let req = match method.as_str() {
                "get" => srv.http.get(&url),
                "post" => srv.http.post(&url).json(&serde_json::json!({})),
                "put" => srv.http.put(&url).json(&serde_json::json!({})),
                "patch" => srv.http.patch(&url).json(&serde_json::json!({})),
                "delete" => srv.http.delete(&url),
                other => panic!("unexpected method {other}"),
            };
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{method} {path} is not routed");
            assert!(
                !(status == 404 && body.contains("no such route")),
                "{method} {path} is not routed: {body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 25, "{checked}");
}
