//! One error contract on every surface: JSON bodies name the failing field's dotted path, NUL
//! never reaches a database, single-use links answer 410, and gRPC clients read the same
//! details as standard rich errors (checked with Python's grpcio-status).

use std::io::Write;
use std::process::{Command, Stdio};

use codex_central_proto::auth::v1::{CreateServiceTokenRequest, LoginRequest};
use prost::Message;
use serde_json::{Value, json};

use crate::clients::python;
use crate::on_all_backends;
use crate::testkit::{Backend, TestServer, admin_token, auth_on, spawn};

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn host_key(srv: &TestServer, admin: &str) -> String {
    let (status, body) = send(
        srv.post("/admin/hosts/register")
            .bearer_auth(admin)
            .json(&json!({"fqdn": "errors.example"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["host"]["api_key"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn json_errors_name_the_field(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on()).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let key = host_key(&srv, &admin).await;

    // The peer's host route: a digest of the wrong type is named, not reported as `body`.
    let (status, body) = send(
        srv.post("/auth")
            .header("x-api-key", &key)
            .json(&json!({"command": "retrieve", "digest": 12345})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["digest"].is_array(), "{body}");
    assert_eq!(body["code"], "invalid_argument", "{body}");

    let (status, body) = send(
        srv.post("/api/v1/users")
            .bearer_auth(&admin)
            .json(&json!({"username": 5, "password": "long-enough-pw"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["username"].is_array(), "{body}");

    let (status, body) = send(
        srv.post("/api/v1/users")
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body("{\"username\": "),
    )
    .await;
    assert_eq!(status, 400, "{body}");

    // NUL is refused at the edge with the field's path, on every backend (PostgreSQL would
    // otherwise fail the statement).
    let (status, body) = send(
        srv.post("/admin/login")
            .json(&json!({"username": "a\u{0}b", "password": "whatever-123"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["username"].is_array(), "{body}");
    let (status, body) = send(
        srv.post("/admin/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body("username=a%00b&password=whatever-123"),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = send(
        srv.post("/host/users")
            .header("x-api-key", &key)
            .json(&json!({"username": "root\u{0}", "hostname": "h"})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["username"].is_array(), "{body}");
    let (status, body) =
        send(srv.post("/api/v1/users").bearer_auth(&admin).json(
            &json!({"username": "ok", "password": "long-enough-pw", "display_name": "x\u{0}"}),
        ))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["display_name"].is_array(), "{body}");
    srv.stop().await;
}

on_all_backends!(json_errors_name_the_field);

/// Every route with a path parameter: NUL is refused naming the parameter, bytes that are not
/// UTF-8 name nothing, and both answer in the JSON envelope (scripts in a script).
async fn path_parameters_are_checked_at_the_edge(backend: Backend) {
    let Some(srv) = spawn(backend, auth_on()).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let routes = [
        ("GET", "/api/v1/users/{}"),
        ("PATCH", "/api/v1/users/{}"),
        ("DELETE", "/api/v1/users/{}"),
        ("GET", "/api/v1/oauth/providers/{}"),
        ("PUT", "/api/v1/oauth/providers/{}"),
        ("DELETE", "/api/v1/oauth/providers/{}"),
        ("GET", "/api/v1/providers/{}"),
        ("DELETE", "/api/v1/providers/{}"),
        ("DELETE", "/api/v1/service-tokens/{}"),
        ("DELETE", "/admin/wrappers/{}/1.0.0"),
        ("DELETE", "/api/v1/account/tokens/{}"),
        ("GET", "/admin/hosts/{}"),
        ("GET", "/admin/hosts/{}/auth"),
    ];
    for (method, route) in routes {
        for (param, want) in [("a%00b", 422), ("%FF%FE", 404)] {
            let path = route.replace("{}", param);
            let res = srv
                .http
                .request(method.parse().unwrap(), format!("{}{path}", srv.url))
                .bearer_auth(&admin)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let kind = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let body = res.text().await.unwrap();
            assert_eq!(status, want, "{method} {path}: {status} {body}");
            assert!(
                kind.starts_with("application/json"),
                "{method} {path}: {kind}"
            );
        }
    }
    let res = srv.get("/install/%FF%FE").send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("shellscript")
    );
    let res = srv.get("/seed/auth/a%00b").send().await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().starts_with("#!/usr/bin/env bash"));
    srv.stop().await;
}

on_all_backends!(path_parameters_are_checked_at_the_edge);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_used_installer_link_is_gone_on_every_route() {
    let Some(srv) = spawn(Backend::Sqlite, auth_on()).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (status, body) = send(
        srv.post("/admin/hosts/register")
            .bearer_auth(&admin)
            .json(&json!({"fqdn": "gone.example"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let url = body["data"]["installer"]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = url
        .split_once("/install/")
        .map(|(_, t)| format!("/install/{t}"))
        .unwrap();
    let first = srv.get(&path).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let again = srv.get(&path).send().await.unwrap();
    assert_eq!(again.status(), 410);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("Installer already used")
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_clients_sign_out_with_the_csrf_header_alone() {
    let Some(srv) = spawn(Backend::Sqlite, auth_on()).await else {
        return;
    };
    let res = srv
        .post("/admin/setup")
        .json(&json!({"username": "root", "password": "a-long-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let (_, account) = send(srv.get("/api/v1/account").header("cookie", &cookie)).await;
    let csrf = account["data"]["csrf_token"].as_str().unwrap().to_string();
    let (status, body) = send(
        srv.post("/admin/logout")
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["signed_out"], true, "{body}");
    let (status, _) = send(srv.get("/api/v1/account").header("cookie", &cookie)).await;
    assert_eq!(status, 401);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_clients_read_standard_rich_details() {
    let Some(python) = python() else {
        return;
    };
    let Some(srv) = spawn(Backend::Sqlite, auth_on()).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let mut calls = vec![json!({
        "method": "/codexcentral.auth.v1.TokenService/CreateServiceToken",
        "request_hex": hex::encode(CreateServiceTokenRequest {
            name: "ci".into(),
            scope: 0,
            expires_in_seconds: None,
        }.encode_to_vec()),
    })];
    let login = hex::encode(
        LoginRequest {
            username: "nobody".into(),
            password: "wrong-password-1".into(),
            user_agent: String::new(),
        }
        .encode_to_vec(),
    );
    for _ in 0..11 {
        calls.push(json!({
            "method": "/codexcentral.auth.v1.SessionService/Login",
            "request_hex": login,
        }));
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/grpc_rich_errors.py"
    );
    let mut child = Command::new(python)
        .arg(script)
        .arg(srv.addr.to_string())
        .arg(&admin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json!(calls).to_string().as_bytes())
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();

    let bad = &results[0];
    assert_eq!(bad["code"], "INVALID_ARGUMENT", "{bad}");
    assert_eq!(bad["field_violations"][0]["field"], "scope", "{bad}");
    assert_eq!(bad["reason"], "invalid_argument", "{bad}");
    assert_eq!(bad["domain"], "codex-central", "{bad}");

    assert_eq!(results[1]["code"], "UNAUTHENTICATED", "{}", results[1]);
    let limited = results.last().unwrap();
    assert_eq!(limited["code"], "RESOURCE_EXHAUSTED", "{limited}");
    let delay = limited["retry_delay_secs"].as_u64().unwrap();
    assert!((1..=900).contains(&delay), "{limited}");
    srv.stop().await;
}
