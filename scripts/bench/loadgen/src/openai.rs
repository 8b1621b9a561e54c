//! The `/v1` benchmark's parts: an instant OpenAI-shaped upstream, and the request it is sent.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};

const EVENTS: [&str; 4] = [
    "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_b\",\"status\":\"in_progress\"}}\n\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"msg_b\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hello\"}\n\n",
    "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":2,\"item_id\":\"msg_b\",\"output_index\":0,\"content_index\":0,\"delta\":\" there\"}\n\n",
    "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":3,\"response\":{\"id\":\"resp_b\",\"status\":\"completed\",\"usage\":{\"input_tokens\":12,\"output_tokens\":2,\"total_tokens\":14}}}\n\n",
];

async fn responses(body: Bytes) -> Response {
    let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if doc["stream"] == true {
        let chunks = futures::stream::iter(
            EVENTS
                .iter()
                .map(|e| Ok::<_, std::io::Error>(Bytes::from_static(e.as_bytes()))),
        );
        let mut res = Body::from_stream(chunks).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/event-stream"),
        );
        return res;
    }
    axum::Json(json!({
        "id": "resp_b", "object": "response", "status": "completed", "model": doc["model"],
        "output": [{"type": "message", "id": "msg_b", "role": "assistant",
                    "content": [{"type": "output_text", "text": "Hello there"}]}],
        "usage": {"input_tokens": 12, "output_tokens": 2, "total_tokens": 14}
    }))
    .into_response()
}

const CHUNKS: [&str; 5] = [
    "data: {\"id\":\"chatcmpl-b\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"b\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-b\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"b\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-b\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"b\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"chatcmpl-b\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"b\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,\"total_tokens\":14}}\n\n",
    "data: [DONE]\n\n",
];

/// The same answer as [`responses`] from a Chat Completions upstream (for translated calls).
async fn chat(body: Bytes) -> Response {
    let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if doc["stream"] == true {
        let chunks = futures::stream::iter(
            CHUNKS
                .iter()
                .map(|e| Ok::<_, std::io::Error>(Bytes::from_static(e.as_bytes()))),
        );
        let mut res = Body::from_stream(chunks).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/event-stream"),
        );
        return res;
    }
    axum::Json(json!({
        "id": "chatcmpl-b", "object": "chat.completion", "created": 1, "model": doc["model"],
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Hello there"}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}
    }))
    .into_response()
}

/// Serves `POST /v1/responses` and `POST /v1/chat/completions` instantly until killed.
pub async fn serve(bind: &str) -> anyhow::Result<()> {
    let app = axum::Router::new()
        .route("/v1/responses", axum::routing::post(responses))
        .route("/v1/chat/completions", axum::routing::post(chat));
    let listener = tokio::net::TcpListener::bind(bind).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// The request body the benchmark sends.
pub fn request_body(model: &str, stream: bool) -> Bytes {
    Bytes::from(
        json!({"model": model, "input": [{"type": "message", "role": "user",
               "content": [{"type": "input_text", "text": "Say hello"}]}], "stream": stream})
        .to_string(),
    )
}
