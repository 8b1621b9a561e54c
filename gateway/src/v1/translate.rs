//! Calls where the client and the provider speak different APIs (Codex speaks Responses, most
//! providers only Chat Completions): the request is translated, sent, and the answer translated
//! back; a streamed answer event by event as upstream chunks arrive, never buffered.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use codex_central_openai_wire::sse::{SseDecoder, SseEvent};
use codex_central_openai_wire::stream::{ChatToResponses, ResponsesToChat};
use codex_central_openai_wire::{Target, request, response};
use codex_central_proto::config::v1::UpstreamProvider;
use futures::{Stream, StreamExt};
use serde_json::Value;

use super::log::{CallLog, ErrorSlot, Tap};
use super::upstream::{UpstreamClients, send_error};
use super::{ClientApi, V1Error};

/// A non-streamed upstream answer larger than this is refused.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// The upstream request body and path for a client speaking `api` to a provider speaking the
/// other API.
pub fn upstream_request(
    api: ClientApi,
    doc: &Value,
    target: &Target,
) -> Result<(Vec<u8>, &'static str), V1Error> {
    let (body, path) = match api {
        ClientApi::Responses => (request::responses_to_chat(doc, target), "chat/completions"),
        ClientApi::Chat => (request::chat_to_responses(doc, target), "responses"),
    };
    let body = body.map_err(|e| V1Error::invalid(e.0))?;
    let bytes = serde_json::to_vec(&body)
        .map_err(|_| V1Error::invalid("We could not encode the translated request."))?;
    Ok((bytes, path))
}

/// What the translated call needs besides the body.
pub struct Call<'a> {
    pub api: ClientApi,
    pub provider: &'a UpstreamProvider,
    pub key: &'a str,
    pub path: &'static str,
    pub body: Vec<u8>,
    pub streaming: bool,
    /// Chat clients ask for a usage chunk with `stream_options.include_usage`.
    pub include_usage: bool,
    pub requested_model: &'a str,
}

pub async fn call(upstreams: &UpstreamClients, mut call: Call<'_>, log: CallLog) -> Response {
    let body = std::mem::take(&mut call.body);
    let upstream = match upstreams
        .send(call.provider, call.path, call.key, body)
        .await
    {
        Ok(upstream) => upstream,
        Err(e) => return log.fail(e),
    };
    if call.streaming {
        return stream(
            call.api,
            &call.provider.name,
            call.requested_model,
            call.include_usage,
            upstream,
            log,
        );
    }
    match whole_answer(&call, upstream).await {
        Ok(out) => {
            let bytes = serde_json::to_vec(&out).unwrap_or_default();
            log.finish(200, "", None, super::log::seen_in(&bytes));
            Json(out).into_response()
        }
        Err(e) => log.fail(e),
    }
}

/// A non-streamed upstream answer, read whole and translated.
async fn whole_answer(call: &Call<'_>, upstream: reqwest::Response) -> Result<Value, V1Error> {
    let provider = &call.provider.name;
    let mut raw = Vec::new();
    let mut chunks = upstream.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| send_error(provider, &e))?;
        raw.extend_from_slice(&chunk);
        if raw.len() > MAX_ANSWER_BYTES {
            return Err(V1Error::upstream(
                StatusCode::BAD_GATEWAY,
                format!("provider {provider} sent an answer larger than 64 MiB"),
            ));
        }
    }
    let doc: Value = serde_json::from_slice(&raw).map_err(|_| {
        V1Error::upstream(
            StatusCode::BAD_GATEWAY,
            format!("provider {provider} sent an answer that is not JSON"),
        )
    })?;
    Ok(match call.api {
        ClientApi::Responses => response::chat_completion_to_response(&doc, call.requested_model),
        ClientApi::Chat => {
            if doc.get("status").and_then(Value::as_str) == Some("failed") {
                let message = doc
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("the response failed");
                return Err(V1Error::upstream(
                    StatusCode::BAD_GATEWAY,
                    format!("provider {provider}: {message}"),
                ));
            }
            response::response_to_chat_completion(&doc, call.requested_model)
        }
    })
}

enum Machine {
    ToResponses(ChatToResponses),
    ToChat(ResponsesToChat),
}

impl Machine {
    fn push(&mut self, ev: &SseEvent) -> Vec<Bytes> {
        match self {
            Machine::ToResponses(m) => m.push(ev),
            Machine::ToChat(m) => m.push(ev),
        }
    }

    fn finish(&mut self) -> Vec<Bytes> {
        match self {
            Machine::ToResponses(m) => m.finish(),
            Machine::ToChat(m) => m.finish(),
        }
    }

    fn fail(&mut self, message: &str) -> Vec<Bytes> {
        match self {
            Machine::ToResponses(m) => m.fail(message),
            Machine::ToChat(m) => m.fail(message),
        }
    }

    fn is_finished(&self) -> bool {
        match self {
            Machine::ToResponses(m) => m.is_finished(),
            Machine::ToChat(m) => m.is_finished(),
        }
    }

    /// Whether these final bytes end the stream in failure (for the request log).
    fn failed_in(&self, out: &[Bytes]) -> bool {
        let marker: &[u8] = match self {
            Machine::ToResponses(_) => b"response.failed",
            Machine::ToChat(_) => b"{\"error\"",
        };
        out.iter()
            .any(|b| b.windows(marker.len()).any(|w| w == marker))
    }
}

type Upstream = Pin<Box<dyn Stream<Item = Result<Bytes, reqwest::Error>> + Send>>;

/// Upstream SSE in, the client's API's SSE out, one upstream chunk at a time.
struct Translating {
    upstream: Upstream,
    decoder: SseDecoder,
    machine: Machine,
    out: VecDeque<Bytes>,
    done: bool,
    provider: String,
    error: ErrorSlot,
}

impl Translating {
    fn end_with(&mut self, out: Vec<Bytes>, code: Option<&'static str>) {
        let code = code.or_else(|| self.machine.failed_in(&out).then_some("upstream_error"));
        if let Some(code) = code
            && let Ok(mut slot) = self.error.lock()
        {
            *slot = Some(code);
        }
        self.out.extend(out);
        self.done = true;
    }
}

impl Stream for Translating {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(b) = self.out.pop_front() {
                return Poll::Ready(Some(Ok(b)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            match self.upstream.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => match self.decoder.push(&chunk) {
                    Ok(events) => {
                        let mut out = Vec::new();
                        for ev in &events {
                            out.extend(self.machine.push(ev));
                        }
                        if self.machine.is_finished() {
                            self.end_with(out, None);
                        } else {
                            self.out.extend(out);
                        }
                    }
                    Err(_) => {
                        let message = format!(
                            "provider {} sent an event larger than 16 MiB",
                            self.provider
                        );
                        let out = self.machine.fail(&message);
                        self.end_with(out, Some("upstream_bad_stream"));
                    }
                },
                Poll::Ready(Some(Err(e))) => {
                    let (message, code) = if e.is_timeout() {
                        (
                            format!("provider {} stopped sending (idle timeout)", self.provider),
                            "upstream_timeout",
                        )
                    } else {
                        (
                            format!("the stream from provider {} broke off", self.provider),
                            "upstream_stream_error",
                        )
                    };
                    tracing::warn!(provider = %self.provider, error = %e, "translated upstream stream failed");
                    let out = self.machine.fail(&message);
                    self.end_with(out, Some(code));
                }
                Poll::Ready(None) => {
                    let mut out = Vec::new();
                    for ev in self.decoder.finish() {
                        out.extend(self.machine.push(&ev));
                    }
                    out.extend(self.machine.finish());
                    self.end_with(out, None);
                }
            }
        }
    }
}

fn stream(
    api: ClientApi,
    provider: &str,
    requested_model: &str,
    include_usage: bool,
    upstream: reqwest::Response,
    log: CallLog,
) -> Response {
    let mut out = VecDeque::new();
    let machine = match api {
        ClientApi::Responses => {
            let mut m = ChatToResponses::new(requested_model);
            // Codex sees the response start at once, before the upstream's first token.
            out.extend(m.start());
            Machine::ToResponses(m)
        }
        ClientApi::Chat => Machine::ToChat(ResponsesToChat::new(requested_model, include_usage)),
    };
    let error: ErrorSlot = Arc::new(Mutex::new(None));
    let translating = Translating {
        upstream: Box::pin(upstream.bytes_stream()),
        decoder: SseDecoder::new(),
        machine,
        out,
        done: false,
        provider: provider.to_string(),
        error: error.clone(),
    };
    let body = Body::from_stream(Tap::new(Box::pin(translating), log, 200).with_error_slot(error));
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}
