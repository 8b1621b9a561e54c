//! Upstream streams Responses events, the client wants Chat Completions chunks: a Chat client
//! against a Responses-only provider.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{MALFORMED, error_message};
use crate::json::{arguments_string, id_string, non_empty_str_at, str_at};
use crate::response::{finish_reason_for_incomplete, usage_from_responses, usage_to_chat};
use crate::sse::{SseEvent, done, encode};
use crate::{Usage, new_id, now_secs};

/// Responses events → Chat chunks.
///
/// Function calls are numbered 0, 1, … in the order they are added, which is the `index` Chat
/// clients key their tool-call deltas on. Text or arguments that arrive only in a `.done`
/// event (no deltas) are sent from there, so nothing is lost to a terse upstream. With
/// `include_usage` the usage chunk is sent only when the upstream reported usage.
///
/// An upstream that ends without `response.completed` (or `response.incomplete`) was cut off:
/// the client gets an error event rather than a `finish_reason` for a truncated answer.
pub struct ResponsesToChat {
    id: String,
    created: i64,
    model: String,
    include_usage: bool,
    role_sent: bool,
    finished: bool,
    calls: Vec<Call>,
    /// Message items whose text went out as deltas.
    text_sent: Vec<String>,
    /// A new reasoning summary part started: separate it from the previous one.
    reasoning_gap: bool,
    reasoning_sent: bool,
    usage: Option<Usage>,
}

struct Call {
    item_id: String,
    output_index: Option<u64>,
    arguments_sent: bool,
}

impl ResponsesToChat {
    pub fn new(requested_model: &str, include_usage: bool) -> Self {
        ResponsesToChat {
            id: new_id("chatcmpl-"),
            created: now_secs(),
            model: requested_model.to_owned(),
            include_usage,
            role_sent: false,
            finished: false,
            calls: Vec::new(),
            text_sent: Vec::new(),
            reasoning_gap: false,
            reasoning_sent: false,
            usage: None,
        }
    }

    /// One upstream event in, the Chat chunks it completes out.
    pub fn push(&mut self, ev: &SseEvent) -> Vec<Bytes> {
        if self.finished {
            return Vec::new();
        }
        let data = ev.data.trim();
        if data.is_empty() {
            return Vec::new();
        }
        if data == "[DONE]" {
            return self.finish();
        }
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            return self.fail(MALFORMED);
        };
        if !v.is_object() {
            return self.fail(MALFORMED);
        }
        let kind = str_at(&v, "type").or(ev.event.as_deref()).unwrap_or("");
        let mut out = Vec::new();
        match kind {
            "response.output_text.delta" => {
                if let Some(delta) = non_empty_str_at(&v, "delta") {
                    self.mark_text_sent(&v);
                    self.send(&mut out, json!({ "content": delta }));
                }
            }
            "response.output_text.done" => {
                if let Some(text) = non_empty_str_at(&v, "text")
                    && !self.text_was_sent(str_at(&v, "item_id"))
                {
                    self.mark_text_sent(&v);
                    self.send(&mut out, json!({ "content": text }));
                }
            }
            "response.refusal.delta" => {
                if let Some(delta) = non_empty_str_at(&v, "delta") {
                    self.send(&mut out, json!({ "refusal": delta }));
                }
            }
            "response.reasoning_summary_part.added" => {
                self.reasoning_gap = self.reasoning_sent;
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                if let Some(delta) = non_empty_str_at(&v, "delta") {
                    let text = if std::mem::take(&mut self.reasoning_gap) {
                        format!("\n\n{delta}")
                    } else {
                        delta.to_owned()
                    };
                    self.reasoning_sent = true;
                    self.send(&mut out, json!({ "reasoning_content": text }));
                }
            }
            "response.output_item.added" => {
                let item = v.get("item").unwrap_or(&Value::Null);
                if str_at(item, "type") == Some("function_call") {
                    self.add_call(item, v.get("output_index"), &mut out);
                }
            }
            "response.function_call_arguments.delta" => {
                if let (Some(n), Some(delta)) =
                    (self.call_number(&v), non_empty_str_at(&v, "delta"))
                {
                    self.send_arguments(n, delta, &mut out);
                }
            }
            "response.function_call_arguments.done" => {
                if let (Some(n), Some(arguments)) =
                    (self.call_number(&v), non_empty_str_at(&v, "arguments"))
                {
                    self.send_missing_arguments(n, arguments, &mut out);
                }
            }
            "response.output_item.done" => self.item_done(&v, &mut out),
            "response.completed" | "response.incomplete" => {
                let response = v.get("response").unwrap_or(&Value::Null);
                if let Some(u) = response.get("usage").and_then(usage_from_responses) {
                    self.usage = Some(u);
                }
                let finish_reason = if !self.calls.is_empty() {
                    "tool_calls"
                } else if kind == "response.incomplete"
                    || str_at(response, "status") == Some("incomplete")
                {
                    finish_reason_for_incomplete(
                        response
                            .get("incomplete_details")
                            .and_then(|d| str_at(d, "reason")),
                    )
                } else {
                    "stop"
                };
                out.extend(self.end(finish_reason));
            }
            "response.failed" => {
                let message = v
                    .get("response")
                    .and_then(error_message)
                    .unwrap_or_else(|| "upstream response failed".to_owned());
                out.extend(self.fail(&message));
            }
            "error" => {
                let message = str_at(&v, "message")
                    .map(str::to_owned)
                    .or_else(|| error_message(&v))
                    .unwrap_or_else(|| "upstream error".to_owned());
                out.extend(self.fail(&message));
            }
            _ => {
                if let Some(message) = error_message(&v) {
                    out.extend(self.fail(&message));
                }
            }
        }
        out
    }

    /// The upstream ended. Idempotent; the output always ends with `data: [DONE]`.
    pub fn finish(&mut self) -> Vec<Bytes> {
        self.fail("upstream stream ended before the response was completed")
    }

    /// The gateway lost the upstream: an error event, then `[DONE]`, unless already ended.
    pub fn fail(&mut self, message: &str) -> Vec<Bytes> {
        if self.finished {
            return Vec::new();
        }
        self.finished = true;
        vec![
            encode(
                None,
                &json!({"error": {"message": message, "type": "upstream_error", "code": null}}),
            ),
            done(),
        ]
    }

    #[cfg(test)]
    fn usage(&self) -> Option<Usage> {
        self.usage
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The final chunk with `finish_reason`, the usage chunk when asked for, `[DONE]`.
    fn end(&mut self, finish_reason: &str) -> Vec<Bytes> {
        let mut out = Vec::new();
        let finish = self.chunk(json!({}), json!(finish_reason));
        out.push(encode(None, &finish));
        if self.include_usage
            && let Some(u) = &self.usage
        {
            out.push(encode(
                None,
                &json!({
                    "id": self.id,
                    "object": "chat.completion.chunk",
                    "created": self.created,
                    "model": self.model,
                    "choices": [],
                    "usage": usage_to_chat(u),
                }),
            ));
        }
        out.push(done());
        self.finished = true;
        out
    }

    /// A chunk for choice 0; the first one also names the role, as Chat streams do.
    fn chunk(&mut self, mut delta: Value, finish_reason: Value) -> Value {
        if !self.role_sent
            && let Some(d) = delta.as_object_mut()
        {
            self.role_sent = true;
            let mut with_role = Map::new();
            with_role.insert("role".into(), json!("assistant"));
            with_role.append(d);
            delta = Value::Object(with_role);
        }
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        });
        if self.include_usage
            && let Some(m) = chunk.as_object_mut()
        {
            // With include_usage every chunk but the last carries `usage: null`.
            m.insert("usage".into(), Value::Null);
        }
        chunk
    }

    fn send(&mut self, out: &mut Vec<Bytes>, delta: Value) {
        let chunk = self.chunk(delta, Value::Null);
        out.push(encode(None, &chunk));
    }

    fn add_call(&mut self, item: &Value, output_index: Option<&Value>, out: &mut Vec<Bytes>) {
        let item_id = id_string(item.get("id")).unwrap_or_else(|| new_id("fc_"));
        let arguments = arguments_string(item.get("arguments"));
        let n = self.calls.len();
        self.calls.push(Call {
            item_id,
            output_index: output_index.and_then(Value::as_u64),
            arguments_sent: !arguments.is_empty(),
        });
        let call_id = id_string(item.get("call_id")).unwrap_or_else(|| new_id("call_"));
        let name = str_at(item, "name").unwrap_or("");
        self.send(
            out,
            json!({"tool_calls": [{
                "index": n, "id": call_id, "type": "function",
                "function": {"name": name, "arguments": arguments},
            }]}),
        );
    }

    /// The Chat index of the call an event is about: by `item_id`, else by `output_index`.
    fn call_number(&self, v: &Value) -> Option<usize> {
        if let Some(item_id) = str_at(v, "item_id")
            && let Some(n) = self.calls.iter().position(|c| c.item_id == item_id)
        {
            return Some(n);
        }
        let output_index = v.get("output_index").and_then(Value::as_u64)?;
        self.calls
            .iter()
            .position(|c| c.output_index == Some(output_index))
    }

    fn send_arguments(&mut self, n: usize, arguments: &str, out: &mut Vec<Bytes>) {
        if let Some(call) = self.calls.get_mut(n) {
            call.arguments_sent = true;
        }
        self.send(
            out,
            json!({"tool_calls": [{"index": n, "function": {"arguments": arguments}}]}),
        );
    }

    fn send_missing_arguments(&mut self, n: usize, arguments: &str, out: &mut Vec<Bytes>) {
        if self.calls.get(n).is_some_and(|c| !c.arguments_sent) {
            self.send_arguments(n, arguments, out);
        }
    }

    fn item_done(&mut self, v: &Value, out: &mut Vec<Bytes>) {
        let item = v.get("item").unwrap_or(&Value::Null);
        match str_at(item, "type") {
            Some("function_call") => {
                let known = str_at(item, "id")
                    .and_then(|id| self.calls.iter().position(|c| c.item_id == id));
                match known {
                    Some(n) => {
                        let arguments = arguments_string(item.get("arguments"));
                        if !arguments.is_empty() {
                            self.send_missing_arguments(n, &arguments, out);
                        }
                    }
                    // Never announced: send it whole.
                    None => self.add_call(item, v.get("output_index"), out),
                }
            }
            Some("message") => {
                let id = str_at(item, "id");
                if self.text_was_sent(id) {
                    return;
                }
                let text: String = item
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| str_at(p, "text"))
                    .collect();
                if !text.is_empty() {
                    if let Some(id) = id {
                        self.text_sent.push(id.to_owned());
                    }
                    self.send(out, json!({ "content": text }));
                }
            }
            _ => {}
        }
    }

    fn mark_text_sent(&mut self, v: &Value) {
        if let Some(id) = str_at(v, "item_id")
            && !self.text_sent.iter().any(|s| s == id)
        {
            self.text_sent.push(id.to_owned());
        }
    }

    /// Events without an item id cannot be matched: assume their text went out already rather
    /// than risk sending it twice.
    fn text_was_sent(&self, item_id: Option<&str>) -> bool {
        match item_id {
            Some(id) => self.text_sent.iter().any(|s| s == id),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::SseDecoder;
    use crate::testkit::{Rng, decode_output, mutate, random_value};

    /// An OpenAI Responses stream: reasoning summary, text, two parallel calls whose argument
    /// deltas interleave, then `response.completed` with usage. CRLF line ends in places.
    const RESPONSES: &str = concat!(
        "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1752000000,\"status\":\"in_progress\",\"model\":\"gpt-5\",\"output\":[]}}\n\n",
        "event: response.in_progress\ndata: {\"type\":\"response.in_progress\",\"sequence_number\":1,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1752000000,\"status\":\"in_progress\",\"model\":\"gpt-5\",\"output\":[]}}\n\n",
        "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":2,\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[]}}\n\n",
        "event: response.reasoning_summary_part.added\ndata: {\"type\":\"response.reasoning_summary_part.added\",\"sequence_number\":3,\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"part\":{\"type\":\"summary_text\",\"text\":\"\"}}\n\n",
        "event: response.reasoning_summary_text.delta\ndata: {\"type\":\"response.reasoning_summary_text.delta\",\"sequence_number\":4,\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"delta\":\"Thinking\"}\n\n",
        "event: response.reasoning_summary_text.delta\ndata: {\"type\":\"response.reasoning_summary_text.delta\",\"sequence_number\":5,\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"delta\":\" hard.\"}\n\n",
        "event: response.reasoning_summary_text.done\ndata: {\"type\":\"response.reasoning_summary_text.done\",\"sequence_number\":6,\"item_id\":\"rs_1\",\"output_index\":0,\"summary_index\":0,\"text\":\"Thinking hard.\"}\n\n",
        "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":7,\"output_index\":0,\"item\":{\"id\":\"rs_1\",\"type\":\"reasoning\",\"summary\":[{\"type\":\"summary_text\",\"text\":\"Thinking hard.\"}]}}\n\n",
        "event: response.output_item.added\r\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":8,\"output_index\":1,\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}\r\n\r\n",
        "event: response.content_part.added\ndata: {\"type\":\"response.content_part.added\",\"sequence_number\":9,\"item_id\":\"msg_1\",\"output_index\":1,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":10,\"item_id\":\"msg_1\",\"output_index\":1,\"content_index\":0,\"delta\":\"Hé\"}\n\n",
        "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":11,\"item_id\":\"msg_1\",\"output_index\":1,\"content_index\":0,\"delta\":\"llo 世界\"}\n\n",
        "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"sequence_number\":12,\"item_id\":\"msg_1\",\"output_index\":1,\"content_index\":0,\"text\":\"Héllo 世界\"}\n\n",
        "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":13,\"output_index\":1,\"item\":{\"id\":\"msg_1\",\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Héllo 世界\",\"annotations\":[]}]}}\n\n",
        "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":14,\"output_index\":2,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\",\"status\":\"in_progress\",\"arguments\":\"\",\"call_id\":\"call_A\",\"name\":\"exec_command\"}}\n\n",
        "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":15,\"item_id\":\"fc_1\",\"output_index\":2,\"delta\":\"{\\\"cmd\\\":\"}\n\n",
        "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"sequence_number\":16,\"output_index\":3,\"item\":{\"id\":\"fc_2\",\"type\":\"function_call\",\"status\":\"in_progress\",\"arguments\":\"\",\"call_id\":\"call_B\",\"name\":\"get_goal\"}}\n\n",
        "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":17,\"item_id\":\"fc_2\",\"output_index\":3,\"delta\":\"{}\"}\n\n",
        "event: response.function_call_arguments.delta\ndata: {\"type\":\"response.function_call_arguments.delta\",\"sequence_number\":18,\"item_id\":\"fc_1\",\"output_index\":2,\"delta\":\"\\\"ls\\\"}\"}\n\n",
        "event: response.function_call_arguments.done\ndata: {\"type\":\"response.function_call_arguments.done\",\"sequence_number\":19,\"item_id\":\"fc_1\",\"output_index\":2,\"arguments\":\"{\\\"cmd\\\":\\\"ls\\\"}\"}\n\n",
        "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":20,\"output_index\":2,\"item\":{\"id\":\"fc_1\",\"type\":\"function_call\",\"status\":\"completed\",\"arguments\":\"{\\\"cmd\\\":\\\"ls\\\"}\",\"call_id\":\"call_A\",\"name\":\"exec_command\"}}\n\n",
        "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"sequence_number\":21,\"output_index\":3,\"item\":{\"id\":\"fc_2\",\"type\":\"function_call\",\"status\":\"completed\",\"arguments\":\"{}\",\"call_id\":\"call_B\",\"name\":\"get_goal\"}}\n\n",
        "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":22,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1752000000,\"status\":\"completed\",\"model\":\"gpt-5\",\"output\":[],\"usage\":{\"input_tokens\":50,\"input_tokens_details\":{\"cached_tokens\":10},\"output_tokens\":20,\"output_tokens_details\":{\"reasoning_tokens\":8},\"total_tokens\":70}}}\n\n",
    );

    fn run(chunks: &[&[u8]], include_usage: bool) -> (ResponsesToChat, Vec<Value>) {
        let mut decoder = SseDecoder::new();
        let mut t = ResponsesToChat::new("client-model", include_usage);
        let mut out = Vec::new();
        for chunk in chunks {
            for ev in decoder.push(chunk).unwrap() {
                out.extend(t.push(&ev));
            }
        }
        for ev in decoder.finish() {
            out.extend(t.push(&ev));
        }
        out.extend(t.finish());
        (t, decode_output(&out).into_iter().map(|(_, d)| d).collect())
    }

    /// Checks what holds for every stream and returns the deltas (or the marker / error).
    fn check_well_formed(events: &[Value]) -> Vec<Value> {
        assert_eq!(events.last(), Some(&json!("[DONE]")), "{events:?}");
        assert_eq!(events.iter().filter(|e| **e == json!("[DONE]")).count(), 1);
        let id = events.first().and_then(|e| e.get("id")).cloned();
        let mut role_seen = false;
        let mut out = Vec::new();
        for e in events {
            if e.get("error").is_some() {
                assert_eq!(e["error"]["type"], "upstream_error");
                assert!(e["error"]["message"].is_string());
                out.push(e.clone());
                continue;
            }
            if *e == json!("[DONE]") {
                continue;
            }
            assert_eq!(e["object"], "chat.completion.chunk");
            assert_eq!(e["model"], "client-model");
            assert_eq!(e.get("id").cloned(), id);
            let Some(choice) = e["choices"].get(0) else {
                assert!(e["usage"].is_object());
                continue;
            };
            let delta = &choice["delta"];
            assert_eq!(
                delta.get("role").is_some(),
                !role_seen,
                "role only on the first delta"
            );
            role_seen = true;
            let mut d = delta.clone();
            d.as_object_mut().unwrap().remove("role");
            if !choice["finish_reason"].is_null() {
                d = json!({"finish_reason": choice["finish_reason"]});
            }
            out.push(d);
        }
        out
    }

    #[test]
    fn openai_stream_at_random_byte_splits() {
        let body = RESPONSES.as_bytes();
        let mut rng = Rng::new(0x5917_1175);
        for cut in 0..600 {
            // One byte at a time once, else two cuts anywhere (inside UTF-8 or CRLF too).
            let (t, events) = if cut == 0 {
                run(&body.chunks(1).collect::<Vec<_>>(), true)
            } else {
                let mut cuts = [rng.below(body.len() + 1), rng.below(body.len() + 1)];
                cuts.sort_unstable();
                let (a, rest) = body.split_at(cuts[0]);
                let (b, c) = rest.split_at(cuts[1] - cuts[0]);
                run(&[a, b, c], true)
            };
            assert!(t.is_finished());
            assert_eq!(
                t.usage(),
                Some(Usage {
                    input: 50,
                    cached_input: 10,
                    output: 20,
                    reasoning: 8
                })
            );
            assert_eq!(
                check_well_formed(&events),
                vec![
                    json!({"reasoning_content": "Thinking"}),
                    json!({"reasoning_content": " hard."}),
                    json!({"content": "Hé"}),
                    json!({"content": "llo 世界"}),
                    json!({"tool_calls": [{"index": 0, "id": "call_A", "type": "function",
                                           "function": {"name": "exec_command", "arguments": ""}}]}),
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"cmd\":"}}]}),
                    json!({"tool_calls": [{"index": 1, "id": "call_B", "type": "function",
                                           "function": {"name": "get_goal", "arguments": ""}}]}),
                    json!({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}),
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"ls\"}"}}]}),
                    json!({"finish_reason": "tool_calls"}),
                ],
                "round {cut}"
            );
        }
    }

    #[test]
    fn openai_stream_chunks_in_full() {
        let (_, events) = run(&[RESPONSES.as_bytes()], true);
        let id = events[0]["id"].as_str().unwrap().to_owned();
        let created = events[0]["created"].clone();
        assert!(id.starts_with("chatcmpl-"));
        assert_eq!(
            events[0],
            json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": "client-model",
                   "choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "Thinking"}, "finish_reason": null}],
                   "usage": null})
        );
        assert_eq!(
            events[9],
            json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": "client-model",
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}], "usage": null})
        );
        assert_eq!(
            events[10],
            json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": "client-model",
                   "choices": [],
                   "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70,
                             "prompt_tokens_details": {"cached_tokens": 10},
                             "completion_tokens_details": {"reasoning_tokens": 8}}})
        );
        assert_eq!(events[11], json!("[DONE]"));
        assert_eq!(events.len(), 12);

        // Without include_usage: no usage chunk and no `usage: null`.
        let (_, events) = run(&[RESPONSES.as_bytes()], false);
        assert_eq!(events.len(), 11);
        assert!(events.iter().all(|e| e.get("usage").is_none()));
    }

    fn ev(v: Value) -> SseEvent {
        SseEvent {
            event: v["type"].as_str().map(str::to_owned),
            data: v.to_string(),
        }
    }

    fn feed(events: &[SseEvent]) -> Vec<Value> {
        let mut t = ResponsesToChat::new("client-model", false);
        let mut out = Vec::new();
        for e in events {
            out.extend(t.push(e));
        }
        out.extend(t.finish());
        check_well_formed(
            &decode_output(&out)
                .into_iter()
                .map(|(_, d)| d)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn done_events_fill_in_what_had_no_deltas_and_incomplete_maps_to_length() {
        let deltas = feed(&[
            ev(json!({"type": "response.output_text.done", "item_id": "m1", "text": "whole"})),
            ev(
                json!({"type": "response.output_item.done", "item": {"type": "message", "id": "m1",
                      "content": [{"type": "output_text", "text": "whole"}]}}),
            ),
            ev(
                json!({"type": "response.output_item.done", "item": {"type": "message", "id": "m2",
                      "content": [{"type": "output_text", "text": "second"}]}}),
            ),
            ev(
                json!({"type": "response.incomplete", "response": {"status": "incomplete",
                      "incomplete_details": {"reason": "max_output_tokens"}}}),
            ),
        ]);
        assert_eq!(
            deltas,
            vec![
                json!({"content": "whole"}),
                json!({"content": "second"}),
                json!({"finish_reason": "length"}),
            ]
        );
        let deltas = feed(&[
            ev(
                json!({"type": "response.output_item.done", "output_index": 0, "item": {"type": "function_call", "id": "fc_9",
                      "call_id": "call_9", "name": "f", "arguments": "{\"a\":1}"}}),
            ),
            ev(json!({"type": "response.completed", "response": {"status": "completed"}})),
        ]);
        assert_eq!(
            deltas,
            vec![
                json!({"tool_calls": [{"index": 0, "id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]}),
                json!({"finish_reason": "tool_calls"}),
            ]
        );
        let deltas = feed(&[
            ev(json!({"type": "response.reasoning_summary_part.added", "summary_index": 0})),
            ev(json!({"type": "response.reasoning_summary_text.delta", "delta": "one"})),
            ev(json!({"type": "response.reasoning_summary_part.added", "summary_index": 1})),
            ev(json!({"type": "response.reasoning_summary_text.delta", "delta": "two"})),
            ev(json!({"type": "response.refusal.delta", "delta": "no"})),
            ev(json!({"type": "response.completed", "response": {}})),
        ]);
        assert_eq!(
            deltas,
            vec![
                json!({"reasoning_content": "one"}),
                json!({"reasoning_content": "\n\ntwo"}),
                json!({"refusal": "no"}),
                json!({"finish_reason": "stop"}),
            ]
        );
    }

    #[test]
    fn failures_become_an_error_event_then_done() {
        let error =
            |m: &str| json!({"error": {"message": m, "type": "upstream_error", "code": null}});
        let cases = [
            (
                vec![ev(
                    json!({"type": "response.failed", "response": {"status": "failed",
                   "error": {"code": "server_error", "message": "boom"}}}),
                )],
                "boom",
            ),
            (
                vec![ev(
                    json!({"type": "error", "code": "rate_limit_exceeded", "message": "slow down"}),
                )],
                "slow down",
            ),
            (
                vec![SseEvent {
                    event: None,
                    data: "{\"error\":{\"message\":\"bad\"}}".into(),
                }],
                "bad",
            ),
            (
                vec![SseEvent {
                    event: None,
                    data: "<html>".into(),
                }],
                MALFORMED,
            ),
            (
                vec![SseEvent {
                    event: None,
                    data: "\"str\"".into(),
                }],
                MALFORMED,
            ),
            (
                vec![ev(
                    json!({"type": "response.output_text.delta", "item_id": "m", "delta": "cut"}),
                )],
                "upstream stream ended before the response was completed",
            ),
        ];
        for (events, message) in cases {
            let deltas = feed(&events);
            assert_eq!(deltas.last(), Some(&error(message)), "{events:?}");
        }
        let mut t = ResponsesToChat::new("m", true);
        let out = t.fail("upstream timed out");
        assert_eq!(
            decode_output(&out)
                .into_iter()
                .map(|(_, d)| d)
                .collect::<Vec<_>>(),
            vec![error("upstream timed out"), json!("[DONE]")]
        );
        assert!(t.is_finished());
        assert!(t.finish().is_empty());
        assert!(
            t.push(&ev(
                json!({"type": "response.output_text.delta", "delta": "x"})
            ))
            .is_empty()
        );
    }

    #[test]
    fn property_truncated_and_mutated_streams_stay_well_formed() {
        let body = RESPONSES.as_bytes();
        for len in 0..=body.len() {
            let (t, events) = run(&[&body[..len]], true);
            assert!(t.is_finished());
            check_well_formed(&events);
        }
        let mut decoder = SseDecoder::new();
        let mut base = decoder.push(body).unwrap();
        base.extend(decoder.finish());
        let mut rng = Rng::new(0x7e57_da7a);
        for _ in 0..3000 {
            let mut t = ResponsesToChat::new("client-model", rng.below(2) == 0);
            let mut out = Vec::new();
            for e in &base {
                let mut e = e.clone();
                match rng.below(10) {
                    0 => e.data = random_value(&mut rng, 4).to_string(),
                    1 => {
                        e.data = e
                            .data
                            .get(..rng.below(e.data.len()))
                            .unwrap_or_default()
                            .to_owned()
                    }
                    2..=4 => {
                        let mut v: Value = serde_json::from_str(&e.data).unwrap();
                        mutate(&mut rng, &mut v);
                        e.data = v.to_string();
                    }
                    _ => {}
                }
                out.extend(t.push(&e));
            }
            out.extend(t.finish());
            check_well_formed(
                &decode_output(&out)
                    .into_iter()
                    .map(|(_, d)| d)
                    .collect::<Vec<_>>(),
            );
        }
    }
}
