//! The OpenAI-compatible API against a local upstream server: providers over REST, `/v1/models`,
//! same-API pass-through (streaming and not), upstream errors and timeouts, runtime overrides.

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
use crate::testkit::{Backend, Opts, TestServer, admin_token, json, spawn};

/// What the fake upstream saw, and a gate that holds its streamed answer after the first event.
#[derive(Default)]
struct Seen {
    bodies: Mutex<Vec<Value>>,
    auth: Mutex<Vec<String>>,
    release: Notify,
}

async fn upstream_call(
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
    match doc["model"].as_str().unwrap_or("") {
        "broken" => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(
                json!({"error": {"message": "context too long", "type": "invalid_request_error"}}),
            ),
        )
            .into_response(),
        "hang" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late".into_response()
        }
        _ if doc["stream"] == true => {
            let seen = seen.clone();
            let events = async_stream(seen);
            let mut res = Body::from_stream(events).into_response();
            res.headers_mut()
                .insert("content-type", "text/event-stream".parse().unwrap());
            res
        }
        model => axum::Json(
            json!({"id": "resp_1", "object": "response", "model": model, "output": [],
                              "usage": {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17,
                                        "input_tokens_details": {"cached_tokens": 4},
                                        "output_tokens_details": {"reasoning_tokens": 2}}}),
        )
        .into_response(),
    }
}

/// Two SSE events with a pause between them that only the test ends.
fn async_stream(
    seen: Arc<Seen>,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> + Send {
    futures::stream::unfold(0u8, move |step| {
        let seen = seen.clone();
        async move {
            match step {
                0 => Some((
                    Ok(
                        "event: response.created\ndata: {\"type\":\"response.created\"}\n\n"
                            .to_string(),
                    ),
                    1,
                )),
                1 => {
                    seen.release.notified().await;
                    Some((Ok("event: response.completed\ndata: {\"type\":\"response.completed\"}\n\n".to_string()), 2))
                }
                _ => None,
            }
        }
    })
}

async fn upstream() -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let app = axum::Router::new()
        .route("/v1/responses", axum::routing::post(upstream_call))
        .route("/v1/chat/completions", axum::routing::post(upstream_call))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn add_provider(srv: &TestServer, admin: &str, body: Value) -> (u16, Value) {
    json(
        srv.post("/api/v1/providers")
            .bearer_auth(admin)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn providers_over_rest(backend: Backend) {
    let (url, _) = upstream().await;
    let Some(srv) = spawn(
        backend,
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
    // Presets are seeded once, disabled until a key is set.
    let (status, body) = json(
        srv.get("/api/v1/providers")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["data"]["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["deepseek", "mimo", "openai"]);
    assert!(
        body["data"]["providers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["enabled"] == false)
    );

    let (status, body) = add_provider(
        &srv,
        &admin,
        json!({"name": "local", "kind": "openai-compatible", "base_url": url, "wire_api": "responses",
               "models": [{"name": "m1", "upstream": "up-m1"}, {"name": "m2"}], "api_key": "sk-test-123456"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let p = &body["data"]["provider"];
    assert_eq!(p["api_key_set"], true);
    assert_eq!(p["api_key_suffix"], "…3456");
    assert!(
        !body.to_string().contains("sk-test-123456"),
        "the key is never echoed"
    );
    assert_eq!(
        p["models"][1]["upstream"], "m2",
        "upstream defaults to the name"
    );

    // Validation names the field; conflicts are 409.
    for (bad, field) in [
        (
            json!({"name": "x", "kind": "cohere", "base_url": url}),
            "kind",
        ),
        (
            json!({"name": "x", "kind": "openai", "base_url": "ftp://h"}),
            "base_url",
        ),
        (
            json!({"name": "a b", "kind": "openai", "base_url": url}),
            "name",
        ),
        (
            json!({"name": "x", "kind": "openai", "base_url": url, "models": [{"name": "m1"}]}),
            "models",
        ),
        (
            json!({"name": "x", "kind": "openai", "base_url": url, "wire_api": "grpc"}),
            "wire_api",
        ),
    ] {
        let (status, body) = add_provider(&srv, &admin, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["errors"][field].is_array(), "{bad}: {body}");
    }
    let (status, _) = add_provider(
        &srv,
        &admin,
        json!({"name": "x", "kind": "openai", "base_url": url, "unknown": 1}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = add_provider(
        &srv,
        &admin,
        json!({"name": "local", "kind": "openai", "base_url": url}),
    )
    .await;
    assert_eq!(status, 409);

    // A preset gets enabled by its first key; a blank key on edit keeps the stored one.
    let put = |name: &str, body: Value| {
        srv.http
            .put(format!("{}/api/v1/providers/{name}", srv.url))
            .bearer_auth(&admin)
            .json(&body)
    };
    let (status, body) = json(
        put("deepseek", json!({"kind": "deepseek", "base_url": "https://api.deepseek.com/v1", "models": [{"name": "deepseek-chat"}], "api_key": "sk-ds-abcd"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["provider"]["enabled"], true);
    assert_eq!(body["data"]["provider"]["wire_api"], "chat");
    let (_, body) = json(
        put("deepseek", json!({"kind": "deepseek", "base_url": "https://api.deepseek.com/v1", "models": [{"name": "deepseek-chat"}], "api_key": ""}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["provider"]["api_key_suffix"], "…abcd");
    let (status, _) = json(
        put("nope", json!({"kind": "openai", "base_url": url}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);

    // Members of the public see nothing; /v1/models lists enabled models only.
    let (status, _) = json(srv.get("/api/v1/providers").send().await.unwrap()).await;
    assert_eq!(status, 401);
    let (status, body) = json(
        srv.get("/v1/models")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "list");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["deepseek-chat", "m1", "m2"]);
    assert_eq!(body["data"][1]["owned_by"], "local");
    let (status, body) = json(srv.get("/v1/models").send().await.unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "authentication_error", "{body}");

    let (status, _) = json(
        srv.delete("/api/v1/providers/local")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = json(
        srv.get("/api/v1/providers/local")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
}

on_all_backends!(providers_over_rest);

/// Pass-through on SQLite (storage is covered above): streaming, errors, timeouts, overrides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_pass_through() {
    let (url, seen) = upstream().await;
    let Some(srv) = spawn(
        Backend::Sqlite,
        Opts {
            layer: Layer {
                upstream_idle_timeout_secs: Some(1),
                ..Default::default()
            },
        },
    )
    .await
    else {
        return;
    };
    // Auth mode off: the local admin.
    let admin = "";
    let (status, body) = add_provider(
        &srv,
        admin,
        json!({"name": "local", "kind": "openai-compatible", "base_url": url, "wire_api": "responses",
               "models": [{"name": "m1", "upstream": "up-m1"}, {"name": "m2", "upstream": "up-m2"},
                          {"name": "broken"}, {"name": "hang"}], "api_key": "sk-test-123456"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let call = |body: Value| srv.post("/v1/responses").json(&body);

    // Non-streaming: the upstream gets its model name and the provider key.
    let (status, body) = json(
        call(json!({"model": "m1", "input": "hi", "z": 1.0}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], "up-m1");
    assert_eq!(seen.bodies.lock().await.last().unwrap()["model"], "up-m1");
    assert_eq!(
        seen.bodies.lock().await.last().unwrap()["z"].to_string(),
        "1.0"
    );
    assert_eq!(
        seen.auth.lock().await.last().unwrap(),
        "Bearer sk-test-123456"
    );

    // Streaming: the first event reaches the client while the upstream is still answering.
    let res = call(json!({"model": "m1", "input": "hi", "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = res.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("first event arrives before the upstream finishes")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("response.created"));
    seen.release.notify_one();
    let mut rest = Vec::new();
    while let Some(chunk) = stream.next().await {
        rest.extend_from_slice(&chunk.unwrap());
    }
    assert!(String::from_utf8_lossy(&rest).contains("response.completed"));

    // Upstream errors keep their status, in OpenAI's shape.
    let (status, body) = json(
        call(json!({"model": "broken", "input": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["type"], "upstream_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("context too long")
    );
    // A silent upstream times out as 504.
    let started = std::time::Instant::now();
    let (status, body) = json(
        call(json!({"model": "hang", "input": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 504, "{body}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // Unknown models and bad bodies are the client's errors.
    let (status, body) = json(
        call(json!({"model": "nope", "input": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "model_not_found");
    let (status, body) = json(call(json!({"input": "x"})).send().await.unwrap()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let (status, _) = json(
        srv.post("/v1/responses")
            .body("{oops")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);

    // The runtime override wins until reset.
    let (status, body) = json(
        srv.http
            .put(format!("{}/api/v1/account/override", srv.url))
            .json(&json!({"provider": "local", "model": "m2"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = json(
        call(json!({"model": "m1", "input": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["model"], "up-m2");
    let (status, body) = json(
        srv.http
            .put(format!("{}/api/v1/account/override", srv.url))
            .json(&json!({"provider": "local", "model": "nope"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    json(srv.delete("/api/v1/account/override").send().await.unwrap()).await;
    let (_, body) = json(
        call(json!({"model": "m1", "input": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["model"], "up-m1");

    // Every call is in the request log, with status, key source and the upstream's usage.
    let log = async || {
        json(
            srv.get("/api/v1/requests?page_size=100")
                .send()
                .await
                .unwrap(),
        )
        .await
        .1
    };
    let mut tries = 0;
    let body = loop {
        let body = log().await;
        if body["data"]["requests"]
            .as_array()
            .is_some_and(|r| r.len() >= 9)
            || tries > 40
        {
            break body;
        }
        tries += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let requests = body["data"]["requests"].as_array().unwrap();
    let first = requests.last().unwrap();
    assert_eq!(first["provider"], "local", "{body}");
    assert_eq!(first["model"], "m1");
    assert_eq!(first["upstream_model"], "up-m1");
    assert_eq!(first["key_source"], "shared");
    assert_eq!(first["status"], 200);
    assert_eq!(first["usage"]["input_tokens"], 12);
    assert_eq!(first["usage"]["cached_input_tokens"], 4);
    assert_eq!(first["usage"]["reasoning_output_tokens"], 2);
    assert_eq!(first["usage"]["total_tokens"], 17);
    let statuses: Vec<u64> = requests
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    for want in [422, 504, 404, 400] {
        assert!(statuses.contains(&want), "{want} missing from {statuses:?}");
    }
    assert!(
        requests
            .iter()
            .any(|r| r["streamed"] == true && r["status"] == 200)
    );
    let (status, page) = json(
        srv.get("/api/v1/requests?page_size=2")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let token = page["data"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, next) = json(
        srv.get(&format!("/api/v1/requests?page_size=2&page_token={token}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_ne!(
        next["data"]["requests"][0]["id"],
        page["data"]["requests"][0]["id"]
    );
    let (status, _) = json(
        srv.get("/api/v1/requests?page_size=501")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);

    // An unreachable upstream is 502.
    let (status, _) = add_provider(
        &srv,
        admin,
        json!({"name": "gone", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1", "wire_api": "responses",
               "models": [{"name": "g1"}], "api_key": "sk-x"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = json(
        call(json!({"model": "g1", "input": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 502, "{body}");
}
