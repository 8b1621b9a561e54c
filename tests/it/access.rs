//! Documented access, enforced: every operation of the OpenAPI document (its `x-access` is the
//! table) called as every kind of principal. Nobody gets past a route they may not call, and a
//! refusal comes before the body is read.

use std::sync::atomic::{AtomicU32, Ordering};

use codex_central::config::Layer;
use serde_json::{Value, json};

use crate::testkit::{Backend, Opts, TestServer, admin_token, spawn};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    BogusBearer,
    Host,
    MemberToken,
    SessionWithoutCsrf,
    SessionWithCsrf,
    ReadToken,
    Admin,
}

const EVERYONE: [Who; 8] = [
    Who::Nobody,
    Who::BogusBearer,
    Who::Host,
    Who::MemberToken,
    Who::SessionWithoutCsrf,
    Who::SessionWithCsrf,
    Who::ReadToken,
    Who::Admin,
];

/// What the table says should happen.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Allowed,
    Unauthenticated,
    Forbidden,
    /// Not pinned down by the table (e.g. a service token on a person's own routes).
    Any,
}

fn expect(access: &str, path: &str, method: &str, who: Who) -> Expect {
    let safe = method == "get";
    match (access, who) {
        ("open", Who::Nobody) => Expect::Allowed,
        ("open", _) => Expect::Any,
        ("host", Who::Host) => Expect::Allowed,
        ("host", _) => Expect::Unauthenticated,
        // The OpenAI-compatible API takes host keys too.
        ("member", Who::Host) if path.starts_with("/v1/") => Expect::Allowed,
        (_, Who::Nobody | Who::BogusBearer | Who::Host) => Expect::Unauthenticated,
        ("member", Who::SessionWithoutCsrf) if !safe => Expect::Forbidden,
        ("member", Who::MemberToken | Who::SessionWithoutCsrf | Who::SessionWithCsrf) => {
            Expect::Allowed
        }
        ("member", Who::ReadToken | Who::Admin) => Expect::Any,
        ("admin-read" | "admin", Who::Admin) => Expect::Allowed,
        ("admin-read", Who::ReadToken) => Expect::Allowed,
        ("admin-read" | "admin", _) => Expect::Forbidden,
        (other, _) => panic!("unknown x-access {other}"),
    }
}

struct Principals {
    host_key: String,
    member_token: String,
    session_cookie: String,
    csrf: String,
    read_token: String,
    admin: String,
}

async fn principals(srv: &TestServer) -> Principals {
    let admin = admin_token(srv).await;
    let host = srv
        .post("/admin/hosts/register")
        .bearer_auth(&admin)
        .json(&json!({"fqdn": "access.example"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let read = srv
        .post("/api/v1/service-tokens")
        .bearer_auth(&admin)
        .json(&json!({"name": "reader", "scope": "read"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let created = srv
        .post("/api/v1/users")
        .bearer_auth(&admin)
        .json(&json!({"username": "mia", "password": "a-long-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let login = srv
        .post("/admin/login")
        .json(&json!({"username": "mia", "password": "a-long-password-1"}))
        .send()
        .await
        .unwrap();
    let session_cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let account: Value = srv
        .get("/api/v1/account")
        .header("cookie", &session_cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let csrf = account["data"]["csrf_token"].as_str().unwrap().to_string();
    let token: Value = srv
        .post("/api/v1/account/tokens")
        .header("cookie", &session_cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "mine"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Principals {
        host_key: host["data"]["host"]["api_key"].as_str().unwrap().into(),
        member_token: token["data"]["token"].as_str().unwrap().into(),
        session_cookie,
        csrf,
        read_token: read["data"]["secret"].as_str().unwrap().into(),
        admin,
    }
}

/// Each stranger comes from an address of its own, so failure budgets never lock out the
/// principals under test; the host always from the address it is bound to.
fn address(who: Who) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    match who {
        Who::Host => "10.9.9.9".into(),
        _ => {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            format!(
                "10.{}.{}.{}",
                100 + (n >> 16) % 100,
                (n >> 8) & 255,
                n & 255
            )
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_admits_exactly_its_documented_principals() {
    let Some(srv) = spawn(
        Backend::Sqlite,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                trusted_proxies: Some(vec!["127.0.0.1/32".into()]),
                ..Layer::default()
            },
        },
    )
    .await
    else {
        return;
    };
    let p = principals(&srv).await;
    let doc: Value = srv
        .get("/api/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ops: Vec<(String, String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let access = op["x-access"].as_str().unwrap().to_string();
            ops.push((method.clone(), path.clone(), access));
        }
    }
    // Deregistering ends the host's key: last.
    ops.sort_by_key(|(m, p, _)| (m == "delete" && p == "/auth", p.clone(), m.clone()));
    assert!(ops.len() > 90, "{} operations", ops.len());
    let mut checked = 0;
    for (method, path, access) in &ops {
        let url = format!("{}{}", srv.url, path.replace('{', "x").replace('}', ""));
        for who in EVERYONE {
            let want = expect(access, path, method, who);
            if want == Expect::Any {
                continue;
            }
            let mut req = srv
                .http
                .request(method.to_uppercase().parse().unwrap(), &url)
                .header("x-forwarded-for", address(who));
            req = match who {
                Who::Nobody => req,
                Who::BogusBearer => req.bearer_auth(format!("cct_{}", "0".repeat(64))),
                Who::Host => req
                    .header("x-api-key", &p.host_key)
                    .bearer_auth(&p.host_key),
                Who::MemberToken => req.bearer_auth(&p.member_token),
                Who::SessionWithoutCsrf => req.header("cookie", &p.session_cookie),
                Who::SessionWithCsrf => req
                    .header("cookie", &p.session_cookie)
                    .header("x-csrf-token", &p.csrf),
                Who::ReadToken => req.bearer_auth(&p.read_token),
                Who::Admin => req.bearer_auth(&p.admin),
            };
            if matches!(method.as_str(), "post" | "put" | "patch") {
                req = req.json(&json!({}));
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            let what = format!("{method} {path} ({access}) as {who:?}: {status} {body}");
            assert_ne!(status, 500, "{what}");
            match want {
                Expect::Allowed => assert!(status != 401 && status != 403, "{what}"),
                Expect::Unauthenticated => assert_eq!(status, 401, "{what}"),
                Expect::Forbidden => assert_eq!(status, 403, "{what}"),
                Expect::Any => {}
            }
            checked += 1;
        }
    }
    eprintln!("checked {checked} calls over {} operations", ops.len());
    srv.stop().await;
}

/// A stranger's upload is refused before its body is read: sixteen concurrent 8 MiB uploads
/// to the wrapper route all get 401 without the server reading them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_refused_before_their_bodies_are_read() {
    let Some(srv) = spawn(
        Backend::Sqlite,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                ..Layer::default()
            },
        },
    )
    .await
    else {
        return;
    };
    let big = vec![b'x'; 8 * 1024 * 1024];
    let calls = (0..16).map(|_| {
        srv.post("/admin/wrappers")
            .header("content-type", "multipart/form-data; boundary=x")
            .body(big.clone())
            .send()
    });
    for res in futures::future::join_all(calls).await {
        // The server may answer and close before the client finished sending.
        match res {
            Ok(res) => assert_eq!(res.status(), 401),
            Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
        }
    }
    let res = srv
        .post("/api/v1/users")
        .json(&json!({"username": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    srv.stop().await;
}
