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

fn codex() -> Option<PathBuf> {
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

fn sse(events: &[Value]) -> axum::response::Response {
    let text: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap_or("")))
        .collect();
    let mut res = Body::from(text).into_response();
    res.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    res
}

fn completed(id: &str, output: Value) -> Value {
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
                auth_mode: Some("on".into()),
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

    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "model = \"fleet-model\"\nmodel_provider = \"cc\"\n\n[model_providers.cc]\nname = \"codex-central\"\nbase_url = \"{}/v1\"\nwire_api = \"responses\"\nenv_key = \"CC_GATEWAY_KEY\"\nrequest_max_retries = 0\nstream_max_retries = 0\nstream_idle_timeout_ms = 20000\n",
            srv.url
        ),
    )
    .unwrap();
    let out = tokio::time::timeout(
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
            .env("CC_GATEWAY_KEY", &admin)
            .env_remove("OPENAI_API_KEY")
            .output(),
    )
    .await
    .expect("codex exec finishes")
    .unwrap();
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
