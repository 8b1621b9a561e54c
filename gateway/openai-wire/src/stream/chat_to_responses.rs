//! Upstream streams Chat Completions chunks, the client wants Responses events: the case of
//! Codex CLI against a Chat-only provider. Codex fails a turn whose stream ends without
//! `response.completed`, so every path out of here ends with exactly one terminal event.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{MALFORMED, error_message};
use crate::json::{arguments_string, id_string, non_empty_str_at, str_at};
use crate::response::{incomplete_reason, usage_from_chat, usage_to_responses};
use crate::sse::{SseEvent, encode};
use crate::{Usage, new_id, now_secs};

/// Chat chunks → Responses events.
///
/// Items are numbered (`output_index`) in the order they are added. Reasoning and text are
/// one open item at a time: a change of kind, or the first tool call, closes the open one.
/// Tool calls stay open until `finish_reason` or the end. The terminal event carries `usage`
/// only when the upstream reported it.
///
/// An upstream that ends without `finish_reason` and without `[DONE]` was cut off: that ends
/// in `response.failed`, not in a `response.completed` that would pass a truncated answer off
/// as whole.
pub struct ChatToResponses {
    id: String,
    model: String,
    created_at: i64,
    sequence: u64,
    started: bool,
    finished: bool,
    /// `[DONE]` or a `finish_reason` arrived: the upstream answer is whole.
    saw_end: bool,
    next_output_index: usize,
    open: Option<OpenText>,
    calls: Vec<ToolCall>,
    /// Completed items with their `output_index`, for the terminal event's `output`.
    done_items: Vec<(usize, Value)>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TextKind {
    Reasoning,
    Message,
}

struct OpenText {
    kind: TextKind,
    item_id: String,
    output_index: usize,
    text: String,
}

struct ToolCall {
    /// The upstream's `index`, when it sends one.
    upstream_index: Option<u64>,
    /// The upstream's id, which may come late or never.
    upstream_id: Option<String>,
    /// The id the client sees: the upstream's, or one made up when it had none at `added`.
    call_id: Option<String>,
    name: Option<String>,
    /// Every fragment so far; those received before the name are sent once it arrives.
    arguments: String,
    item_id: String,
    /// Set once `output_item.added` went out.
    output_index: Option<usize>,
    closed: bool,
}

impl ChatToResponses {
    pub fn new(requested_model: &str) -> Self {
        ChatToResponses {
            id: new_id("resp_"),
            model: requested_model.to_owned(),
            created_at: now_secs(),
            sequence: 0,
            started: false,
            finished: false,
            saw_end: false,
            next_output_index: 0,
            open: None,
            calls: Vec::new(),
            done_items: Vec::new(),
            finish_reason: None,
            usage: None,
        }
    }

    /// `response.created` and `response.in_progress`; `push`, `finish` and `fail` send them
    /// first if this was not called.
    pub fn start(&mut self) -> Vec<Bytes> {
        let mut out = Vec::new();
        self.ensure_started(&mut out);
        out
    }

    /// One upstream event in, the Responses events it completes out.
    pub fn push(&mut self, ev: &SseEvent) -> Vec<Bytes> {
        if self.finished {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.ensure_started(&mut out);
        let data = ev.data.trim();
        if data.is_empty() {
            // An empty `data:` line carries nothing; some proxies use it as a keep-alive.
            return out;
        }
        if data == "[DONE]" {
            self.saw_end = true;
            out.extend(self.finish());
            return out;
        }
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            out.extend(self.fail(MALFORMED));
            return out;
        };
        if !chunk.is_object() {
            out.extend(self.fail(MALFORMED));
            return out;
        }
        let named_error = ev.event.as_deref() == Some("error");
        if let Some(message) = error_message(&chunk).or_else(|| {
            named_error.then(|| {
                str_at(&chunk, "message")
                    .unwrap_or("upstream error")
                    .to_owned()
            })
        }) {
            let code = chunk
                .get("error")
                .and_then(|e| non_empty_str_at(e, "code"))
                .unwrap_or("upstream_error")
                .to_owned();
            out.extend(self.fail_with(&code, &message));
            return out;
        }
        if let Some(usage) = chunk
            .get("usage")
            .filter(|u| u.is_object())
            .and_then(usage_from_chat)
        {
            self.usage = Some(usage);
        }
        if let Some(choice) = first_choice(&chunk) {
            self.choice(choice, &mut out);
        }
        out
    }

    /// The upstream ended: close what is open and send the terminal event. Idempotent.
    pub fn finish(&mut self) -> Vec<Bytes> {
        if self.finished {
            return Vec::new();
        }
        if !self.saw_end {
            return self.fail("upstream stream ended before the answer was complete");
        }
        let mut out = Vec::new();
        self.ensure_started(&mut out);
        self.close_all(&mut out);
        let mut response = self.response_object();
        let reason = incomplete_reason(self.finish_reason.as_deref());
        let (kind, status) = match reason {
            Some(_) => ("response.incomplete", "incomplete"),
            None => ("response.completed", "completed"),
        };
        response.insert("status".into(), json!(status));
        if let Some(reason) = reason {
            response.insert("incomplete_details".into(), json!({ "reason": reason }));
        }
        if let Some(u) = &self.usage {
            response.insert("usage".into(), usage_to_responses(u));
        }
        self.emit(&mut out, kind, json!({ "response": response }));
        self.finished = true;
        out
    }

    /// The gateway lost the upstream (timeout, transport error): `response.failed`, unless the
    /// stream already ended.
    pub fn fail(&mut self, message: &str) -> Vec<Bytes> {
        self.fail_with("upstream_error", message)
    }

    #[cfg(test)]
    fn usage(&self) -> Option<Usage> {
        self.usage
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn fail_with(&mut self, code: &str, message: &str) -> Vec<Bytes> {
        if self.finished {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.ensure_started(&mut out);
        let mut response = self.response_object();
        response.insert("status".into(), json!("failed"));
        response.insert("error".into(), json!({"code": code, "message": message}));
        if let Some(u) = &self.usage {
            response.insert("usage".into(), usage_to_responses(u));
        }
        self.emit(&mut out, "response.failed", json!({ "response": response }));
        self.finished = true;
        out
    }

    fn ensure_started(&mut self, out: &mut Vec<Bytes>) {
        if self.started {
            return;
        }
        self.started = true;
        for kind in ["response.created", "response.in_progress"] {
            let mut response = self.response_object();
            response.insert("output".into(), json!([]));
            self.emit(out, kind, json!({ "response": response }));
        }
    }

    /// `{id, object, created_at, status, model, output}` with the items completed so far.
    fn response_object(&self) -> Map<String, Value> {
        let mut items = self.done_items.clone();
        items.sort_by_key(|(index, _)| *index);
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("object".into(), json!("response"));
        m.insert("created_at".into(), json!(self.created_at));
        m.insert("status".into(), json!("in_progress"));
        m.insert("model".into(), json!(self.model));
        m.insert(
            "output".into(),
            Value::Array(items.into_iter().map(|(_, v)| v).collect()),
        );
        m
    }

    /// `event: <type>` with `{"type", "sequence_number", ...fields}`.
    fn emit(&mut self, out: &mut Vec<Bytes>, kind: &str, fields: Value) {
        let mut m = Map::new();
        m.insert("type".into(), json!(kind));
        m.insert("sequence_number".into(), json!(self.sequence));
        if let Value::Object(fields) = fields {
            m.extend(fields);
        }
        self.sequence += 1;
        out.push(encode(Some(kind), &Value::Object(m)));
    }

    fn choice(&mut self, choice: &Value, out: &mut Vec<Bytes>) {
        if let Some(delta) = choice.get("delta").filter(|d| d.is_object()) {
            let reasoning = non_empty_str_at(delta, "reasoning_content")
                .or_else(|| non_empty_str_at(delta, "reasoning"));
            if let Some(text) = reasoning {
                self.text_delta(TextKind::Reasoning, text, out);
            }
            if let Some(text) = non_empty_str_at(delta, "content") {
                self.text_delta(TextKind::Message, text, out);
            }
            for call in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.tool_delta(call, out);
            }
        }
        if let Some(reason) = non_empty_str_at(choice, "finish_reason") {
            self.finish_reason = Some(reason.to_owned());
            self.saw_end = true;
            self.close_all(out);
        }
    }

    fn text_delta(&mut self, kind: TextKind, delta: &str, out: &mut Vec<Bytes>) {
        if self.open.as_ref().is_some_and(|o| o.kind != kind) {
            self.close_text(out);
        }
        if self.open.is_none() {
            let output_index = self.take_output_index();
            let item_id = new_id(if kind == TextKind::Reasoning {
                "rs_"
            } else {
                "msg_"
            });
            match kind {
                TextKind::Reasoning => {
                    self.emit(
                        out,
                        "response.output_item.added",
                        json!({
                            "output_index": output_index,
                            "item": {"type": "reasoning", "id": item_id, "summary": []},
                        }),
                    );
                    self.emit(
                        out,
                        "response.reasoning_summary_part.added",
                        json!({
                            "item_id": item_id, "output_index": output_index, "summary_index": 0,
                            "part": {"type": "summary_text", "text": ""},
                        }),
                    );
                }
                TextKind::Message => {
                    self.emit(
                        out,
                        "response.output_item.added",
                        json!({
                            "output_index": output_index,
                            "item": {"type": "message", "id": item_id, "status": "in_progress",
                                     "role": "assistant", "content": []},
                        }),
                    );
                    self.emit(
                        out,
                        "response.content_part.added",
                        json!({
                            "item_id": item_id, "output_index": output_index, "content_index": 0,
                            "part": {"type": "output_text", "text": "", "annotations": []},
                        }),
                    );
                }
            }
            self.open = Some(OpenText {
                kind,
                item_id,
                output_index,
                text: String::new(),
            });
        }
        let Some(open) = self.open.as_mut() else {
            return;
        };
        open.text.push_str(delta);
        let (item_id, output_index) = (open.item_id.clone(), open.output_index);
        match kind {
            TextKind::Reasoning => self.emit(out, "response.reasoning_summary_text.delta", json!({
                "item_id": item_id, "output_index": output_index, "summary_index": 0, "delta": delta,
            })),
            TextKind::Message => self.emit(out, "response.output_text.delta", json!({
                "item_id": item_id, "output_index": output_index, "content_index": 0, "delta": delta,
            })),
        }
    }

    fn close_text(&mut self, out: &mut Vec<Bytes>) {
        let Some(OpenText {
            kind,
            item_id,
            output_index,
            text,
        }) = self.open.take()
        else {
            return;
        };
        let item = match kind {
            TextKind::Reasoning => {
                let part = json!({"type": "summary_text", "text": text});
                self.emit(out, "response.reasoning_summary_text.done", json!({
                    "item_id": item_id, "output_index": output_index, "summary_index": 0, "text": text,
                }));
                self.emit(out, "response.reasoning_summary_part.done", json!({
                    "item_id": item_id, "output_index": output_index, "summary_index": 0, "part": part,
                }));
                json!({"type": "reasoning", "id": item_id, "summary": [part]})
            }
            TextKind::Message => {
                let part = json!({"type": "output_text", "text": text, "annotations": []});
                self.emit(out, "response.output_text.done", json!({
                    "item_id": item_id, "output_index": output_index, "content_index": 0, "text": text,
                }));
                self.emit(out, "response.content_part.done", json!({
                    "item_id": item_id, "output_index": output_index, "content_index": 0, "part": part,
                }));
                json!({"type": "message", "id": item_id, "status": "completed", "role": "assistant",
                       "content": [part]})
            }
        };
        self.emit(
            out,
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        );
        self.done_items.push((output_index, item));
    }

    fn tool_delta(&mut self, delta: &Value, out: &mut Vec<Bytes>) {
        if !delta.is_object() {
            return;
        }
        self.close_text(out);
        let upstream_index = delta.get("index").and_then(Value::as_u64);
        let id = id_string(delta.get("id"));
        let function = delta.get("function").unwrap_or(&Value::Null);
        let pos = match self.find_call(upstream_index, id.as_deref()) {
            Some(pos) => pos,
            None => {
                self.calls.push(ToolCall {
                    upstream_index,
                    upstream_id: None,
                    call_id: None,
                    name: None,
                    arguments: String::new(),
                    item_id: new_id("fc_"),
                    output_index: None,
                    closed: false,
                });
                self.calls.len() - 1
            }
        };
        let fragment = arguments_string(function.get("arguments"));
        let Some(call) = self.calls.get_mut(pos) else {
            return;
        };
        if call.upstream_id.is_none() {
            call.upstream_id = id;
        }
        if call.name.is_none() {
            call.name = non_empty_str_at(function, "name").map(str::to_owned);
        }
        call.arguments.push_str(&fragment);
        match call.output_index {
            Some(output_index) if !fragment.is_empty() => {
                let item_id = call.item_id.clone();
                self.emit(
                    out,
                    "response.function_call_arguments.delta",
                    json!({
                        "item_id": item_id, "output_index": output_index, "delta": fragment,
                    }),
                );
            }
            Some(_) => {}
            None if call.name.is_some() => self.add_call(pos, out),
            None => {}
        }
    }

    /// The call a delta continues. A known index with a different id is a new call: some
    /// providers number every parallel call 0. Without an index, the id decides, and without
    /// either the delta continues the latest call.
    fn find_call(&self, upstream_index: Option<u64>, id: Option<&str>) -> Option<usize> {
        let mut open = self
            .calls
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, c)| !c.closed);
        let (pos, call) = match (upstream_index, id) {
            (Some(i), _) => open.find(|(_, c)| c.upstream_index == Some(i))?,
            (None, Some(id)) => open.find(|(_, c)| c.upstream_id.as_deref() == Some(id))?,
            (None, None) => open.next()?,
        };
        match (id, call.upstream_id.as_deref()) {
            (Some(new), Some(old)) if new != old => None,
            _ => Some(pos),
        }
    }

    /// `output_item.added` for a call whose name is now known, then the arguments buffered
    /// while it was not.
    fn add_call(&mut self, pos: usize, out: &mut Vec<Bytes>) {
        let output_index = self.take_output_index();
        let Some(call) = self.calls.get_mut(pos) else {
            return;
        };
        call.output_index = Some(output_index);
        let call_id = call.upstream_id.clone().unwrap_or_else(|| new_id("call_"));
        call.call_id = Some(call_id.clone());
        let (item_id, name, buffered) = (
            call.item_id.clone(),
            call.name.clone().unwrap_or_default(),
            call.arguments.clone(),
        );
        self.emit(
            out,
            "response.output_item.added",
            json!({
                "output_index": output_index,
                "item": {"type": "function_call", "id": item_id, "call_id": call_id, "name": name,
                         "arguments": "", "status": "in_progress"},
            }),
        );
        if !buffered.is_empty() {
            self.emit(
                out,
                "response.function_call_arguments.delta",
                json!({
                    "item_id": item_id, "output_index": output_index, "delta": buffered,
                }),
            );
        }
    }

    /// Closes the open text item and every open call, in output order. A call whose name never
    /// arrived cannot be run by the client and is dropped.
    fn close_all(&mut self, out: &mut Vec<Bytes>) {
        self.close_text(out);
        let mut open: Vec<(usize, usize)> = self
            .calls
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.closed)
            .filter_map(|(pos, c)| c.output_index.map(|i| (i, pos)))
            .collect();
        open.sort_unstable();
        for (output_index, pos) in open {
            let Some(call) = self.calls.get_mut(pos) else {
                continue;
            };
            call.closed = true;
            let item = json!({
                "type": "function_call",
                "id": call.item_id,
                "call_id": call.call_id.clone().unwrap_or_default(),
                "name": call.name.clone().unwrap_or_default(),
                "arguments": call.arguments,
                "status": "completed",
            });
            let item_id = call.item_id.clone();
            let arguments = call.arguments.clone();
            self.emit(
                out,
                "response.function_call_arguments.done",
                json!({
                    "item_id": item_id, "output_index": output_index, "arguments": arguments,
                }),
            );
            self.emit(
                out,
                "response.output_item.done",
                json!({"output_index": output_index, "item": item}),
            );
            self.done_items.push((output_index, item));
        }
        for call in &mut self.calls {
            call.closed = true;
        }
    }

    fn take_output_index(&mut self) -> usize {
        let i = self.next_output_index;
        self.next_output_index += 1;
        i
    }
}

/// Choice 0: the gateway never asks for more.
fn first_choice(chunk: &Value) -> Option<&Value> {
    chunk
        .get("choices")?
        .as_array()?
        .iter()
        .find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::SseDecoder;
    use crate::testkit::{Rng, decode_output, mutate, random_value};

    /// A DeepSeek thinking-mode answer as it streams: a keep-alive comment, reasoning deltas,
    /// a line of text, one tool call split over chunks (id and name only on the first), the
    /// finish_reason, the usage chunk of `include_usage` with DeepSeek's cache counters, `[DONE]`.
    /// Mixed line ends and non-ASCII text make the byte splits meaningful.
    const DEEPSEEK: &str = concat!(
        ": keep-alive\n\n",
        "data: {\"id\":\"0b1c\",\"object\":\"chat.completion.chunk\",\"created\":1752000000,\"model\":\"deepseek-reasoner\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"reasoning_content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"0b1c\",\"object\":\"chat.completion.chunk\",\"created\":1752000000,\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"delta\":{\"content\":null,\"reasoning_content\":\"The user wants\"},\"logprobs\":null,\"finish_reason\":null}]}\r\n\r\n",
        "data: {\"id\":\"0b1c\",\"object\":\"chat.completion.chunk\",\"created\":1752000000,\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"delta\":{\"content\":null,\"reasoning_content\":\" an écho → 世界.\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"0b1c\",\"object\":\"chat.completion.chunk\",\"created\":1752000000,\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Running it.\",\"reasoning_content\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"0b1c\",\"object\":\"chat.completion.chunk\",\"created\":1752000000,\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_0_5f2e\",\"type\":\"function\",\"function\":{\"name\":\"exec_command\",\"arguments\":\"\"}}]},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"0b1c\",\"object\":\"chat.completion.chunk\",\"created\":1752000000,\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"cmd\\\":\"}}]},\"logprobs\":null,\"finish_reason\":null}]}\r\r",
        "data: {\"id\":\"0b1c\",\"object\":\"chat.completion.chunk\",\"created\":1752000000,\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\" \\\"echo hé\\\"}\"}}]},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"0b1c\",\"object\":\"chat.completion.chunk\",\"created\":1752000000,\"model\":\"deepseek-reasoner\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: {\"id\":\"0b1c\",\"object\":\"chat.completion.chunk\",\"created\":1752000000,\"model\":\"deepseek-reasoner\",\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":80,\"total_tokens\":1280,\"prompt_cache_hit_tokens\":1024,\"prompt_cache_miss_tokens\":176,\"completion_tokens_details\":{\"reasoning_tokens\":50}}}\n\n",
        "data: [DONE]\n\n",
    );

    const EXPECTED_TYPES: &[&str] = &[
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ];

    /// Runs `chunks` of upstream body through decoder and translator the way the wiring does.
    fn run(chunks: &[&[u8]], model: &str) -> (ChatToResponses, Vec<(Option<String>, Value)>) {
        let mut decoder = SseDecoder::new();
        let mut t = ChatToResponses::new(model);
        let mut out = t.start();
        for chunk in chunks {
            for ev in decoder.push(chunk).unwrap() {
                out.extend(t.push(&ev));
            }
        }
        for ev in decoder.finish() {
            out.extend(t.push(&ev));
        }
        out.extend(t.finish());
        (t, decode_output(&out))
    }

    /// Checks what holds for every stream, then returns the event types.
    fn check_well_formed(events: &[(Option<String>, Value)]) -> Vec<String> {
        let mut types = Vec::new();
        let mut added = Vec::new();
        let mut done = Vec::new();
        for (i, (name, data)) in events.iter().enumerate() {
            let kind = data["type"].as_str().unwrap().to_owned();
            assert_eq!(name.as_deref(), Some(kind.as_str()));
            assert_eq!(data["sequence_number"], json!(i));
            match kind.as_str() {
                "response.output_item.added" => added.push(data["output_index"].as_u64().unwrap()),
                "response.output_item.done" => done.push(data["output_index"].as_u64().unwrap()),
                _ => {}
            }
            types.push(kind);
        }
        assert_eq!(types.first().map(String::as_str), Some("response.created"));
        assert_eq!(
            types.get(1).map(String::as_str),
            Some("response.in_progress")
        );
        let terminal = [
            "response.completed",
            "response.incomplete",
            "response.failed",
        ];
        let last = types.last().unwrap();
        assert!(terminal.contains(&last.as_str()), "{types:?}");
        assert_eq!(
            types
                .iter()
                .filter(|t| terminal.contains(&t.as_str()))
                .count(),
            1
        );
        assert_eq!(added, (0..added.len() as u64).collect::<Vec<_>>());
        assert!(done.iter().all(|i| added.contains(i)));
        let final_response = &events.last().unwrap().1["response"];
        if last != "response.failed" {
            assert_eq!(done.len(), added.len());
            assert_eq!(
                final_response["output"].as_array().unwrap().len(),
                done.len()
            );
        }
        types
    }

    /// Generated ids are random: check their prefix, then blank them.
    fn without_ids(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    if (k == "id" || k == "item_id") && child.is_string() {
                        let s = child.as_str().unwrap();
                        let prefix = ["resp_", "rs_", "msg_", "fc_"]
                            .into_iter()
                            .find(|p| s.starts_with(p));
                        *child = json!(format!("{}*", prefix.expect(s)));
                    } else {
                        without_ids(child);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(without_ids),
            _ => {}
        }
    }

    #[test]
    fn deepseek_stream_at_every_byte_split() {
        let body = DEEPSEEK.as_bytes();
        for cut in 0..=body.len() {
            let (a, b) = body.split_at(cut);
            let (t, events) = run(&[a, b], "codex-deep");
            let types = check_well_formed(&events);
            assert_eq!(types, EXPECTED_TYPES, "cut at {cut}");
            assert!(t.is_finished());
            assert_eq!(
                t.usage(),
                Some(Usage {
                    input: 1200,
                    cached_input: 1024,
                    output: 80,
                    reasoning: 50
                })
            );
            let mut completed = events.last().unwrap().1.clone();
            without_ids(&mut completed);
            completed["response"]["created_at"] = json!(0);
            assert_eq!(
                completed,
                json!({
                    "type": "response.completed",
                    "sequence_number": 20,
                    "response": {
                        "id": "resp_*",
                        "object": "response",
                        "created_at": 0,
                        "status": "completed",
                        "model": "codex-deep",
                        "output": [
                            {"type": "reasoning", "id": "rs_*", "summary": [
                                {"type": "summary_text", "text": "The user wants an écho → 世界."}]},
                            {"type": "message", "id": "msg_*", "status": "completed", "role": "assistant",
                             "content": [{"type": "output_text", "text": "Running it.", "annotations": []}]},
                            {"type": "function_call", "id": "fc_*", "call_id": "call_0_5f2e", "name": "exec_command",
                             "arguments": "{\"cmd\": \"echo hé\"}", "status": "completed"}
                        ],
                        "usage": {
                            "input_tokens": 1200, "input_tokens_details": {"cached_tokens": 1024},
                            "output_tokens": 80, "output_tokens_details": {"reasoning_tokens": 50},
                            "total_tokens": 1280
                        }
                    }
                }),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn deepseek_stream_event_payloads() {
        let (_, events) = run(&[DEEPSEEK.as_bytes()], "codex-deep");
        let mut data: Vec<Value> = events.into_iter().map(|(_, d)| d).collect();
        data.iter_mut().for_each(without_ids);
        let id = data[0]["response"]["id"].clone();
        assert_eq!(data[1]["response"]["id"], id);
        assert_eq!(data[0]["response"]["status"], "in_progress");
        assert_eq!(data[0]["response"]["output"], json!([]));
        assert_eq!(
            data[2],
            json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
                   "item": {"type": "reasoning", "id": "rs_*", "summary": []}})
        );
        assert_eq!(
            data[5],
            json!({"type": "response.reasoning_summary_text.delta", "sequence_number": 5, "item_id": "rs_*",
                   "output_index": 0, "summary_index": 0, "delta": " an écho → 世界."})
        );
        assert_eq!(
            data[9],
            json!({"type": "response.output_item.added", "sequence_number": 9, "output_index": 1,
                   "item": {"type": "message", "id": "msg_*", "status": "in_progress", "role": "assistant", "content": []}})
        );
        assert_eq!(
            data[11],
            json!({"type": "response.output_text.delta", "sequence_number": 11, "item_id": "msg_*",
                   "output_index": 1, "content_index": 0, "delta": "Running it."})
        );
        assert_eq!(
            data[13]["part"],
            json!({"type": "output_text", "text": "Running it.", "annotations": []})
        );
        assert_eq!(
            data[15],
            json!({"type": "response.output_item.added", "sequence_number": 15, "output_index": 2,
                   "item": {"type": "function_call", "id": "fc_*", "call_id": "call_0_5f2e",
                            "name": "exec_command", "arguments": "", "status": "in_progress"}})
        );
        assert_eq!(data[16]["delta"], "{\"cmd\":");
        assert_eq!(
            data[18],
            json!({"type": "response.function_call_arguments.done", "sequence_number": 18, "item_id": "fc_*",
                   "output_index": 2, "arguments": "{\"cmd\": \"echo hé\"}"})
        );
    }

    fn chunk(delta: Value, finish_reason: Value) -> SseEvent {
        SseEvent {
            event: None,
            data: json!({"object": "chat.completion.chunk", "choices": [
                {"index": 0, "delta": delta, "finish_reason": finish_reason}]})
            .to_string(),
        }
    }

    fn feed(t: &mut ChatToResponses, events: &[SseEvent]) -> Vec<Value> {
        let mut out = t.start();
        for ev in events {
            out.extend(t.push(ev));
        }
        out.extend(t.finish());
        decode_output(&out).into_iter().map(|(_, d)| d).collect()
    }

    #[test]
    fn parallel_calls_interleave_late_names_buffer_and_missing_ids_are_generated() {
        let mut t = ChatToResponses::new("m");
        let data = feed(
            &mut t,
            &[
                chunk(
                    json!({"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "a", "arguments": "{\"x\""}}]}),
                    Value::Null,
                ),
                chunk(
                    json!({"tool_calls": [{"index": 1, "function": {"arguments": "{\"y\""}}]}),
                    Value::Null,
                ),
                chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]}),
                    Value::Null,
                ),
                chunk(
                    json!({"tool_calls": [{"index": 1, "function": {"name": "b", "arguments": ":2}"}}]}),
                    Value::Null,
                ),
                // Whole call in one chunk, reusing index 0 with a new id, as some providers do.
                chunk(
                    json!({"tool_calls": [{"index": 0, "id": "call_c", "type": "function", "function": {"name": "c", "arguments": "{}"}}]}),
                    Value::Null,
                ),
                chunk(json!({}), json!("tool_calls")),
                SseEvent {
                    event: None,
                    data: "[DONE]".into(),
                },
            ],
        );
        let types: Vec<&str> = data.iter().map(|d| d["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        // The late-named call: its buffered fragments go out in one delta after `added`.
        assert_eq!(data[5]["item"]["name"], "b");
        assert_eq!(data[5]["output_index"], 1);
        assert_eq!(data[6]["delta"], "{\"y\":2}");
        let output = data.last().unwrap()["response"]["output"]
            .as_array()
            .unwrap()
            .clone();
        let calls: Vec<(&str, &str)> = output
            .iter()
            .map(|i| {
                (
                    i["name"].as_str().unwrap(),
                    i["arguments"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(calls, [("a", "{\"x\":1}"), ("b", "{\"y\":2}"), ("c", "{}")]);
        assert_eq!(output[0]["call_id"], "call_a");
        assert!(output[1]["call_id"].as_str().unwrap().starts_with("call_"));
        assert_eq!(output[2]["call_id"], "call_c");
        assert!(data.last().unwrap()["response"].get("usage").is_none());
    }

    #[test]
    fn length_is_incomplete_and_text_alone_completes() {
        let mut t = ChatToResponses::new("m");
        let data = feed(
            &mut t,
            &[
                chunk(json!({"reasoning": "hmm"}), Value::Null),
                chunk(json!({"content": "par"}), Value::Null),
                chunk(json!({"content": "tial"}), json!("length")),
            ],
        );
        let last = data.last().unwrap();
        assert_eq!(last["type"], "response.incomplete");
        assert_eq!(last["response"]["status"], "incomplete");
        assert_eq!(
            last["response"]["incomplete_details"],
            json!({"reason": "max_output_tokens"})
        );
        assert_eq!(
            last["response"]["output"][1]["content"][0]["text"],
            "partial"
        );
        assert_eq!(t.finish(), Vec::<Bytes>::new());

        let mut t = ChatToResponses::new("m");
        let data = feed(
            &mut t,
            &[chunk(json!({"content": "x"}), json!("content_filter"))],
        );
        assert_eq!(
            data.last().unwrap()["response"]["incomplete_details"],
            json!({"reason": "content_filter"})
        );
    }

    #[test]
    fn upstream_errors_and_garbage_end_in_response_failed() {
        let cases = [
            (
                r#"{"error":{"message":"Insufficient Balance","code":"insufficient_quota"}}"#,
                "insufficient_quota",
                "Insufficient Balance",
            ),
            (r#"{"error":"overloaded"}"#, "upstream_error", "overloaded"),
            ("{not json", "upstream_error", MALFORMED),
            ("[1,2]", "upstream_error", MALFORMED),
        ];
        for (data, code, message) in cases {
            let mut t = ChatToResponses::new("m");
            let mut out = t.start();
            out.extend(t.push(&chunk(json!({"content": "before"}), Value::Null)));
            out.extend(t.push(&SseEvent {
                event: None,
                data: data.into(),
            }));
            assert!(t.is_finished());
            // Nothing after the end: more data, finish, fail.
            out.extend(t.push(&chunk(json!({"content": "after"}), Value::Null)));
            out.extend(t.finish());
            out.extend(t.fail("late"));
            let events = decode_output(&out);
            check_well_formed(&events);
            let last = &events.last().unwrap().1;
            assert_eq!(last["type"], "response.failed");
            assert_eq!(last["response"]["status"], "failed");
            assert_eq!(
                last["response"]["error"],
                json!({"code": code, "message": message})
            );
        }
    }

    #[test]
    fn fail_and_cut_off_streams() {
        let mut t = ChatToResponses::new("m");
        let events = decode_output(&t.fail("upstream timed out"));
        check_well_formed(&events);
        assert_eq!(
            events[2].1["response"]["error"],
            json!({"code": "upstream_error", "message": "upstream timed out"})
        );

        // Neither finish_reason nor [DONE]: the answer may be cut short, so it is not `completed`.
        let mut t = ChatToResponses::new("m");
        let data = feed(&mut t, &[chunk(json!({"content": "half"}), Value::Null)]);
        assert_eq!(data.last().unwrap()["type"], "response.failed");

        // A finish_reason without [DONE] is a whole answer.
        let mut t = ChatToResponses::new("m");
        let data = feed(&mut t, &[chunk(json!({"content": "all"}), json!("stop"))]);
        assert_eq!(data.last().unwrap()["type"], "response.completed");
    }

    #[test]
    fn property_truncated_deepseek_streams_stay_well_formed() {
        let body = DEEPSEEK.as_bytes();
        let finish_at = DEEPSEEK.find("\"finish_reason\":\"tool_calls\"").unwrap();
        // `finish` delivers the last line even without its blank line.
        let finish_line_end = finish_at + DEEPSEEK[finish_at..].find('\n').unwrap();
        let event_ends: Vec<usize> = DEEPSEEK.match_indices("\n\n").map(|(i, _)| i + 2).collect();
        for len in 0..=body.len() {
            let (t, events) = run(&[&body[..len]], "m");
            let types = check_well_formed(&events);
            assert!(t.is_finished());
            let last = types.last().unwrap().as_str();
            if len < finish_line_end {
                assert_eq!(last, "response.failed", "len {len}");
            } else if event_ends.contains(&len) {
                assert_eq!(last, "response.completed", "len {len}");
            }
        }
    }

    #[test]
    fn property_mutated_and_random_chunks_never_break_the_stream() {
        let mut decoder = SseDecoder::new();
        let mut base = decoder.push(DEEPSEEK.as_bytes()).unwrap();
        base.extend(decoder.finish());
        let base: Vec<Value> = base
            .iter()
            .filter_map(|e| serde_json::from_str(&e.data).ok())
            .collect();
        let mut rng = Rng::new(0xc4a7_2e5f);
        for round in 0..3000 {
            let mut t = ChatToResponses::new("m");
            let mut out = t.start();
            for v in &base {
                let data = match rng.below(12) {
                    0 => random_value(&mut rng, 4).to_string(),
                    1 => {
                        let s = v.to_string();
                        let cut = rng.below(s.len());
                        s.get(..cut).unwrap_or_default().to_owned()
                    }
                    2..=5 => {
                        let mut m = v.clone();
                        mutate(&mut rng, &mut m);
                        m.to_string()
                    }
                    _ => v.to_string(),
                };
                let event = (rng.below(20) == 0).then(|| "error".to_owned());
                out.extend(t.push(&SseEvent { event, data }));
            }
            if round % 3 == 0 {
                out.extend(t.fail("x"));
            }
            out.extend(t.finish());
            assert!(t.is_finished());
            check_well_formed(&decode_output(&out));
        }
    }
}
