//! Documented access, enforced: every operation of the OpenAPI document (its `x-access` is the
//! table) called as every kind of principal. Nobody gets past a route they may not call, and a
//! refusal comes before the body is read.

use std::sync::atomic::{AtomicU32, Ordering};

use codex_central::config::Layer;
use serde_json::{Value, json};

use crate::testkit::{Backend, Opts, ServerProcess, TestServer, admin_token, spawn};

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
    /// Past the access check, whatever the service then answers.
    Reachable,
}

fn expect(access: &str, path: &str, method: &str, who: Who) -> Expect {
    let safe = method == "get";
    match (access, who) {
        ("open", Who::Nobody) => Expect::Allowed,
        ("open", _) => Expect::Any,
        ("host", Who::Host) => Expect::Allowed,
        ("host", _) => Expect::Unauthenticated,
        // The OpenAI-compatible API and MCP take host keys too.
        ("member", Who::Host) if path.starts_with("/v1/") || path == "/mcp" => Expect::Allowed,
        // MCP takes bearer credentials only, never a browser session.
        ("member", Who::SessionWithoutCsrf | Who::SessionWithCsrf) if path == "/mcp" => {
            Expect::Unauthenticated
        }
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
                Expect::Any | Expect::Reachable => {}
            }
            checked += 1;
        }
    }
    eprintln!("checked {checked} calls over {} operations", ops.len());
    srv.stop().await;
}

/// The real binary's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A 64 MiB upload streamed from one shared 1 MiB chunk, so the client holds no copies.
fn upload() -> reqwest::Body {
    static CHUNK: std::sync::OnceLock<bytes::Bytes> = std::sync::OnceLock::new();
    let chunk = CHUNK.get_or_init(|| bytes::Bytes::from(vec![b'x'; 1024 * 1024]));
    let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(chunk.clone()));
    reqwest::Body::wrap_stream(futures::stream::iter(chunks))
}

/// A stranger's body is never read: sixteen concurrent unauthenticated 64 MiB uploads to each
/// kind of authenticated route (admin upload, member API, `/v1`, a host route) all get 401,
/// and the real server's resident memory stays within 50 MB of idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_are_refused_before_their_bodies_are_read() {
    codex_central::listener::install_crypto_provider();
    let mut server = ServerProcess::start(&[], &[]).await;
    let base = server.url.clone();
    let http = reqwest::Client::new();
    let pid = server.child.id();
    let idle = rss_kib(pid);
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(idle));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        })
    };
    for (path, content_type) in [
        ("/admin/wrappers", "multipart/form-data; boundary=x"),
        ("/api/v1/users", "application/json"),
        ("/v1/responses", "application/json"),
        ("/usage", "application/json"),
    ] {
        let calls = (0..16).map(|_| {
            http.post(format!("{base}{path}"))
                .header("content-type", content_type)
                .body(upload())
                .send()
        });
        for res in futures::future::join_all(calls).await {
            // The server may answer and close before the client finished sending.
            match res {
                Ok(res) => assert_eq!(res.status(), 401, "{path}"),
                Err(e) => assert!(e.is_request() || e.is_body(), "{path}: {e}"),
            }
        }
    }
    sampler.abort();
    let peak = peak.load(Ordering::Relaxed);
    eprintln!("server RSS idle {idle} KiB, peak {peak} KiB");
    assert!(
        peak.saturating_sub(idle) < 50 * 1024,
        "RSS grew from {idle} KiB to {peak} KiB"
    );
    // An unauthenticated body that would not parse is still 401, not 422.
    let res = http
        .post(format!("{base}/api/v1/users"))
        .json(&json!({"username": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(server.child.wait().unwrap().success(), "a clean shutdown");
}

/// Bytes in, bytes out: lets the test call any RPC by path with an empty message.
#[derive(Clone, Copy)]
struct RawCodec;

struct RawCoder;

impl tonic::codec::Encoder for RawCoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        bytes::BufMut::put_slice(dst, &item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        let n = bytes::Buf::remaining(src);
        Ok(Some(bytes::Buf::copy_to_bytes(src, n).to_vec()))
    }
}

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCoder;
    type Decoder = RawCoder;
    fn encoder(&mut self) -> RawCoder {
        RawCoder
    }
    fn decoder(&mut self) -> RawCoder {
        RawCoder
    }
}

/// What the contract's `Caller:` clause says of a principal, read from the clause's text here
/// rather than through the server's own parser. A kind named with a condition ("member for
/// themselves", "read-only (masked only)") may be refused by the service for the empty
/// message, so it is not pinned down; "(own)" narrows results, not who may ask.
fn expect_grpc(clause: &str, who: Who) -> Expect {
    let kinds: Vec<&str> = clause
        .trim_end_matches('.')
        .split(';')
        .map(str::trim)
        .collect();
    let kind_of = |k: &str| -> (&'static str, bool) {
        let (kind, rest) = if let Some(rest) = k.strip_prefix("admin, read-only") {
            ("read-only", rest)
        } else {
            let word = k.split([' ', '(']).next().unwrap_or_default();
            let word = ["anyone", "admin", "member", "host", "internal", "any"]
                .into_iter()
                .find(|w| *w == word)
                .unwrap_or("?");
            (word, &k[word.len().min(k.len())..])
        };
        let rest = rest.trim();
        (kind, !(rest.is_empty() || rest == "(own)"))
    };
    let named = |kind: &str| {
        kinds
            .iter()
            .map(|k| kind_of(k))
            .find(|(k, _)| *k == kind || (kind == "admin" && *k == "read-only"))
    };
    let judge = |kind: &str| match named(kind) {
        Some((_, true)) => Expect::Any,
        Some((_, false)) => Expect::Allowed,
        None => Expect::Forbidden,
    };
    if named("anyone").is_some() {
        // The service may still refuse the empty message (closed registration, wrong
        // password); the check below makes sure the gate did not.
        return match who {
            Who::Nobody => Expect::Reachable,
            _ => Expect::Any,
        };
    }
    match who {
        Who::Nobody | Who::BogusBearer => Expect::Unauthenticated,
        // grpc-web from a browser: every RPC is a POST and needs the CSRF token.
        Who::SessionWithoutCsrf => Expect::Forbidden,
        _ if clause == "any authenticated principal." => Expect::Allowed,
        Who::Host => judge("host"),
        Who::MemberToken | Who::SessionWithCsrf => judge("member"),
        Who::ReadToken => judge("read-only"),
        Who::Admin => match (judge("admin"), judge("member")) {
            (Expect::Forbidden, other) | (other, _) => other,
        },
    }
}

/// Every gRPC method of every service, called as every kind of principal with an empty
/// message: the contract's `Caller:` clause (the proto comments) is the table. A refused call is
/// `UNAUTHENTICATED` or `PERMISSION_DENIED`; an admitted one may fail for any other reason (the
/// empty message names nothing) but never as an internal error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_admits_exactly_the_callers_its_contract_names() {
    use tonic::Code;
    use tonic::metadata::MetadataValue;
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
    let mut rpcs = codex_central_proto::callers::rpcs().unwrap();
    assert!(rpcs.len() > 150, "{} RPCs", rpcs.len());
    // Calls that end a principal (its key, its session, its account) come last.
    // (The kill switch with an empty message turns every host call off.)
    let ends = |path: &str| {
        [
            "DeregisterHost",
            "Logout",
            "DeleteMyAccount",
            "RevokeSession",
            "SetApiState",
        ]
        .iter()
        .any(|m| path.ends_with(&format!("/{m}")))
    };
    rpcs.sort_by_key(|r| ends(&r.path));
    let channel = srv.channel().await;
    let mut checked = 0;
    let mut failures = Vec::new();
    for rpc in &rpcs {
        for who in EVERYONE {
            let want = expect_grpc(&rpc.clause, who);
            if want == Expect::Any {
                continue;
            }
            let mut req = tonic::Request::new(Vec::<u8>::new());
            let md = req.metadata_mut();
            md.insert("x-forwarded-for", address(who).parse().unwrap());
            let bearer = |t: &str| -> MetadataValue<_> { format!("Bearer {t}").parse().unwrap() };
            match who {
                Who::Nobody => {}
                Who::BogusBearer => {
                    md.insert("authorization", bearer(&format!("cct_{}", "0".repeat(64))));
                }
                Who::Host => {
                    md.insert("authorization", bearer(&p.host_key));
                }
                Who::MemberToken => {
                    md.insert("authorization", bearer(&p.member_token));
                }
                Who::SessionWithoutCsrf => {
                    md.insert("cookie", p.session_cookie.parse().unwrap());
                }
                Who::SessionWithCsrf => {
                    md.insert("cookie", p.session_cookie.parse().unwrap());
                    md.insert("x-csrf-token", p.csrf.parse().unwrap());
                }
                Who::ReadToken => {
                    md.insert("authorization", bearer(&p.read_token));
                }
                Who::Admin => {
                    md.insert("authorization", bearer(&p.admin));
                }
            }
            let mut grpc = tonic::client::Grpc::new(channel.clone());
            grpc.ready().await.unwrap();
            let path: http::uri::PathAndQuery = rpc.path.parse().unwrap();
            let result = if rpc.server_streaming {
                match grpc.server_streaming(req, path, RawCodec).await {
                    Ok(res) => res.into_inner().message().await.map(|_| ()),
                    Err(status) => Err(status),
                }
            } else {
                grpc.unary(req, path, RawCodec).await.map(|_| ())
            };
            let (code, message) = match result {
                Ok(()) => (Code::Ok, String::new()),
                Err(s) => (s.code(), s.message().to_string()),
            };
            let refused = matches!(code, Code::Unauthenticated | Code::PermissionDenied);
            let ok = !matches!(code, Code::Internal | Code::Unknown)
                && match want {
                    Expect::Allowed => !refused,
                    Expect::Unauthenticated => code == Code::Unauthenticated,
                    Expect::Forbidden => refused,
                    Expect::Reachable => message != "authentication required",
                    Expect::Any => true,
                };
            if !ok {
                failures.push(format!(
                    "{} ({}) as {who:?}: {code:?} {message:?}, expected {want:?}",
                    rpc.path, rpc.clause
                ));
            }
            checked += 1;
        }
    }
    eprintln!("checked {checked} calls over {} RPCs", rpcs.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    srv.stop().await;
}
