//! Translation on the wire: a Responses client against a Chat Completions upstream and the
//! reverse, streamed and not, with the failures a real upstream produces (4xx, stalls, garbage);
//! and personal tokens on `/v1` (model allow-list, per-minute limits shared by two replicas, BYOK
//! keys with their fallback).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use codex_central::config::Layer;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify};

use crate::on_all_backends;
use crate::testkit::{
    Backend, Opts, REPLICA_KEY, TestServer, admin_token, new_token, sign_in, spawn, spawn_with,
};

#[derive(Default)]
struct Seen {
    bodies: Mutex<Vec<Value>>,
    auth: Mutex<Vec<String>>,
    release: Notify,
    /// Models whose streamed answer was dropped before it ended (the connection went away).
    abandoned: std::sync::Mutex<Vec<String>>,
}

/// Notes an answer as abandoned when its stream is dropped before the end.
struct Abandon(Arc<Seen>, String, bool);

impl Drop for Abandon {
    fn drop(&mut self) {
        if !self.2
            && let Ok(mut a) = self.0.abandoned.lock()
        {
            a.push(self.1.clone());
        }
    }
}

fn sse_body<S>(s: S) -> axum::response::Response
where
    S: futures::Stream<Item = Result<String, std::io::Error>> + Send + 'static,
{
    let mut res = Body::from_stream(s).into_response();
    res.headers_mut()
        .insert("content-type", "text/event-stream".parse().unwrap());
    res
}

fn chat_chunk(delta: Value, finish: Option<&str>) -> String {
    let c = json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1, "model": "up",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {c}\n\n")
}

/// A Chat Completions upstream whose behaviour is chosen by the model name.
async fn chat_upstream(
    State(seen): State<Arc<Seen>>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    seen.bodies.lock().await.push(doc.clone());
    seen.auth.lock().await.push(
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    );
    let model = doc["model"].as_str().unwrap_or("").to_string();
    if model == "up-500" {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                json!({"error": {"message": "overloaded, try later", "type": "server_error"}}),
            ),
        )
            .into_response();
    }
    if model == "up-broken" {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": {"message": "max_tokens is too large", "type": "invalid_request_error"}})),
        )
            .into_response();
    }
    if doc["stream"] != true {
        return axum::Json(json!({
            "id": "chatcmpl-7", "object": "chat.completion", "created": 1700000000, "model": model,
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "Checking.", "reasoning_content": "Think first.",
                "tool_calls": [{"id": "call_a", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":1}"}}]}}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 9, "total_tokens": 39,
                      "prompt_tokens_details": {"cached_tokens": 10}, "completion_tokens_details": {"reasoning_tokens": 3}}
        }))
        .into_response();
    }
    let seen = seen.clone();
    let guard = Abandon(seen.clone(), model.clone(), false);
    let stream = futures::stream::unfold((0u8, guard), move |(step, mut guard)| {
        let seen = seen.clone();
        let model = model.clone();
        async move {
            if step == 4 {
                guard.2 = true;
            }
            let text = match (model.as_str(), step) {
                (_, 0) => chat_chunk(json!({"role": "assistant", "reasoning_content": "Hmm."}), None),
                ("up-hang", 1) => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return None;
                }
                ("up-garbage", 1) => "data: {this is not json\n\n".to_string(),
                ("up-error", 1) => "data: {\"error\":{\"message\":\"quota exhausted\",\"code\":\"insufficient_quota\"}}\n\n".to_string(),
                ("up-cut", 1) => return None,
                (_, 1) => {
                    // The client must already have the first events.
                    seen.release.notified().await;
                    chat_chunk(json!({"content": "Hello"}), None)
                }
                (_, 2) => chat_chunk(json!({"content": " there."}), Some("stop")),
                (_, 3) => format!(
                    "data: {}\n\n",
                    json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1, "model": "up", "choices": [],
                           "usage": {"prompt_tokens": 11, "completion_tokens": 4, "total_tokens": 15}})
                ),
                (_, 4) => "data: [DONE]\n\n".to_string(),
                _ => return None,
            };
            Some((Ok(text), (step + 1, guard)))
        }
    });
    sse_body(stream)
}

/// A Responses upstream for Chat clients.
async fn responses_upstream(
    State(seen): State<Arc<Seen>>,
    body: String,
) -> axum::response::Response {
    let doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    seen.bodies.lock().await.push(doc.clone());
    let usage = json!({"input_tokens": 21, "input_tokens_details": {"cached_tokens": 0},
                       "output_tokens": 6, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 27});
    let call = json!({"type": "function_call", "id": "fc_1", "call_id": "call_z", "name": "lookup",
                      "arguments": "{\"q\":2}", "status": "completed"});
    let message = json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                         "content": [{"type": "output_text", "text": "Done.", "annotations": []}]});
    if doc["stream"] != true {
        return axum::Json(json!({"id": "resp_5", "object": "response", "created_at": 1700000000, "status": "completed",
                                 "model": doc["model"], "output": [message, call], "usage": usage}))
        .into_response();
    }
    let events = [
        json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_5", "status": "in_progress", "output": []}}),
        json!({"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
               "item": {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress", "content": []}}),
        json!({"type": "response.output_text.delta", "sequence_number": 2, "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "Done."}),
        json!({"type": "response.output_item.added", "sequence_number": 3, "output_index": 1,
               "item": {"type": "function_call", "id": "fc_1", "call_id": "call_z", "name": "lookup", "arguments": "", "status": "in_progress"}}),
        json!({"type": "response.function_call_arguments.delta", "sequence_number": 4, "item_id": "fc_1", "output_index": 1, "delta": "{\"q\":2}"}),
        json!({"type": "response.completed", "sequence_number": 5,
               "response": {"id": "resp_5", "status": "completed", "output": [message, call], "usage": usage}}),
    ];
    let text: String = events
        .iter()
        .map(|e| format!("event: {}\ndata: {e}\n\n", e["type"].as_str().unwrap()))
        .collect();
    sse_body(futures::stream::iter([Ok(text)]))
}

async fn upstreams() -> (String, String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = axum::Router::new()
        .route(
            "/chat/v1/chat/completions",
            axum::routing::post(chat_upstream),
        )
        .route(
            "/resp/v1/responses",
            axum::routing::post(responses_upstream),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (
        format!("http://{addr}/chat/v1"),
        format!("http://{addr}/resp/v1"),
        seen,
    )
}

async fn add_providers(srv: &TestServer, admin: &str, chat: &str, resp: &str) {
    for body in [
        json!({"name": "chatty", "kind": "openai-compatible", "base_url": chat, "wire_api": "chat",
               "models": [{"name": "m", "upstream": "up-m", "reasoning": true, "max_output_tokens": 1000},
                          {"name": "broken", "upstream": "up-broken"}, {"name": "hang", "upstream": "up-hang"},
                          {"name": "garbage", "upstream": "up-garbage"}, {"name": "error", "upstream": "up-error"},
                          {"name": "cut", "upstream": "up-cut"}, {"name": "down", "upstream": "up-500"},
                          {"name": "leave", "upstream": "up-leave"}],
               "api_key": "sk-shared-chat"}),
        json!({"name": "respy", "kind": "openai", "base_url": resp, "wire_api": "responses",
               "models": [{"name": "r", "upstream": "up-r"}], "api_key": "sk-shared-resp"}),
    ] {
        let res = srv
            .post("/api/v1/providers")
            .bearer_auth(admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
}

async fn read_all(res: reqwest::Response) -> String {
    String::from_utf8(res.bytes().await.unwrap().to_vec()).unwrap()
}

fn event_types(sse: &str) -> Vec<String> {
    sse.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| v["type"].as_str().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_clients_reach_chat_providers_and_back() {
    let (chat, resp, seen) = upstreams().await;
    let srv = spawn(
        Backend::Sqlite,
        Opts {
            layer: Layer {
                upstream_idle_timeout_secs: Some(1),
                ..Default::default()
            },
        },
    )
    .await
    .unwrap();
    add_providers(&srv, "", &chat, &resp).await;
    let v1 = |path: &str, body: Value| srv.post(path).json(&body);

    // Non-streamed, with history: the upstream gets Chat messages, the client a Responses object.
    let res = v1(
        "/v1/responses",
        json!({"model": "m", "instructions": "Be brief.", "max_output_tokens": 5000,
               "reasoning": {"effort": "high"},
               "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
                         {"type": "function_call", "call_id": "call_0", "name": "lookup", "arguments": "{}"},
                         {"type": "function_call_output", "call_id": "call_0", "output": "42"}],
               "tools": [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}, {"type": "web_search"}]}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let out: Value = res.json().await.unwrap();
    let sent = seen.bodies.lock().await.last().unwrap().clone();
    assert_eq!(sent["model"], "up-m");
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(sent["max_tokens"], 1000, "clamped to the model's cap");
    assert_eq!(sent["reasoning_effort"], "high");
    assert_eq!(
        sent["tools"].as_array().unwrap().len(),
        1,
        "only function tools: {sent}"
    );
    assert!(
        sent["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["role"] == "tool" && m["tool_call_id"] == "call_0")
    );
    assert_eq!(out["object"], "response");
    assert_eq!(out["model"], "m", "the client's model name comes back");
    let types: Vec<&str> = out["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["reasoning", "message", "function_call"], "{out}");
    assert_eq!(out["output"][2]["call_id"], "call_a");
    assert_eq!(out["usage"]["input_tokens_details"]["cached_tokens"], 10);
    assert_eq!(out["usage"]["output_tokens_details"]["reasoning_tokens"], 3);

    // Streamed: response.created arrives before the upstream has said more than one chunk.
    let res = v1(
        "/v1/responses",
        json!({"model": "m", "input": "hi", "stream": true}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let mut stream = res.bytes_stream();
    let mut early = String::new();
    while !early.contains("response.reasoning_summary_text.delta") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("events flow before the upstream finishes")
            .unwrap()
            .unwrap();
        early.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(early.starts_with("event: response.created"), "{early}");
    seen.release.notify_one();
    let mut all = early;
    while let Some(chunk) = stream.next().await {
        all.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    let types = event_types(&all);
    for t in [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_item.done",
        "response.completed",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} missing: {types:?}");
    }
    assert_eq!(types.last().unwrap(), "response.completed");
    assert!(
        all.contains("\"Hello\"") && all.contains("\"input_tokens\":11"),
        "{all}"
    );

    // Failures, each clear and in the client's shape.
    let res = v1("/v1/responses", json!({"model": "broken", "input": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["type"], "upstream_error");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_tokens is too large"),
        "{e}"
    );
    let res = v1(
        "/v1/responses",
        json!({"model": "down", "input": "x", "stream": true}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 503, "the upstream's status is kept");
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["type"], "upstream_error");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("overloaded"),
        "{e}"
    );
    for (model, needle) in [
        ("hang", "idle timeout"),
        ("garbage", "malformed"),
        ("error", "quota exhausted"),
        ("cut", "response.failed"),
    ] {
        let started = std::time::Instant::now();
        let res = v1(
            "/v1/responses",
            json!({"model": model, "input": "x", "stream": true}),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(res.status(), 200, "{model}");
        let text = read_all(res).await;
        assert!(started.elapsed() < Duration::from_secs(10), "{model}");
        let types = event_types(&text);
        assert_eq!(
            types.last().map(String::as_str),
            Some("response.failed"),
            "{model}: {text}"
        );
        assert!(text.contains(needle), "{model}: {text}");
    }
    let res = v1(
        "/v1/responses",
        json!({"model": "m", "input": "x", "previous_response_id": "resp_1"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        res.status(),
        400,
        "no server-side conversation state to translate"
    );

    // A Chat client against the Responses provider, both ways.
    let res = v1(
        "/v1/chat/completions",
        json!({"model": "r", "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
               "max_tokens": 50, "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let out: Value = res.json().await.unwrap();
    let sent = seen.bodies.lock().await.last().unwrap().clone();
    assert_eq!(sent["instructions"], "sys");
    assert_eq!(sent["max_output_tokens"], 50);
    assert_eq!(sent["tools"][0]["name"], "lookup");
    assert_eq!(out["object"], "chat.completion");
    assert_eq!(out["choices"][0]["message"]["content"], "Done.");
    assert_eq!(
        out["choices"][0]["message"]["tool_calls"][0]["id"],
        "call_z"
    );
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(out["usage"]["prompt_tokens"], 21);
    let res = v1(
        "/v1/chat/completions",
        json!({"model": "r", "stream": true, "stream_options": {"include_usage": true},
               "messages": [{"role": "user", "content": "hi"}]}),
    )
    .send()
    .await
    .unwrap();
    let text = read_all(res).await;
    assert!(text.trim_end().ends_with("data: [DONE]"), "{text}");
    assert!(
        text.contains("\"content\":\"Done.\"") && text.contains("\"finish_reason\":\"tool_calls\""),
        "{text}"
    );
    assert!(text.contains("\"prompt_tokens\":21"), "usage chunk: {text}");

    // Every call is in the request log with usage where the upstream reported it.
    let mut rows = Vec::new();
    for _ in 0..50 {
        let log: Value = srv
            .get("/api/v1/requests?page_size=100")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        rows = log["data"]["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if rows.len() >= 9 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rows.len() >= 9, "{rows:?}");
    assert!(
        rows.iter()
            .any(|r| r["model"] == "hang" && r["error_code"] == "upstream_timeout"),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r["model"] == "garbage" && r["error_code"] == "upstream_error"),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r["model"] == "m"
            && r["streamed"] == true
            && r["usage"]["input_tokens"] == 11),
        "{rows:?}"
    );
}

/// Two replicas on one database share a token's per-minute request limit; the allow-list and
/// revocation hold on both.
async fn token_policy_across_replicas(backend: Backend) {
    let (chat, resp, _seen) = upstreams().await;
    let Some(a) = spawn(
        backend,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                master_key: Some(REPLICA_KEY.into()),
                ..Default::default()
            },
        },
    )
    .await
    else {
        return;
    };
    let b = spawn_with(
        Layer {
            auth_mode: Some(codex_central::config::AuthMode::On),
            master_key: Some(REPLICA_KEY.into()),
            database_url: Some(a.db.as_ref().unwrap().url.clone()),
            ..Default::default()
        },
        None,
    )
    .await;
    let admin = admin_token(&a).await;
    add_providers(&a, &admin, &chat, &resp).await;
    let session = sign_in(&a, &admin, "frank").await;
    let token = new_token(
        &a,
        &session,
        json!({"name": "ci", "policy": {"allowed_models": ["r"], "requests_per_minute": 3}}),
    )
    .await;
    let call = |srv: &TestServer, model: &str| {
        srv.post("/v1/chat/completions")
            .bearer_auth(&token)
            .json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
            .send()
    };
    let res = call(&a, "m").await.unwrap();
    assert_eq!(res.status(), 403);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["type"], "permission_error");
    assert_eq!(e["error"]["code"], "model_not_allowed");
    let models: Value = b
        .get("/v1/models")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["r"], "the token sees only its models");
    let mut statuses = Vec::new();
    for srv in [&a, &b, &a] {
        statuses.push(call(srv, "r").await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200]);
    let res = call(&b, "r").await.unwrap();
    assert_eq!(
        res.status(),
        429,
        "the fourth call in the minute, on the other replica"
    );
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["type"], "rate_limit_error");

    // Revoked through A: B refuses it within its one-second cache.
    let listed: Value = a
        .get("/api/v1/account/tokens")
        .header("cookie", &session.0)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = listed["data"]["tokens"][0]["id"].as_str().unwrap();
    let res = a
        .delete(&format!("/api/v1/account/tokens/{id}"))
        .header("cookie", &session.0)
        .header("x-csrf-token", &session.1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let res = b
        .get("/v1/models")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"]["type"], "authentication_error");
    let res = a
        .get("/v1/models")
        .bearer_auth(format!("m2c_{}", "0".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    b.stop().await;
}

on_all_backends!(token_policy_across_replicas);

/// A person's own key is used for their calls; one that no longer decrypts falls back to the
/// shared key and is listed as needing re-entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byok_keys_are_used_and_fall_back() {
    let (chat, resp, seen) = upstreams().await;
    let srv = spawn(
        Backend::Sqlite,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                ..Default::default()
            },
        },
    )
    .await
    .unwrap();
    let admin = admin_token(&srv).await;
    add_providers(&srv, &admin, &chat, &resp).await;
    let session = sign_in(&srv, &admin, "grace").await;
    // A token with an expiry stops at its expiry.
    let brief = new_token(&srv, &session, json!({"expires_in_seconds": 1})).await;
    let models = |t: String| srv.get("/v1/models").bearer_auth(t).send();
    assert_eq!(models(brief.clone()).await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(models(brief).await.unwrap().status(), 401, "expired");
    let token = new_token(&srv, &session, json!({})).await;
    let res = srv
        .http
        .put(format!("{}/api/v1/account/byok/chatty", srv.url))
        .header("cookie", &session.0)
        .header("x-csrf-token", &session.1)
        .json(&json!({"key": "sk-grace-own-key"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let call = || {
        srv.post("/v1/responses")
            .bearer_auth(&token)
            .json(&json!({"model": "m", "input": "hi"}))
            .send()
    };
    assert_eq!(call().await.unwrap().status(), 200);
    assert_eq!(
        seen.auth.lock().await.last().unwrap(),
        "Bearer sk-grace-own-key"
    );
    // Another user (or a service token) uses the shared key.
    assert_eq!(
        srv.post("/v1/responses")
            .bearer_auth(&admin)
            .json(&json!({"model": "m", "input": "hi"}))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        seen.auth.lock().await.last().unwrap(),
        "Bearer sk-shared-chat"
    );

    // The stored key stops decrypting (say, a master key rotated without re-encryption).
    let store = codex_central_store::Store::connect(&srv.db.as_ref().unwrap().url)
        .await
        .unwrap();
    let row = codex_central_store::byok_keys::list_all(&store)
        .await
        .unwrap()
        .remove(0);
    let other = codex_central_common::crypto::Keyring::new(
        codex_central_common::crypto::MasterKey::generate().unwrap(),
        Vec::new(),
    );
    let sealed_elsewhere = other.encrypt_str("sk-grace-own-key").unwrap();
    assert!(
        codex_central_store::byok_keys::swap_ciphertext(&store, &row, sealed_elsewhere)
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(call().await.unwrap().status(), 200, "the call still works");
    assert_eq!(
        seen.auth.lock().await.last().unwrap(),
        "Bearer sk-shared-chat"
    );
    let keys: Value = srv
        .get("/api/v1/account/byok")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys["data"]["keys"][0]["status"], "needs_reentry");
    let mut rows = Vec::new();
    for _ in 0..50 {
        let log: Value = srv
            .get("/api/v1/requests")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        rows = log["data"]["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if rows.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sources: Vec<&str> = rows
        .iter()
        .rev()
        .map(|r| r["key_source"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(sources, ["byok", "shared", "shared"], "{rows:?}");
}
