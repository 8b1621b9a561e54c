//! The real Codex CLI (npm `@openai/codex`, pinned in tests/clients/package.json and installed
//! by `scripts/test` into `target/node-clients`) against the gateway: a `[model_providers]` entry
//! pointing at `/v1` with `wire_api = "responses"`, a tool-call round trip included.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::IntoResponse;
use codex_central::config::Layer;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::testkit::{Backend, Opts, admin_token, in_ci, spawn};

pub(crate) fn codex() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/node-clients/node_modules/.bin/codex");
    if path.exists() {
        return Some(path);
    }
    assert!(
        !in_ci(),
        "{} is missing: scripts/test installs the Codex CLI",
        path.display()
    );
    eprintln!(
        "skipping: {} is missing (run scripts/test once)",
        path.display()
    );
    None
}

pub(crate) fn sse(events: &[Value]) -> axum::response::Response {
    let text: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")))
        .collect();
    let mut res = Body::from(text).into_response();
    res.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    res
}

pub(crate) fn completed(id: &str, output: Value) -> Value {
    json!({"type": "response.completed", "sequence_number": 9, "response": {
        "id": id, "object": "response", "status": "completed", "output": output,
        "usage": {"input_tokens": 120, "input_tokens_details": {"cached_tokens": 100},
                  "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 127}}})
}

/// Turn 1 asks Codex to run a command; turn 2 (carrying its output) answers in text.
async fn responses_upstream(
    State(seen): State<Arc<Mutex<Vec<Value>>>>,
    body: String,
) -> axum::response::Response {
    let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    seen.lock().await.push(doc.clone());
    let has_output = doc["input"]
        .as_array()
        .is_some_and(|items| items.iter().any(|i| i["type"] == "function_call_output"));
    if !has_output {
        let call = json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec_command",
                          "arguments": "{\"cmd\":\"echo tool-ran\"}", "status": "completed"});
        return sse(&[
            json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1", "status": "in_progress", "output": []}}),
            json!({"type": "response.output_item.done", "sequence_number": 1, "output_index": 0, "item": call}),
            completed("resp_1", json!([call])),
        ]);
    }
    let message = json!({"type": "message", "id": "msg_2", "role": "assistant", "status": "completed",
                         "content": [{"type": "output_text", "text": "The command printed tool-ran.", "annotations": []}]});
    sse(&[
        json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_2", "status": "in_progress", "output": []}}),
        json!({"type": "response.output_item.done", "sequence_number": 1, "output_index": 0, "item": message}),
        completed("resp_2", json!([message])),
    ])
}

/// Runs `codex exec` with a fresh `CODEX_HOME` whose provider `cc` is the gateway.
async fn run_codex(
    codex: &std::path::Path,
    gateway: &str,
    model: &str,
    key: &str,
) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "model = \"{model}\"\nmodel_provider = \"cc\"\n\n[model_providers.cc]\nname = \"codex-central\"\nbase_url = \"{gateway}/v1\"\nwire_api = \"responses\"\nenv_key = \"CC_GATEWAY_KEY\"\nrequest_max_retries = 0\nstream_max_retries = 0\nstream_idle_timeout_ms = 20000\n"
        ),
    )
    .unwrap();
    tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(codex)
            .args([
                "exec",
                "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox",
                "Run echo tool-ran and tell me what it printed",
            ])
            .current_dir(work.path())
            .env("CODEX_HOME", home.path())
            .env("CC_GATEWAY_KEY", key)
            .env_remove("OPENAI_API_KEY")
            .output(),
    )
    .await
    .expect("codex exec finishes")
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_exec_runs_a_tool_through_the_gateway() {
    let Some(codex) = codex() else {
        return;
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/v1/responses", axum::routing::post(responses_upstream))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let Some(srv) = spawn(
        Backend::Sqlite,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                ..Default::default()
            },
        },
    )
    .await
    else {
        return;
    };
    let admin = admin_token(&srv).await;
    let res = srv
        .post("/api/v1/providers")
        .bearer_auth(&admin)
        .json(&json!({"name": "up", "kind": "openai-compatible", "base_url": upstream, "wire_api": "responses",
                      "models": [{"name": "fleet-model", "upstream": "up-model"}], "api_key": "sk-upstream"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let out = run_codex(&codex, &srv.url, "fleet-model", &admin).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "codex failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("The command printed tool-ran."),
        "{stdout}\n{stderr}"
    );
    let seen = seen.lock().await;
    assert_eq!(seen.len(), 2, "one request per model turn");
    assert_eq!(
        seen[0]["model"], "up-model",
        "the gateway routed the public model name"
    );
    let output = seen[1]["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "function_call_output")
        .unwrap();
    assert_eq!(output["call_id"], "call_1");
    assert!(
        output["output"].as_str().unwrap().contains("tool-ran"),
        "{output}"
    );
}

fn chat_sse(chunks: &[Value]) -> axum::response::Response {
    let mut text: String = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
    text.push_str("data: [DONE]\n\n");
    let mut res = Body::from(text).into_response();
    res.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    res
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "deepseek-reasoner",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn usage_chunk() -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "deepseek-reasoner", "choices": [],
           "usage": {"prompt_tokens": 120, "completion_tokens": 7, "total_tokens": 127, "prompt_cache_hit_tokens": 100,
                     "completion_tokens_details": {"reasoning_tokens": 2}}})
}

/// A DeepSeek-style Chat Completions upstream: reasoning first, then a tool call (turn 1) or
/// the answer (turn 2, once the tool's output is in the conversation).
async fn chat_upstream(
    State(seen): State<Arc<Mutex<Vec<Value>>>>,
    body: String,
) -> axum::response::Response {
    let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    seen.lock().await.push(doc.clone());
    let has_output = doc["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"));
    if !has_output {
        return chat_sse(&[
            chunk(
                json!({"role": "assistant", "reasoning_content": "The user wants "}),
                None,
            ),
            chunk(json!({"reasoning_content": "me to run echo."}), None),
            chunk(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                         "function": {"name": "exec_command", "arguments": "{\"cmd\":"}}]}),
                None,
            ),
            chunk(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"echo tool-ran\"}"}}]}),
                None,
            ),
            chunk(json!({}), Some("tool_calls")),
            usage_chunk(),
        ]);
    }
    chat_sse(&[
        chunk(
            json!({"role": "assistant", "reasoning_content": "It printed tool-ran."}),
            None,
        ),
        chunk(json!({"content": "The command printed "}), None),
        chunk(json!({"content": "tool-ran."}), None),
        chunk(json!({}), Some("stop")),
        usage_chunk(),
    ])
}

/// Codex (Responses only) against a provider that speaks only Chat Completions, with reasoning
/// and a tool round trip, authenticated by a person's `m2c_` token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_exec_against_a_chat_completions_provider() {
    let Some(codex) = codex() else {
        return;
    };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/v1/chat/completions", axum::routing::post(chat_upstream))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let Some(srv) = spawn(
        Backend::Sqlite,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                ..Default::default()
            },
        },
    )
    .await
    else {
        return;
    };
    let admin = admin_token(&srv).await;
    let res = srv
        .post("/api/v1/providers")
        .bearer_auth(&admin)
        .json(&json!({"name": "deepseek-local", "kind": "deepseek", "base_url": upstream, "wire_api": "chat",
                      "models": [{"name": "ds", "upstream": "deepseek-reasoner", "reasoning": true}],
                      "api_key": "sk-upstream"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    // A person signs up through the setup page and makes a token for Codex.
    let res = srv
        .post("/admin/setup")
        .json(&json!({"username": "dev", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = res.json::<Value>().await.unwrap()["data"]["csrf_token"]
        .as_str()
        .unwrap()
        .to_string();
    let made: Value = srv
        .post("/api/v1/account/tokens")
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "codex"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = made["data"]["token"].as_str().unwrap().to_string();

    let out = run_codex(&codex, &srv.url, "ds", &token).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "codex failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("The command printed tool-ran."),
        "{stdout}\n{stderr}"
    );
    let seen = seen.lock().await;
    assert_eq!(seen.len(), 2, "one request per model turn");
    let first = &seen[0];
    assert_eq!(first["model"], "deepseek-reasoner");
    assert_eq!(first["stream"], true);
    assert_eq!(first["stream_options"]["include_usage"], true);
    assert_eq!(
        first["messages"][0]["role"], "system",
        "Codex's instructions lead"
    );
    assert!(
        first["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["function"]["name"] == "exec_command")
    );
    let messages = seen[1]["messages"].as_array().unwrap();
    let call = messages
        .iter()
        .find(|m| m["role"] == "assistant" && m["tool_calls"].is_array())
        .expect("the tool call is in the history");
    assert_eq!(call["tool_calls"][0]["id"], "call_1");
    assert_eq!(call["tool_calls"][0]["function"]["name"], "exec_command");
    let tool = messages.iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(tool["tool_call_id"], "call_1");
    assert!(
        tool["content"].as_str().unwrap().contains("tool-ran"),
        "{tool}"
    );
    // DeepSeek's thinking mode needs a tool-calling turn's reasoning sent back with it.
    assert_eq!(
        call["reasoning_content"], "The user wants me to run echo.",
        "{call}"
    );

    // The request log has both turns with the token, the provider and the usage.
    // Written asynchronously after each answer: wait for both rows.
    let mut log = Value::Null;
    for _ in 0..50 {
        log = srv
            .get("/api/v1/requests")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if log["data"]["requests"]
            .as_array()
            .is_some_and(|r| r.len() >= 2)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let rows = log["data"]["requests"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{log}");
    for r in rows {
        assert_eq!(r["provider"], "deepseek-local", "{r}");
        assert_eq!(r["key_source"], "shared", "{r}");
        assert_eq!(r["usage"]["input_tokens"], 120, "{r}");
    }
}
