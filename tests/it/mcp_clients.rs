//! Real MCP clients against `/mcp`: the official Python SDK through a round-robin proxy over
//! two replicas of one PostgreSQL database (stateless: any replica answers any request), and the
//! Codex CLI 0.169 whose model (a local Responses stub) calls `memory_store`, then
//! `memory_search`, and must see the stored memory in the search result.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use codex_central::config::Layer;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::clients::python;
use crate::codex_cli::{codex, completed, sse};
use crate::testkit::{
    Backend, REPLICA_KEY, TestDb, TestServer, admin_token, auth_on, register_host, spawn,
    spawn_with,
};

/// A reverse proxy sending each request to the next backend in turn.
struct RoundRobin {
    backends: Vec<String>,
    next: AtomicUsize,
    served: Vec<AtomicUsize>,
    http: reqwest::Client,
}

async fn forward(State(rr): State<Arc<RoundRobin>>, req: Request) -> Response {
    let i = rr.next.fetch_add(1, Ordering::Relaxed) % rr.backends.len();
    rr.served[i].fetch_add(1, Ordering::Relaxed);
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, 64 * 1024 * 1024).await.unwrap();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = rr
        .http
        .request(parts.method.clone(), format!("{}{path}", rr.backends[i]))
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            out = out.header(name, value);
        }
    }
    let res = out.send().await.unwrap();
    let mut answer = Response::builder().status(res.status());
    for (name, value) in res.headers() {
        if name != "content-length" && name != "transfer-encoding" {
            answer = answer.header(name, value);
        }
    }
    answer.body(Body::from(res.bytes().await.unwrap())).unwrap()
}

async fn round_robin(backends: Vec<String>) -> (String, Arc<RoundRobin>) {
    let rr = Arc::new(RoundRobin {
        served: backends.iter().map(|_| AtomicUsize::new(0)).collect(),
        backends,
        next: AtomicUsize::new(0),
        http: reqwest::Client::new(),
    });
    let app = axum::Router::new().fallback(forward).with_state(rr.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rr)
}

async fn replica(db: &TestDb) -> TestServer {
    spawn_with(
        Layer {
            database_url: Some(db.url.clone()),
            master_key: Some(REPLICA_KEY.into()),
            ..auth_on().layer
        },
        None,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_through_round_robin_replicas() {
    let Some(py) = python() else {
        return;
    };
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let a = replica(&db).await;
    let b = replica(&db).await;
    let admin = crate::testkit::admin_token_in(&db.url).await;
    let (_, key) = register_host(&a, &admin, "sdk.example.com").await;
    let res = b
        .put("/api/v1/memory/settings")
        .bearer_auth(&admin)
        .json(&json!({ "workspace_enabled": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let (proxy, rr) = round_robin(vec![a.url.clone(), b.url.clone()]).await;

    let out = tokio::process::Command::new(&py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/clients/mcp_sdk.py"
        ))
        .arg(format!("{proxy}/mcp"))
        .arg(&key)
        .arg("--workspace")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        rr.served.iter().all(|n| n.load(Ordering::Relaxed) >= 3),
        "both replicas answered: {:?}",
        rr.served
    );

    assert_eq!(seen["protocol_version"], "2025-11-25", "{seen}");
    assert_eq!(seen["server"], "codex-central");
    assert_eq!(seen["schemas_are_objects"], true);
    let tools: Vec<&str> = seen["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for t in [
        "memory_store",
        "memory_retrieve",
        "memory_search",
        "memory_append",
        "memory_query",
        "memory_list",
        "memory_delete",
        "fs_read_file",
        "fs_write_file",
        "fs_list_dir",
        "fs_stat",
        "fs_search_in_files",
    ] {
        assert!(tools.contains(&t), "{t} listed: {tools:?}");
    }
    let calls = seen["calls"].as_array().unwrap();
    let call = |i: usize| &calls[i];
    assert_eq!(call(0)["body"]["status"], "created", "{seen}");
    assert_eq!(call(1)["body"]["status"], "found");
    assert_eq!(call(2)["body"]["matches"][0]["id"], "sdk:note-1");
    assert_eq!(call(3)["is_error"], false);
    assert_eq!(call(4)["body"]["count"], 1, "{}", call(4));
    assert!(call(5)["body"]["count"].as_u64().unwrap() >= 2);
    assert_eq!(call(6)["is_error"], true, "store without content fails");
    assert_eq!(call(7)["body"]["status"], "written", "{}", call(7));
    assert_eq!(call(8)["body"]["content"], "step one\nstep two: rollback\n");
    assert_eq!(
        call(9)["body"]["entries"][0]["path"],
        "notes/plan.md",
        "{}",
        call(9)
    );
    assert_eq!(call(10)["body"]["exists"], true);
    assert_eq!(
        call(11)["body"]["matches"][0]["line_number"],
        2,
        "{}",
        call(11)
    );
    assert_eq!(
        call(12)["is_error"],
        true,
        "path escapes are refused: {}",
        call(12)
    );
    assert_eq!(seen["templates"], json!(["memory://{id}"]));
    assert!(
        seen["resources"]
            .as_array()
            .unwrap()
            .contains(&json!("memory://sdk%3Anote-1")),
        "{seen}"
    );
    assert_eq!(
        seen["read"][0]["text"],
        "The Python SDK remembers the rollout plan"
    );
    assert_eq!(seen["read"][0]["mime_type"], "text/plain");
    assert_eq!(seen["deleted"]["body"]["status"], "deleted");
    a.stop().await;
    b.stop().await;
}

/// The model's side: turn 1 stores a memory, turn 2 searches for it, turn 3 answers.
async fn model(State(seen): State<Arc<Mutex<Vec<Value>>>>, body: String) -> Response {
    let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let outputs = doc["input"].as_array().map_or(0, |items| {
        items
            .iter()
            .filter(|i| i["type"] == "function_call_output")
            .count()
    });
    seen.lock().await.push(doc);
    let call = |id: &str, name: &str, arguments: Value| {
        json!({"type": "function_call", "id": format!("fc_{id}"), "call_id": format!("call_{id}"),
               "name": name, "namespace": "mcp__central", "arguments": arguments.to_string(),
               "status": "completed"})
    };
    let item = match outputs {
        0 => call(
            "1",
            "memory_store",
            json!({"id": "codex:deploy", "content": "Deploys go out on Tuesdays after the canary passes", "tags": ["codex"]}),
        ),
        1 => call("2", "memory_search", json!({"query": "canary deploys"})),
        _ => json!({"type": "message", "id": "msg_3", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": "Deploys go out on Tuesdays.", "annotations": []}]}),
    };
    let id = format!("resp_{outputs}");
    sse(&[
        json!({"type": "response.created", "sequence_number": 0, "response": {"id": id, "status": "in_progress", "output": []}}),
        json!({"type": "response.output_item.done", "sequence_number": 1, "output_index": 0, "item": item}),
        completed(&id, json!([item])),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_exec_stores_and_finds_a_memory() {
    let Some(codex) = codex() else {
        return;
    };
    let Some(srv) = spawn(Backend::Sqlite, auth_on()).await else {
        return;
    };
    let admin = admin_token(&srv).await;
    let (_, key) = register_host(&srv, &admin, "codex.example.com").await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/v1/responses", axum::routing::post(model))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            r#"model = "stub-model"
model_provider = "stub"

[model_providers.stub]
name = "stub"
base_url = "{upstream}"
wire_api = "responses"
env_key = "STUB_KEY"
request_max_retries = 0
stream_max_retries = 0

[mcp_servers.central]
url = "{}/mcp"
http_headers = {{ "Authorization" = "Bearer {key}" }}
default_tools_approval_mode = "approve"
startup_timeout_sec = 20
tool_timeout_sec = 30
"#,
            srv.url
        ),
    )
    .unwrap();
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(&codex)
            .args([
                "exec",
                "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox",
                "Remember when deploys happen, then look it up",
            ])
            .current_dir(work.path())
            .env("CODEX_HOME", home.path())
            .env("STUB_KEY", "stub")
            .env_remove("OPENAI_API_KEY")
            .output(),
    )
    .await
    .expect("codex exec finishes")
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");

    // Server side: the memory landed as the host's (codex exec exits 0 even when MCP failed).
    let (status, body) = crate::testkit::json(
        srv.get("/admin/mcp/memories?q=canary")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["matches"][0]["id"], "codex:deploy",
        "{body}\n{stderr}"
    );
    assert_eq!(
        body["data"]["matches"][0]["host"], "codex.example.com",
        "{body}"
    );

    // The model's side: Codex offered the tools, and the search result reached turn 3.
    let requests = seen.lock().await.clone();
    assert_eq!(requests.len(), 3, "{stderr}");
    let offered = requests[0]["tools"].to_string();
    assert!(
        offered.contains("mcp__central") && offered.contains("memory_search"),
        "{offered}"
    );
    let last = requests[2]["input"].as_array().unwrap();
    let search_output = last
        .iter()
        .find(|i| i["type"] == "function_call_output" && i["call_id"] == "call_2")
        .unwrap_or_else(|| panic!("no search output: {last:?}"));
    let text = search_output["output"].to_string();
    assert!(
        text.contains("codex:deploy") && text.contains("Tuesdays"),
        "{text}"
    );
    srv.stop().await;
}
