//! `/mcp` over plain HTTP, as any MCP client speaks it: the memory tools and resources on
//! every backend, with a host key and a personal token; the transport rules (credentials, IP
//! binding, insecure windows, Origin and Host, JSON-RPC errors for bad bodies, protocol
//! versions); the access log. The official Python SDK and the Codex CLI are in `mcp_clients`.

use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::on_all_backends;
use crate::testkit::{
    Backend, Ready, admin_token, auth_on, auth_on_behind_proxy, json as json_of, new_token,
    register_host, sign_in, spawn,
};

pub const ACCEPT: &str = "application/json, text/event-stream";

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// An MCP client over raw HTTP: one JSON-RPC message per POST.
pub struct Mcp {
    pub http: reqwest::Client,
    pub url: String,
    pub token: String,
}

impl Mcp {
    pub fn new(base: &str, token: &str) -> Self {
        Mcp {
            http: reqwest::Client::new(),
            url: format!("{base}/mcp"),
            token: token.to_string(),
        }
    }

    /// Posts `body` as it is: status, headers and the JSON answer (`null` when none).
    pub async fn post(&self, body: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
        let mut map = HeaderMap::new();
        map.insert("accept", ACCEPT.parse().unwrap());
        map.insert("content-type", "application/json".parse().unwrap());
        if !self.token.is_empty() {
            map.insert(
                "authorization",
                format!("Bearer {}", self.token).parse().unwrap(),
            );
        }
        // A test's own headers replace the defaults.
        for (k, v) in headers {
            map.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let req = self
            .http
            .post(&self.url)
            .headers(map)
            .body(body.to_string());
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }

    /// A request that must be answered 200: the whole JSON-RPC response.
    pub async fn request(&self, method: &str, params: Value) -> Value {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        // What clients send after initialize (never on it).
        let (status, _, answer) = self
            .post(&body.to_string(), &[("mcp-protocol-version", "2025-06-18")])
            .await;
        assert_eq!(status, 200, "{method}: {answer}");
        assert_eq!(answer["id"], id, "{answer}");
        answer
    }

    /// A tool call: whether it failed, and its JSON text.
    pub async fn tool(&self, name: &str, arguments: Value) -> (bool, Value) {
        let answer = self
            .request(
                "tools/call",
                json!({ "name": name, "arguments": arguments }),
            )
            .await;
        let result = &answer["result"];
        assert!(result.is_object(), "{name}: {answer}");
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        (
            result["isError"] == true,
            serde_json::from_str(text).unwrap_or(Value::Null),
        )
    }

    pub async fn ok(&self, name: &str, arguments: Value) -> Value {
        let (failed, body) = self.tool(name, arguments).await;
        assert!(!failed, "{name} failed: {body}");
        body
    }
}

fn initialize(version: &str) -> String {
    json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": { "name": "codex-central-tests", "version": "1" } } })
    .to_string()
}

async fn tools_and_resources(r: Ready) {
    let key = r.host_key("mcp.example.com").await;
    let host = Mcp::new(&r.srv.url, &key);

    let (status, _, init) = host.post(&initialize("2025-06-18"), &[]).await;
    assert_eq!(status, 200, "{init}");
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18", "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "codex-central");
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );
    assert!(
        init["result"]["capabilities"]["resources"].is_object(),
        "{init}"
    );
    let (status, _, _) = host
        .post(
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            &[],
        )
        .await;
    assert_eq!(status, 202);

    // The memory tools; the workspace tools only once the fleet enables them.
    let listed = host.request("tools/list", json!({})).await;
    let mut names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "memory_append",
            "memory_delete",
            "memory_list",
            "memory_query",
            "memory_retrieve",
            "memory_search",
            "memory_store"
        ]
    );
    for t in listed["result"]["tools"].as_array().unwrap() {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
    }

    let stored = host
        .ok(
            "memory_store",
            json!({ "id": "notes:deploy", "content": "The deploy script lives in ops/deploy.sh and needs the staging token", "tags": ["Ops"] }),
        )
        .await;
    assert_eq!(stored["status"], "created", "{stored}");
    assert_eq!(stored["memory"]["host"], "mcp.example.com", "{stored}");
    assert_eq!(stored["memory"]["tags"], json!(["ops"]));
    let again = host
        .ok(
            "memory_store",
            json!({ "id": "notes:deploy", "content": "The deploy script lives in ops/deploy.sh and needs the staging token", "tags": ["ops"] }),
        )
        .await;
    assert_eq!(again["status"], "unchanged", "{again}");
    // The peer's dotted name.
    host.ok(
        "memory.store",
        json!({ "id": "notes:lunch", "content": "Lunch is at noon in the big room" }),
    )
    .await;

    let found = host
        .ok("memory_search", json!({ "query": "deploy script" }))
        .await;
    assert_eq!(found["matches"][0]["id"], "notes:deploy", "{found}");
    assert!(found["matches"][0]["score"].as_f64().unwrap() > 0.0);
    let tagged = host
        .ok("memory_search", json!({ "query": "", "tags": ["ops"] }))
        .await;
    assert_eq!(tagged["count"], 1, "{tagged}");
    let got = host
        .ok("memory_retrieve", json!({ "id": "notes:deploy" }))
        .await;
    assert_eq!(got["status"], "found");
    let missing = host
        .ok("memory_retrieve", json!({ "id": "notes:nothing" }))
        .await;
    assert_eq!(
        (missing["status"].as_str(), &missing["memory"]),
        (Some("missing"), &Value::Null)
    );

    host.ok(
        "memory_append",
        json!({ "resource_id": "ticket-7", "text": "first note: caching breaks on cold start" }),
    )
    .await;
    host.ok(
        "memory_append",
        json!({ "resource_id": "ticket-7", "text": "second note: retry logic is fine" }),
    )
    .await;
    let q = host
        .ok(
            "memory_query",
            json!({ "resource_id": "ticket-7", "query": "caching", "top_k": 5 }),
        )
        .await;
    assert_eq!(q["count"], 1, "{q}");
    let page1 = host.ok("memory_list", json!({ "limit": 2 })).await;
    assert_eq!(page1["count"], 2, "{page1}");
    let cursor = page1["next_cursor"].as_str().unwrap().to_string();
    let page2 = host
        .ok("memory_list", json!({ "limit": 2, "cursor": cursor }))
        .await;
    assert_eq!(page2["count"], 2, "{page2}");
    assert_ne!(page1["memories"][0]["id"], page2["memories"][0]["id"]);
    let chunks = host
        .ok("memory_list", json!({ "resource_id": "ticket-7" }))
        .await;
    assert_eq!(chunks["count"], 2, "{chunks}");

    // Tool errors are results the model reads, naming the argument.
    let (failed, body) = host.tool("memory_store", json!({ "tags": ["x"] })).await;
    assert!(failed);
    assert!(
        body["error"]["fields"]["arguments.content"].is_string(),
        "{body}"
    );
    let (failed, body) = host
        .tool(
            "memory_store",
            json!({ "content": "x".repeat(64 * 1024 + 1) }),
        )
        .await;
    assert!(failed);
    assert!(
        body["error"]["fields"]["arguments.content"].is_string(),
        "{body}"
    );
    let (failed, body) = host
        .tool(
            "memory_store",
            json!({ "content": "bad id", "id": "no spaces" }),
        )
        .await;
    assert!(failed);
    assert!(
        body["error"]["fields"]["arguments.id"].is_string(),
        "{body}"
    );
    let (failed, body) = host
        .tool("memory_list", json!({ "cursor": "garbage!" }))
        .await;
    assert!(failed);
    assert!(
        body["error"]["fields"]["arguments.cursor"].is_string(),
        "{body}"
    );
    let (failed, body) = host.tool("memory_search", json!({ "limit": "ten" })).await;
    assert!(failed);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("arguments.limit"),
        "{body}"
    );
    // An unknown tool is a protocol error.
    let unknown = host
        .request("tools/call", json!({ "name": "rm_rf", "arguments": {} }))
        .await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    // So are the workspace tools while the workspace is disabled: they are not offered.
    let (failed, body) = host.tool("fs_read_file", json!({ "path": "a.txt" })).await;
    assert!(failed, "{body}");
    assert_eq!(body["error"]["code"], "workspace_disabled", "{body}");

    // Resources: the template, the list with cursors, reads by percent-encoded id.
    let templates = host.request("resources/templates/list", json!({})).await;
    assert_eq!(
        templates["result"]["resourceTemplates"][0]["uriTemplate"],
        "memory://{id}"
    );
    let listed = host.request("resources/list", json!({})).await;
    let uris: Vec<&str> = listed["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert!(uris.contains(&"memory://notes%3Adeploy"), "{uris:?}");
    assert_eq!(listed["result"]["resources"][0]["mimeType"], "text/plain");
    let read = host
        .request(
            "resources/read",
            json!({ "uri": "memory://notes%3Adeploy" }),
        )
        .await;
    assert_eq!(
        read["result"]["contents"][0]["text"],
        "The deploy script lives in ops/deploy.sh and needs the staging token"
    );
    assert_eq!(read["result"]["contents"][0]["mimeType"], "text/plain");
    let gone = host
        .request(
            "resources/read",
            json!({ "uri": "memory://notes%3Anothing" }),
        )
        .await;
    assert_eq!(gone["error"]["code"], -32002, "{gone}");
    let bad = host
        .request("resources/read", json!({ "uri": "file:///etc/passwd" }))
        .await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");

    // A person's token: their own memories, and the host's stay the host's.
    let session = sign_in(&r.srv, &r.admin, "mona").await;
    let token = new_token(&r.srv, &session, json!({ "name": "mcp" })).await;
    let person = Mcp::new(&r.srv.url, &token);
    let mine = person
        .ok(
            "memory_store",
            json!({ "content": "Mona prefers short commit messages" }),
        )
        .await;
    assert_eq!(mine["memory"]["owner"], "user", "{mine}");
    let theirs = person
        .ok("memory_search", json!({ "query": "deploy script" }))
        .await;
    assert_eq!(theirs["count"], 0, "{theirs}");
    let (failed, _) = person
        .tool(
            "memory_store",
            json!({ "content": "for all", "shared": true }),
        )
        .await;
    assert!(failed, "members cannot write fleet-shared memories");

    let deleted = host
        .ok("memory_delete", json!({ "id": "notes:deploy" }))
        .await;
    assert_eq!(deleted["status"], "deleted");
    let again = host
        .ok("memory_delete", json!({ "id": "notes:deploy" }))
        .await;
    assert_eq!(again["status"], "missing");

    // Every call is in the access log, failures marked (written in batches: poll).
    let mut logs = Value::Null;
    for _ in 0..50 {
        let (status, body) = r.admin_get("/admin/mcp/logs?limit=500").await;
        assert_eq!(status, 200, "{body}");
        logs = body["data"]["logs"].clone();
        // The last calls were the two deletes.
        let deletes = logs.as_array().map_or(0, |l| {
            l.iter().filter(|e| e["target"] == "memory_delete").count()
        });
        if deletes == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let logs = logs.as_array().unwrap().clone();
    let stores: Vec<&Value> = logs
        .iter()
        .filter(|l| l["method"] == "tools/call" && l["target"] == "memory_store")
        .collect();
    assert!(
        stores
            .iter()
            .any(|l| l["is_error"] == true && !l["error"].as_str().unwrap().is_empty())
    );
    assert!(
        stores
            .iter()
            .any(|l| l["is_error"] == false && l["principal_name"] == "mcp.example.com")
    );
    assert!(
        logs.iter()
            .any(|l| l["principal_kind"] == "user" && l["principal_name"] == "mona"),
        "{logs:?}"
    );
    assert!(logs.iter().any(|l| l["method"] == "resources/read"));
    for l in &logs {
        assert!(
            !l.to_string().contains("staging token"),
            "no content in the log: {l}"
        );
    }
    let (status, _) = crate::testkit::json(
        r.srv
            .get("/admin/mcp/logs")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403, "members do not read the access log");
}

on_all_backends!(ready(auth_on()) => tools_and_resources);

/// Credentials, the host rules of `/auth`, Origin, Host, and JSON-RPC errors for whatever the
/// SDK would refuse in plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_rules() {
    let Some(srv) = spawn(Backend::Sqlite, auth_on_behind_proxy()).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register_host(&srv, &admin, "rules.example.com").await;
    let from = |ip: &'static str| [("x-forwarded-for", ip)];
    let init = initialize("2025-06-18");

    // No credential, a wrong one.
    let anonymous = Mcp::new(&srv.url, "");
    let (status, headers, body) = anonymous.post(&init, &from("198.51.100.7")).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], -32001, "{body}");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let wrong = Mcp::new(&srv.url, &"0".repeat(64));
    let (status, _, body) = wrong.post(&init, &from("198.51.100.7")).await;
    assert_eq!(
        (status, body["jsonrpc"].as_str()),
        (401, Some("2.0")),
        "{body}"
    );

    // The first call binds the host to its address; another address is refused.
    let host = Mcp::new(&srv.url, &key);
    let (status, _, body) = host.post(&init, &from("198.51.100.7")).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = host.post(&init, &from("198.51.100.8")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], -32099, "{body}");

    // An insecure host works only while its window is open.
    let (status, lab) = json_of(
        srv.post("/admin/hosts/register")
            .bearer_auth(&admin)
            .json(&json!({ "fqdn": "lab.example.com", "secure": false }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{lab}");
    let lab_host = Mcp::new(&srv.url, lab["data"]["host"]["api_key"].as_str().unwrap());
    let lab_id = lab["data"]["host"]["id"].clone();
    let (status, _, body) = lab_host.post(&init, &from("198.51.100.9")).await;
    assert_eq!(status, 200, "window open: {body}");
    let (status, body) = json_of(
        srv.post(&format!("/admin/hosts/{lab_id}/insecure/disable"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = lab_host.post(&init, &from("198.51.100.9")).await;
    assert_eq!(status, 403, "window closed: {body}");

    let ip = from("198.51.100.7");
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut h = ip.to_vec();
        h.extend_from_slice(extra);
        h
    };
    // Origin: absent or the public URL's passes; another is refused before anything else.
    let own_origin = srv.url.clone();
    let (status, _, _) = host
        .post(
            &init,
            &[
                ("x-forwarded-for", "198.51.100.7"),
                ("origin", own_origin.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, body) = host
        .post(&init, &with(&[("origin", "https://evil.example")]))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!(-32099)),
        "{body}"
    );
    let (status, _, body) = anonymous
        .post(&init, &with(&[("origin", "https://evil.example")]))
        .await;
    assert_eq!(status, 403, "Origin is checked before credentials: {body}");
    // A Host that is not the public URL's (DNS rebinding) is refused by the SDK, in JSON-RPC.
    let (status, _, body) = host
        .post(&init, &with(&[("host", "rebound.example:8488")]))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (403, &json!(-32099)),
        "{body}"
    );

    // Bodies: bad JSON is -32700; a batch, a non-message, a wrong Content-Type are -32600.
    let (status, _, body) = host.post("{not json", &ip).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!(-32700)),
        "{body}"
    );
    assert_eq!(body["id"], Value::Null);
    let (status, _, body) = host.post(&format!("[{init}]"), &ip).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!(-32600)),
        "{body}"
    );
    let (status, _, body) = host.post(r#"{"hello":"world"}"#, &ip).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (400, &json!(-32600)),
        "{body}"
    );
    let (status, _, body) = host
        .post(&init, &with(&[("content-type", "text/plain")]))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (415, &json!(-32600)),
        "{body}"
    );
    // No event stream to open: GET is 405 with Allow: POST.
    let res = srv
        .get("/mcp")
        .bearer_auth(&key)
        .header("accept", "text/event-stream")
        .header("x-forwarded-for", "198.51.100.7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    // The REST shortcuts beside /mcp are still theirs.
    let (status, body) = json_of(
        srv.post("/mcp/memories/search")
            .header("x-api-key", &key)
            .header("x-forwarded-for", "198.51.100.7")
            .json(&json!({ "query": "" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["data"]["status"].as_str()),
        (200, Some("ok")),
        "{body}"
    );

    // Protocol versions: each supported one is kept, anything else gets the newest.
    for (asked, answered) in [
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2024-11-05", "2025-11-25"),
        ("2031-01-01", "2025-11-25"),
    ] {
        let (status, _, body) = host.post(&initialize(asked), &ip).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["result"]["protocolVersion"], answered,
            "asked {asked}: {body}"
        );
    }
    srv.stop().await;
}

/// The workspace tools once enabled: a file bigger than gRPC's default message limit goes in
/// and comes back whole; escapes are tool errors naming the path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_tools_take_big_files() {
    let Some(r) = Ready::start(Backend::Sqlite, auth_on()).await else {
        return;
    };
    let (status, body) = r
        .admin_put(
            "/api/v1/memory/settings",
            json!({ "workspace_enabled": true, "workspace_max_file_bytes": 16 * 1024 * 1024 }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["workspace_enabled"], true, "{body}");
    let host = Mcp::new(&r.srv.url, &r.host_key("files.example.com").await);
    let listed = host.request("tools/list", json!({})).await;
    assert_eq!(listed["result"]["tools"].as_array().unwrap().len(), 12);

    let big = "0123456789abcdef\n".repeat(6 * 1024 * 1024 / 17);
    let written = host
        .ok(
            "fs_write_file",
            json!({ "path": "logs/big.txt", "content": big }),
        )
        .await;
    assert_eq!(written["entry"]["size_bytes"], big.len(), "{written}");
    let read = host
        .ok("fs_read_file", json!({ "path": "logs/big.txt" }))
        .await;
    assert_eq!(read["content"].as_str().unwrap().len(), big.len());
    assert_eq!(read["encoding"], "utf-8");
    let binary = host
        .ok(
            "fs_write_file",
            json!({ "path": "bin/blob", "content": "AP8AAQ==", "encoding": "base64" }),
        )
        .await;
    assert_eq!(binary["entry"]["size_bytes"], 4, "{binary}");
    let back = host.ok("fs_read_file", json!({ "path": "bin/blob" })).await;
    assert_eq!(
        (back["encoding"].as_str(), back["content"].as_str()),
        (Some("base64"), Some("AP8AAQ=="))
    );
    for path in [
        "../x",
        "/etc/passwd",
        "a/../../b",
        "a\\b",
        "a\u{0}b",
        "C:\\x",
    ] {
        let (failed, body) = host.tool("fs_read_file", json!({ "path": path })).await;
        assert!(failed, "{path:?}");
        assert!(
            body["error"]["fields"]["arguments.path"].is_string(),
            "{path:?}: {body}"
        );
    }
    r.srv.stop().await;
}
