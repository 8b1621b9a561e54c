//! The `/v1` request log: who called, which provider and model, which key, the status, latency,
//! time to first byte and the upstream's usage numbers. Recorded after the answer ended (or the
//! client left), from a spawned task: never on the response path.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use codex_central_common::PrincipalKind;
use codex_central_proto::usage::v1::{
    KeySource, ProxyRequestLog, RecordProxyRequestRequest, TokenTotals,
};
use futures::Stream;
use serde_json::Value;

use super::V1Error;
use crate::GatewayState;
use crate::plumbing::caller::Caller;

/// Answers up to this size are kept whole to read their usage; beyond it only the tail is kept
/// (where a stream's final usage event is).
const KEEP_WHOLE: usize = 1024 * 1024;
const KEEP_TAIL: usize = 64 * 1024;

pub struct CallLog {
    state: GatewayState,
    caller: Caller,
    started: Instant,
    pub entry: ProxyRequestLog,
}

impl CallLog {
    pub fn new(state: &GatewayState, caller: &Caller, endpoint: &str) -> Self {
        let mut entry = ProxyRequestLog {
            endpoint: endpoint.into(),
            client_ip: caller.client_ip.to_string(),
            ..Default::default()
        };
        if let Some(p) = &caller.principal {
            match p.kind {
                PrincipalKind::Host => entry.host_id = p.id.clone(),
                PrincipalKind::ServiceToken => entry.token_id = p.id.clone(),
                PrincipalKind::User | PrincipalKind::LocalAdmin => entry.user_id = p.id.clone(),
            }
        }
        CallLog {
            state: state.clone(),
            caller: caller.clone(),
            started: Instant::now(),
            entry,
        }
    }

    pub fn set_key_source(&mut self, byok: bool) {
        self.entry.key_source = if byok {
            KeySource::Byok
        } else {
            KeySource::Shared
        } as i32;
    }

    /// Records a call that failed before its answer started, and renders the error.
    pub fn fail(self, err: V1Error) -> Response {
        let code = err.log_code().to_string();
        self.finish(err.status.as_u16(), &code, None, Seen::default());
        err.into_response()
    }

    /// Sends the entry from a task of its own.
    pub fn finish(mut self, status: u16, error_code: &str, ttfb: Option<Duration>, seen: Seen) {
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        self.entry.status_code = u32::from(status);
        self.entry.error_code = error_code.into();
        self.entry.latency_ms = ms(self.started.elapsed());
        self.entry.ttfb_ms = ttfb.map(ms).unwrap_or(0);
        self.entry.tokens = seen.usage;
        self.entry.response_id = seen.response_id;
        self.entry.at = Some(prost_types::Timestamp::from(std::time::SystemTime::now()));
        let CallLog {
            state,
            caller,
            entry,
            ..
        } = self;
        tokio::spawn(async move {
            let msg = RecordProxyRequestRequest { log: Some(entry) };
            let sent = state.hot().record_proxy_request(&caller, msg).await;
            if let Err(err) = sent {
                tracing::warn!(error = %err.message(), "could not record a /v1 request");
            }
        });
    }

    fn since_start(&self) -> Duration {
        self.started.elapsed()
    }
}

type Inner = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// Where a translating stream notes that it ended in failure (it still ends cleanly for the
/// client, with an error event), so the log records the error.
pub type ErrorSlot = std::sync::Arc<std::sync::Mutex<Option<&'static str>>>;

/// Passes an upstream answer through untouched while noting when its first byte came and
/// keeping enough of it to read the usage numbers at the end.
pub struct Tap {
    inner: Inner,
    log: Option<CallLog>,
    status: u16,
    ttfb: Option<Duration>,
    kept: Vec<u8>,
    error: Option<ErrorSlot>,
}

impl Tap {
    pub fn new(inner: Inner, log: CallLog, status: u16) -> Self {
        Tap {
            inner,
            log: Some(log),
            status,
            ttfb: None,
            kept: Vec::new(),
            error: None,
        }
    }

    pub fn with_error_slot(mut self, slot: ErrorSlot) -> Self {
        self.error = Some(slot);
        self
    }

    fn keep(&mut self, chunk: &[u8]) {
        self.kept.extend_from_slice(chunk);
        if self.kept.len() > KEEP_WHOLE {
            let cut = self.kept.len() - KEEP_TAIL;
            self.kept.drain(..cut);
        }
    }

    fn end(&mut self, status: u16, error_code: &str) {
        if let Some(mut log) = self.log.take() {
            // Ended early: whatever usage it carried so far is all there will be.
            log.entry.incomplete = !error_code.is_empty();
            log.finish(status, error_code, self.ttfb, seen_in(&self.kept));
        }
    }
}

impl Stream for Tap {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                if self.ttfb.is_none() {
                    self.ttfb = self.log.as_ref().map(CallLog::since_start);
                }
                let chunk = chunk.clone();
                self.keep(&chunk);
            }
            Poll::Ready(Some(Err(_))) => {
                let status = self.status;
                self.end(status, "upstream_stream_error");
            }
            Poll::Ready(None) => {
                let status = self.status;
                let code = self
                    .error
                    .as_ref()
                    .and_then(|slot| slot.lock().ok().and_then(|s| *s))
                    .unwrap_or("");
                self.end(status, code);
            }
            Poll::Pending => {}
        }
        polled
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        // The client went away before the end (the upstream request is dropped with us).
        self.end(499, "client_closed");
    }
}

/// What the log reads of an answer: its usage numbers and the upstream's id for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Seen {
    pub usage: Option<TokenTotals>,
    pub response_id: String,
}

/// Usage and id from a JSON answer (Responses or Chat) or from the last SSE events carrying
/// them (Responses events nest both under `response`; every Chat chunk has the id).
pub fn seen_in(body: &[u8]) -> Seen {
    let id_of = |doc: &Value| {
        doc.get("id")
            .or_else(|| doc.pointer("/response/id"))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty() && id.len() <= 128)
            .map(str::to_string)
    };
    if let Ok(doc) = serde_json::from_slice::<Value>(body) {
        return Seen {
            usage: usage_of(&doc),
            response_id: id_of(&doc).unwrap_or_default(),
        };
    }
    let events: Vec<Value> = sse_events(body).collect();
    Seen {
        usage: events.iter().rev().find_map(usage_of),
        response_id: events.iter().rev().find_map(id_of).unwrap_or_default(),
    }
}

/// The JSON `data:` payloads of an SSE body, in order.
fn sse_events(body: &[u8]) -> impl Iterator<Item = Value> + '_ {
    body.split(|b| *b == b'\n')
        .filter_map(|l| l.strip_prefix(b"data:"))
        .filter_map(|d| serde_json::from_slice::<Value>(d.trim_ascii()).ok())
}

fn usage_of(doc: &Value) -> Option<TokenTotals> {
    let u = doc
        .get("usage")
        .filter(|u| u.is_object())
        .or_else(|| doc.pointer("/response/usage").filter(|u| u.is_object()))?;
    let n = |path: &str| u.pointer(path).and_then(Value::as_u64);
    let (input, output) = match (n("/input_tokens"), n("/prompt_tokens")) {
        (Some(i), _) => (i, n("/output_tokens").unwrap_or(0)),
        (None, Some(p)) => (p, n("/completion_tokens").unwrap_or(0)),
        (None, None) => return None,
    };
    Some(TokenTotals {
        input_tokens: input,
        output_tokens: output,
        total_tokens: n("/total_tokens").unwrap_or(input.saturating_add(output)),
        cached_input_tokens: n("/input_tokens_details/cached_tokens")
            .or_else(|| n("/prompt_tokens_details/cached_tokens"))
            .unwrap_or(0),
        reasoning_output_tokens: n("/output_tokens_details/reasoning_tokens")
            .or_else(|| n("/completion_tokens_details/reasoning_tokens"))
            .unwrap_or(0),
        cache_write_input_tokens: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_read_from_both_apis_and_from_streams() {
        let seen = seen_in(br#"{"id":"resp_1","usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15,"input_tokens_details":{"cached_tokens":4},"output_tokens_details":{"reasoning_tokens":2}}}"#);
        assert_eq!(seen.response_id, "resp_1");
        let r = seen.usage.unwrap();
        assert_eq!(
            (
                r.input_tokens,
                r.cached_input_tokens,
                r.output_tokens,
                r.reasoning_output_tokens,
                r.total_tokens
            ),
            (10, 4, 5, 2, 15)
        );
        let chat = seen_in(b"data: {\"id\":\"chatcmpl-9\",\"choices\":[]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":3,\"completion_tokens_details\":{\"reasoning_tokens\":1}}}\n\ndata: [DONE]\n\n");
        assert_eq!(chat.response_id, "chatcmpl-9");
        let c = chat.usage.unwrap();
        assert_eq!(
            (
                c.input_tokens,
                c.output_tokens,
                c.reasoning_output_tokens,
                c.total_tokens
            ),
            (7, 3, 1, 10)
        );
        let events = seen_in(b"event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_2\",\"usage\":{\"input_tokens\":1,\"output_tokens\":2}}}\n\n");
        assert_eq!(events.response_id, "resp_2");
        assert_eq!(events.usage.unwrap().total_tokens, 3);
        assert_eq!(seen_in(b"not json"), Seen::default());
    }
}
