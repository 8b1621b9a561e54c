//! Streaming state machines: one upstream SSE event in, the client's encoded SSE events out.
//!
//! Both machines are driven the same way by the wiring: `push` every decoded upstream event,
//! `finish` when the upstream body ends (a `[DONE]` marker finishes them by itself), and `fail`
//! on a timeout or transport error. After the end they ignore everything, so calling `finish`
//! or `fail` again is harmless. Malformed upstream data ends the stream with an error the client
//! can read instead of a silent stop.

mod chat_to_responses;
mod responses_to_chat;

pub use chat_to_responses::ChatToResponses;
pub use responses_to_chat::ResponsesToChat;

/// The error text for upstream data that is not the JSON the protocol promises.
const MALFORMED: &str = "upstream sent malformed stream data";

/// The message of an upstream error object: `{"error":{"message"}}`, `{"error":"text"}` or a
/// Responses `error` event's own `message`.
fn error_message(v: &serde_json::Value) -> Option<String> {
    let err = v.get("error").filter(|e| !e.is_null());
    match err {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(e) => Some(
            super::json::str_at(e, "message")
                .unwrap_or("upstream error")
                .to_owned(),
        ),
        None => None,
    }
}
