//! Real client libraries against the running gateway: the official OpenAI Python SDK, installed
//! by `scripts/test` into `target/pyclients` (pinned in tests/clients/requirements.txt).

use std::path::PathBuf;

use axum::body::Body;
use axum::response::IntoResponse;
use codex_central::config::Layer;
use serde_json::{Value, json};

use crate::testkit::{Backend, Opts, admin_token, in_ci, spawn};

pub(crate) fn python() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/pyclients/bin/python");
    if path.exists() {
        return Some(path);
    }
    assert!(
        !in_ci(),
        "{} is missing: scripts/test installs the Python test clients",
        path.display()
    );
    eprintln!(
        "skipping: {} is missing (run scripts/test once to install the Python test clients)",
        path.display()
    );
    None
}

fn sse(events: &[Value], chat: bool) -> axum::response::Response {
    let mut text = String::new();
    for e in events {
        if chat {
            text.push_str(&format!("data: {e}\n\n"));
        } else {
            text.push_str(&format!(
                "event: {}\ndata: {e}\n\n",
                e["type"].as_str().unwrap_or("")
            ));
        }
    }
    if chat {
        text.push_str("data: [DONE]\n\n");
    }
    let mut res = Body::from(text).into_response();
    res.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    res
}

fn response_object(status: &str) -> Value {
    json!({
        "id": "resp_1", "object": "response", "created_at": 1_700_000_000, "status": status,
        "model": "up-r", "output": if status == "completed" { json!([{
            "type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello there", "annotations": []}]}]) } else { json!([]) },
        "parallel_tool_calls": true, "tool_choice": "auto", "tools": [],
        "usage": {"input_tokens": 12, "output_tokens": 2, "total_tokens": 14,
                  "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens_details": {"reasoning_tokens": 0}}
    })
}

async fn upstream_responses(body: String) -> axum::response::Response {
    let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if doc["model"] == "up-cx" {
        return responses_for_chat_clients(&doc);
    }
    if doc["stream"] != true {
        return axum::Json(response_object("completed")).into_response();
    }
    let delta = |seq: u32, d: &str| {
        json!({"type": "response.output_text.delta", "sequence_number": seq,
        "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": d, "logprobs": []})
    };
    sse(
        &[
            json!({"type": "response.created", "sequence_number": 0, "response": response_object("in_progress")}),
            delta(1, "Hello"),
            delta(2, " there"),
            json!({"type": "response.completed", "sequence_number": 3, "response": response_object("completed")}),
        ],
        false,
    )
}

/// What a Responses upstream answers the SDK's Chat checks with (reached through translation).
fn responses_for_chat_clients(doc: &Value) -> axum::response::Response {
    let usage = json!({"input_tokens": 5, "output_tokens": 4, "total_tokens": 9,
                       "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}});
    if doc["stream"] != true {
        let call = json!({"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
                          "arguments": "{\"city\":\"Paris\"}", "status": "completed"});
        return axum::Json(json!({"id": "resp_9", "object": "response", "created_at": 1_700_000_000,
                                 "status": "completed", "model": "up-cx", "output": [call], "usage": usage}))
        .into_response();
    }
    let message = json!({"type": "message", "id": "msg_9", "status": "completed", "role": "assistant",
                         "content": [{"type": "output_text", "text": "It is sunny", "annotations": []}]});
    let delta = |seq: u32, d: &str| {
        json!({"type": "response.output_text.delta", "sequence_number": seq,
        "item_id": "msg_9", "output_index": 0, "content_index": 0, "delta": d})
    };
    sse(
        &[
            json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_9", "status": "in_progress", "output": []}}),
            json!({"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
                   "item": {"type": "message", "id": "msg_9", "role": "assistant", "status": "in_progress", "content": []}}),
            delta(2, "It is"),
            delta(3, " sunny"),
            json!({"type": "response.completed", "sequence_number": 4,
                   "response": {"id": "resp_9", "status": "completed", "output": [message], "usage": usage}}),
        ],
        false,
    )
}

/// What a Chat upstream answers the SDK's Responses checks with (reached through translation).
fn chat_for_responses_clients(doc: &Value) -> axum::response::Response {
    let usage = json!({"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14});
    if doc["stream"] != true {
        return axum::Json(json!({
            "id": "chatcmpl-3", "object": "chat.completion", "created": 1_700_000_000, "model": "up-rx",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hello there"}}],
            "usage": usage
        }))
        .into_response();
    }
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-4", "object": "chat.completion.chunk",
        "created": 1_700_000_000, "model": "up-rx", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    sse(
        &[
            chunk(
                json!({"role": "assistant", "content": "Hello"}),
                Value::Null,
            ),
            chunk(json!({"content": " there"}), Value::Null),
            chunk(json!({}), json!("stop")),
            json!({"id": "chatcmpl-4", "object": "chat.completion.chunk", "created": 1_700_000_000,
                   "model": "up-rx", "choices": [], "usage": usage}),
        ],
        true,
    )
}

async fn upstream_chat(body: String) -> axum::response::Response {
    let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if doc["model"] == "up-rx" {
        return chat_for_responses_clients(&doc);
    }
    let usage = json!({"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9});
    if doc["stream"] != true {
        return axum::Json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000, "model": "up-c",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": null,
                "tool_calls": [{"id": "call_1", "type": "function",
                                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
            "usage": usage
        }))
        .into_response();
    }
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-2", "object": "chat.completion.chunk",
        "created": 1_700_000_000, "model": "up-c", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    sse(
        &[
            chunk(json!({"role": "assistant", "content": ""}), Value::Null),
            chunk(json!({"content": "It is"}), Value::Null),
            chunk(json!({"content": " sunny"}), Value::Null),
            chunk(json!({}), json!("stop")),
            json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1_700_000_000,
                   "model": "up-c", "choices": [], "usage": usage}),
        ],
        true,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_python_sdk() {
    let Some(python) = python() else {
        return;
    };
    let app = axum::Router::new()
        .route("/v1/responses", axum::routing::post(upstream_responses))
        .route("/v1/chat/completions", axum::routing::post(upstream_chat));
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
    // Same-API providers, then crossed ones that the gateway translates for.
    for (name, wire, model, up) in [
        ("resp", "responses", "r-model", "up-r"),
        ("chat", "chat", "c-model", "up-c"),
        ("x-chat", "chat", "rx-model", "up-rx"),
        ("x-resp", "responses", "cx-model", "up-cx"),
    ] {
        let res = srv
            .post("/api/v1/providers")
            .bearer_auth(&admin)
            .json(&json!({"name": name, "kind": "openai-compatible", "base_url": upstream, "wire_api": wire,
                          "models": [{"name": model, "upstream": up}], "api_key": "sk-upstream"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    for (responses_model, chat_model) in [("r-model", "c-model"), ("rx-model", "cx-model")] {
        let out = tokio::process::Command::new(&python)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/clients/openai_sdk.py"
            ))
            .env("CC_BASE", &srv.url)
            .env("CC_KEY", &admin)
            .env("CC_RESPONSES_MODEL", responses_model)
            .env("CC_CHAT_MODEL", chat_model)
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "SDK checks failed for {responses_model}/{chat_model}:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("all ok"), "{stdout}");
    }
}
