//! A Responses request body as a Chat Completions request body: the main case, Codex CLI
//! against a provider that only speaks Chat (DeepSeek, MiMo, ...).

use serde_json::{Map, Value, json};

use super::max_tokens;
use crate::json::{arguments_string, non_empty_str_at, str_at, text_of};
use crate::response::reasoning_text;
use crate::{Target, TranslateError};

/// Sampling fields both APIs (and Chat providers) understand the same way.
const PASS_THROUGH: &[&str] = &[
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "stop",
    "user",
];

/// A Responses request body → a Chat Completions request body.
///
/// Hosted tools (web search, namespaces, custom tools, ...) have no Chat form and are dropped,
/// as are storage and caching options; `previous_response_id` is refused because the gateway
/// keeps no conversation state to expand it from.
pub fn responses_to_chat(body: &Value, target: &Target) -> Result<Value, TranslateError> {
    let Some(req) = body.as_object() else {
        return Err(invalid("the request body must be a JSON object"));
    };
    if req
        .get("previous_response_id")
        .is_some_and(|v| !v.is_null())
    {
        return Err(invalid(
            "previous_response_id is not supported when the provider speaks Chat Completions",
        ));
    }
    let mut conv = Conversation::default();
    match req.get("instructions") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => {
            if !s.is_empty() {
                conv.push_message("system", json!(s));
            }
        }
        Some(_) => return Err(invalid("`instructions` must be a string")),
    }
    match req.get("input") {
        Some(Value::String(s)) => conv.push_message("user", json!(s)),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                conv.add_item(i, item)?;
            }
        }
        _ => return Err(invalid("`input` must be a string or an array of items")),
    }
    if conv.messages.is_empty() {
        return Err(invalid("the request has no messages to send"));
    }

    let mut out = Map::new();
    out.insert("model".into(), json!(target.upstream_model));
    out.insert(
        "messages".into(),
        Value::Array(conv.messages.into_iter().map(Value::Object).collect()),
    );
    let tools = tools(req.get("tools"))?;
    if !tools.is_empty() {
        out.insert("tools".into(), Value::Array(tools));
        if let Some(choice) = req.get("tool_choice").and_then(tool_choice) {
            out.insert("tool_choice".into(), choice);
        }
        if let Some(p) = req.get("parallel_tool_calls").filter(|v| v.is_boolean()) {
            out.insert("parallel_tool_calls".into(), p.clone());
        }
    }
    if let Some(n) = max_tokens(req.get("max_output_tokens"), "max_output_tokens", target)? {
        let field = if target.max_completion_tokens {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        out.insert(field.into(), json!(n));
    }
    for key in PASS_THROUGH {
        if let Some(v) = req.get(*key).filter(|v| !v.is_null()) {
            out.insert((*key).into(), v.clone());
        }
    }
    if target.supports_reasoning
        && let Some(effort) = req
            .get("reasoning")
            .and_then(|r| non_empty_str_at(r, "effort"))
    {
        out.insert("reasoning_effort".into(), json!(effort));
    }
    if let Some(format) = req
        .get("text")
        .and_then(|t| t.get("format"))
        .and_then(response_format)
    {
        out.insert("response_format".into(), format);
    }
    if req.get("stream").and_then(Value::as_bool) == Some(true) {
        out.insert("stream".into(), json!(true));
        // Without it Chat streams carry no usage, and usage is what the gateway bills on.
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Ok(Value::Object(out))
}

fn invalid(message: &str) -> TranslateError {
    TranslateError(message.to_owned())
}

/// The Chat messages being built from the Responses items.
#[derive(Default)]
struct Conversation {
    messages: Vec<Map<String, Value>>,
    /// Reasoning waiting for the assistant message it belongs to: DeepSeek's thinking mode
    /// wants the reasoning of a tool-calling turn back on that turn's message.
    reasoning: Vec<String>,
}

impl Conversation {
    fn push_message(&mut self, role: &str, content: Value) {
        let mut m = Map::new();
        m.insert("role".into(), json!(role));
        m.insert("content".into(), content);
        if role == "assistant" {
            if !self.reasoning.is_empty() {
                m.insert(
                    "reasoning_content".into(),
                    json!(std::mem::take(&mut self.reasoning).join("\n\n")),
                );
            }
        } else {
            // Reasoning followed by anything but the model's own answer belongs to no turn.
            self.reasoning.clear();
        }
        self.messages.push(m);
    }

    /// Parallel calls share one assistant message, which may also hold the turn's text; pending
    /// reasoning means a new turn started, so the call then opens its own message.
    fn push_tool_call(&mut self, call: Value) {
        let merge = self.reasoning.is_empty()
            && self
                .messages
                .last()
                .is_some_and(|m| m.get("role").and_then(Value::as_str) == Some("assistant"));
        if !merge {
            self.push_message("assistant", Value::Null);
        }
        let Some(last) = self.messages.last_mut() else {
            return;
        };
        match last.get_mut("tool_calls").and_then(Value::as_array_mut) {
            Some(calls) => calls.push(call),
            None => {
                last.insert("tool_calls".into(), json!([call]));
            }
        }
    }

    fn push_tool_output(&mut self, i: usize, item: &Value) -> Result<(), TranslateError> {
        let call_id = non_empty_str_at(item, "call_id").ok_or_else(|| {
            TranslateError(format!("input[{i}]: a tool call output needs a `call_id`"))
        })?;
        let output = match item.get("output") {
            Some(Value::String(s)) => s.clone(),
            Some(parts @ Value::Array(_)) => text_of(parts, "\n"),
            None | Some(Value::Null) => String::new(),
            Some(other) => other.to_string(),
        };
        self.reasoning.clear();
        let mut m = Map::new();
        m.insert("role".into(), json!("tool"));
        m.insert("tool_call_id".into(), json!(call_id));
        m.insert("content".into(), json!(output));
        self.messages.push(m);
        Ok(())
    }

    fn add_item(&mut self, i: usize, item: &Value) -> Result<(), TranslateError> {
        if !item.is_object() {
            return Err(TranslateError(format!("input[{i}] must be an object")));
        }
        let kind = match str_at(item, "type") {
            Some(kind) => kind,
            None if item.get("role").is_some() => "message",
            None => return Err(TranslateError(format!("input[{i}] has no `type`"))),
        };
        match kind {
            "message" => {
                let role = match str_at(item, "role") {
                    Some("developer" | "system") => "system",
                    Some("user") => "user",
                    Some("assistant") => "assistant",
                    Some(other) => {
                        return Err(TranslateError(format!(
                            "input[{i}]: unsupported message role `{other}`"
                        )));
                    }
                    None => {
                        return Err(TranslateError(format!(
                            "input[{i}]: a message needs a `role`"
                        )));
                    }
                };
                let content = message_content(role, item.get("content"));
                self.push_message(role, content);
            }
            "function_call" | "custom_tool_call" => {
                let call_id = non_empty_str_at(item, "call_id").ok_or_else(|| {
                    TranslateError(format!("input[{i}]: a {kind} needs a `call_id`"))
                })?;
                let name = non_empty_str_at(item, "name").ok_or_else(|| {
                    TranslateError(format!("input[{i}]: a {kind} needs a `name`"))
                })?;
                let field = if kind == "function_call" {
                    "arguments"
                } else {
                    "input"
                };
                let mut arguments = arguments_string(item.get(field));
                if arguments.is_empty() {
                    // Providers parse the arguments of past calls; an empty string is not JSON.
                    arguments = "{}".into();
                }
                self.push_tool_call(json!({
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }));
            }
            "function_call_output" | "custom_tool_call_output" => self.push_tool_output(i, item)?,
            "reasoning" => {
                let text = reasoning_text(item);
                if !text.is_empty() {
                    self.reasoning.push(text);
                }
            }
            // Hosted tool calls, item references, ...: nothing a Chat provider could use.
            _ => {}
        }
        Ok(())
    }
}

/// Message content: one string when it is only text, else a parts array (images, files).
/// Assistant text arrives in pieces of one answer and is joined as is; separate input parts
/// are separate paragraphs.
fn message_content(role: &str, content: Option<&Value>) -> Value {
    let parts = match content {
        Some(Value::String(s)) => return json!(s),
        Some(Value::Array(parts)) => parts,
        _ => return json!(""),
    };
    let sep = if role == "assistant" { "" } else { "\n\n" };
    let mut texts: Vec<&str> = Vec::new();
    let mut chat_parts: Vec<Value> = Vec::new();
    let mut rich = false;
    for part in parts {
        let text = match str_at(part, "type") {
            Some("input_text" | "output_text" | "text") => str_at(part, "text"),
            Some("refusal") => str_at(part, "refusal"),
            Some("input_image") => {
                if let Some(image) = image_part(part) {
                    chat_parts.push(image);
                    rich = true;
                }
                None
            }
            Some("input_file") => {
                if let Some(file) = file_part(part) {
                    chat_parts.push(file);
                    rich = true;
                }
                None
            }
            _ => None,
        };
        if let Some(text) = text {
            texts.push(text);
            chat_parts.push(json!({"type": "text", "text": text}));
        }
    }
    if rich {
        Value::Array(chat_parts)
    } else {
        json!(texts.join(sep))
    }
}

/// `input_image` with a URL (or data URL); an uploaded `file_id` has no Chat form.
fn image_part(part: &Value) -> Option<Value> {
    let url = match part.get("image_url")? {
        Value::String(s) => s.as_str(),
        obj => str_at(obj, "url")?,
    };
    let mut image = Map::new();
    image.insert("url".into(), json!(url));
    if let Some(detail) = non_empty_str_at(part, "detail") {
        image.insert("detail".into(), json!(detail));
    }
    Some(json!({"type": "image_url", "image_url": image}))
}

/// `input_file` by id or inline data; a `file_url` has no Chat form.
fn file_part(part: &Value) -> Option<Value> {
    let mut file = Map::new();
    for key in ["file_id", "file_data", "filename"] {
        if let Some(v) = non_empty_str_at(part, key) {
            file.insert(key.into(), json!(v));
        }
    }
    (file.contains_key("file_id") || file.contains_key("file_data"))
        .then(|| json!({"type": "file", "file": file}))
}

/// Function tools in the Chat shape; every other tool type is dropped.
fn tools(tools: Option<&Value>) -> Result<Vec<Value>, TranslateError> {
    let list = match tools {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(invalid("`tools` must be an array")),
    };
    let mut out = Vec::new();
    for (i, tool) in list.iter().enumerate() {
        if !tool.is_object() {
            return Err(TranslateError(format!("tools[{i}] must be an object")));
        }
        if str_at(tool, "type") != Some("function") {
            continue;
        }
        let name = non_empty_str_at(tool, "name")
            .ok_or_else(|| TranslateError(format!("tools[{i}]: a function tool needs a `name`")))?;
        let mut function = Map::new();
        function.insert("name".into(), json!(name));
        for key in ["description", "parameters", "strict"] {
            if let Some(v) = tool.get(key).filter(|v| !v.is_null()) {
                function.insert(key.into(), v.clone());
            }
        }
        out.push(json!({"type": "function", "function": function}));
    }
    Ok(out)
}

/// `tool_choice` in the Chat shape; choices naming hosted tools have none and are dropped,
/// which leaves the provider's default (`auto`).
fn tool_choice(choice: &Value) -> Option<Value> {
    match choice {
        Value::String(s) if matches!(s.as_str(), "auto" | "none" | "required") => {
            Some(choice.clone())
        }
        Value::Object(_) if str_at(choice, "type") == Some("function") => {
            let name = non_empty_str_at(choice, "name")?;
            Some(json!({"type": "function", "function": {"name": name}}))
        }
        _ => None,
    }
}

/// `text.format` as `response_format`; plain text is the default and needs none.
fn response_format(format: &Value) -> Option<Value> {
    match str_at(format, "type")? {
        "json_object" => Some(json!({"type": "json_object"})),
        "json_schema" => {
            let mut schema = Map::new();
            for key in ["name", "description", "schema", "strict"] {
                if let Some(v) = format.get(key).filter(|v| !v.is_null()) {
                    schema.insert(key.into(), v.clone());
                }
            }
            Some(json!({"type": "json_schema", "json_schema": schema}))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Rng, mutate};

    const TURN1: &str = include_str!("../../testdata/codex-0.169/responses-request-turn1.json");
    const AFTER_TOOL: &str =
        include_str!("../../testdata/codex-0.169/responses-request-after-tool-call.json");

    fn body_of(fixture: &str) -> Value {
        let v: Value = serde_json::from_str(fixture).unwrap();
        v["body"].clone()
    }

    fn deepseek() -> Target {
        Target {
            upstream_model: "deepseek-chat".into(),
            max_output_tokens_cap: None,
            supports_reasoning: false,
            max_completion_tokens: false,
        }
    }

    #[test]
    fn openai_kind_gets_max_completion_tokens() {
        let body = json!({"model": "m", "input": "hi", "max_output_tokens": 300});
        let openai = Target {
            upstream_model: "gpt".into(),
            max_completion_tokens: true,
            ..Target::default()
        };
        let out = responses_to_chat(&body, &openai).unwrap();
        assert_eq!(out["max_completion_tokens"], 300);
        assert!(out.get("max_tokens").is_none());
        let other = responses_to_chat(&body, &Target::default()).unwrap();
        assert_eq!(other["max_tokens"], 300);
    }

    #[test]
    fn codex_turn_after_a_tool_call() {
        let body = body_of(AFTER_TOOL);
        let chat = responses_to_chat(&body, &deepseek()).unwrap();
        let messages = chat["messages"].as_array().unwrap();
        let roles: Vec<&str> = messages
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(
            roles,
            ["system", "system", "user", "user", "assistant", "tool"]
        );
        // Codex's base instructions arrive as the first developer message.
        assert_eq!(
            messages[0]["content"],
            body["input"][0]["content"][0]["text"]
        );
        // Two input_text parts of one message are two paragraphs.
        assert_eq!(
            messages[1]["content"].as_str().unwrap(),
            format!(
                "{}\n\n{}",
                body["input"][1]["content"][0]["text"].as_str().unwrap(),
                body["input"][1]["content"][1]["text"].as_str().unwrap()
            )
        );
        assert_eq!(messages[3], json!({"role": "user", "content": "run echo"}));
        assert_eq!(
            messages[4],
            json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "exec_command", "arguments": "{\"cmd\": \"echo tool-ran\"}"}
            }]})
        );
        assert_eq!(messages[5]["tool_call_id"], "call_1");
        assert_eq!(messages[5]["content"], body["input"][5]["output"]);

        let tools = chat["tools"].as_array().unwrap();
        let names: Vec<&str> = tools
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "exec_command",
                "write_stdin",
                "request_user_input",
                "view_image",
                "get_goal",
                "create_goal",
                "update_goal"
            ]
        );
        assert!(tools.iter().all(|t| t["type"] == "function"));
        assert_eq!(
            tools[0]["function"]["parameters"],
            body["tools"][0]["parameters"]
        );
        assert_eq!(tools[0]["function"]["strict"], json!(false));
        assert_eq!(chat["model"], "deepseek-chat");
        assert_eq!(chat["tool_choice"], "auto");
        assert_eq!(chat["parallel_tool_calls"], true);
        assert_eq!(chat["stream"], true);
        assert_eq!(chat["stream_options"], json!({"include_usage": true}));
        for dropped in [
            "store",
            "include",
            "prompt_cache_key",
            "client_metadata",
            "reasoning",
            "input",
            "reasoning_effort",
            "max_tokens",
        ] {
            assert!(chat.get(dropped).is_none(), "{dropped} leaked");
        }
    }

    #[test]
    fn codex_first_turn_has_no_tool_messages() {
        let chat = responses_to_chat(&body_of(TURN1), &deepseek()).unwrap();
        let roles: Vec<&str> = chat["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["system", "system", "user", "user"]);
        assert_eq!(chat["tools"].as_array().unwrap().len(), 7);
    }

    #[test]
    fn instructions_string_input_and_options() {
        let body = json!({
            "model": "codex-deep",
            "instructions": "Be brief.",
            "input": "hi",
            "max_output_tokens": 9000,
            "temperature": 0.2,
            "top_p": 0.9,
            "user": "u1",
            "reasoning": {"effort": "high", "summary": "auto"},
            "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true}, "verbosity": "low"},
            "store": true,
            "truncation": "auto",
            "service_tier": "flex",
            "metadata": {"a": "b"},
            "tools": [{"type": "web_search"}],
            "tool_choice": "required"
        });
        let target = Target {
            upstream_model: "deepseek-reasoner".into(),
            max_output_tokens_cap: Some(8192),
            supports_reasoning: true,
            max_completion_tokens: false,
        };
        assert_eq!(
            responses_to_chat(&body, &target).unwrap(),
            json!({
                "model": "deepseek-reasoner",
                "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
                "max_tokens": 8192,
                "temperature": 0.2,
                "top_p": 0.9,
                "user": "u1",
                "reasoning_effort": "high",
                "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}}
            })
        );
        let no_reasoning = responses_to_chat(&body, &deepseek()).unwrap();
        assert!(no_reasoning.get("reasoning_effort").is_none());
        assert!(no_reasoning.get("max_tokens").is_some());
        let json_object = json!({"input": "x", "text": {"format": {"type": "json_object"}}});
        assert_eq!(
            responses_to_chat(&json_object, &deepseek()).unwrap()["response_format"],
            json!({"type": "json_object"})
        );
    }

    #[test]
    fn parallel_calls_merge_and_reasoning_goes_to_the_next_assistant_message() {
        let body = json!({"input": [
            {"role": "user", "content": "go"},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "think"}], "encrypted_content": "opaque"},
            {"type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": "I'll run "}, {"type": "output_text", "text": "two."}]},
            {"type": "function_call", "call_id": "c1", "name": "a", "arguments": "{}"},
            {"type": "function_call", "call_id": "c2", "name": "b", "arguments": "{\"x\":1}"},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {"type": "function_call_output", "call_id": "c2", "output": [
                {"type": "input_text", "text": "line1"}, {"type": "input_image", "image_url": "data:x"}, {"type": "input_text", "text": "line2"}]},
            {"type": "reasoning", "summary": [], "content": [{"type": "reasoning_text", "text": "full thoughts"}]},
            {"type": "function_call", "call_id": "c3", "name": "a"},
            {"type": "function_call_output", "call_id": "c3", "output": "ok"},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "orphan"}]},
            {"type": "web_search_call", "id": "ws_1"},
            {"type": "custom_tool_call", "call_id": "c4", "name": "apply_patch", "input": "*** Begin Patch"},
            {"type": "custom_tool_call_output", "call_id": "c4", "output": "done"},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "dropped: a user message follows"}]},
            {"role": "user", "content": [{"type": "input_text", "text": "look"}, {"type": "input_image", "image_url": {"url": "https://i/x.png"}, "detail": "low"}]}
        ]});
        let chat = responses_to_chat(&body, &deepseek()).unwrap();
        assert_eq!(
            chat["messages"],
            json!([
                {"role": "user", "content": "go"},
                {"role": "assistant", "content": "I'll run two.", "reasoning_content": "think", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "a", "arguments": "{}"}},
                    {"id": "c2", "type": "function", "function": {"name": "b", "arguments": "{\"x\":1}"}}
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "one"},
                {"role": "tool", "tool_call_id": "c2", "content": "line1\nline2"},
                {"role": "assistant", "content": null, "reasoning_content": "full thoughts", "tool_calls": [
                    {"id": "c3", "type": "function", "function": {"name": "a", "arguments": "{}"}}
                ]},
                {"role": "tool", "tool_call_id": "c3", "content": "ok"},
                {"role": "assistant", "content": null, "reasoning_content": "orphan", "tool_calls": [
                    {"id": "c4", "type": "function", "function": {"name": "apply_patch", "arguments": "*** Begin Patch"}}
                ]},
                {"role": "tool", "tool_call_id": "c4", "content": "done"},
                {"role": "user", "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "https://i/x.png", "detail": "low"}}
                ]}
            ])
        );
    }

    #[test]
    fn tool_choice_and_tools_shapes() {
        let body = json!({
            "input": "x",
            "tools": [
                {"type": "function", "name": "f", "parameters": {"type": "object"}},
                {"type": "namespace", "name": "ns", "tools": []},
                {"type": "custom", "name": "apply_patch"},
                {"type": "local_shell"}
            ],
            "tool_choice": {"type": "function", "name": "f"},
            "parallel_tool_calls": false
        });
        let chat = responses_to_chat(&body, &deepseek()).unwrap();
        assert_eq!(
            chat["tools"],
            json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])
        );
        assert_eq!(
            chat["tool_choice"],
            json!({"type": "function", "function": {"name": "f"}})
        );
        assert_eq!(chat["parallel_tool_calls"], false);
        let only_hosted = json!({"input": "x", "tools": [{"type": "web_search"}], "tool_choice": "auto", "parallel_tool_calls": true});
        let chat = responses_to_chat(&only_hosted, &deepseek()).unwrap();
        for key in ["tools", "tool_choice", "parallel_tool_calls"] {
            assert!(chat.get(key).is_none(), "{key}");
        }
    }

    #[test]
    fn refusals_name_the_problem() {
        let cases = [
            (json!([]), "the request body must be a JSON object"),
            (json!({}), "`input` must be a string or an array of items"),
            (
                json!({"input": 5}),
                "`input` must be a string or an array of items",
            ),
            (json!({"input": [5]}), "input[0] must be an object"),
            (json!({"input": []}), "the request has no messages to send"),
            (
                json!({"input": "x", "previous_response_id": "resp_1"}),
                "previous_response_id is not supported when the provider speaks Chat Completions",
            ),
            (
                json!({"input": [{"type": "function_call", "name": "f"}]}),
                "input[0]: a function_call needs a `call_id`",
            ),
            (
                json!({"input": [{"type": "function_call", "call_id": "c"}]}),
                "input[0]: a function_call needs a `name`",
            ),
            (
                json!({"input": "x", "tools": [{"type": "function"}]}),
                "tools[0]: a function tool needs a `name`",
            ),
            (
                json!({"input": [{"role": "critic", "content": "x"}]}),
                "input[0]: unsupported message role `critic`",
            ),
            (
                json!({"input": "x", "max_output_tokens": -3}),
                "`max_output_tokens` must be a non-negative integer",
            ),
        ];
        for (body, message) in cases {
            assert_eq!(
                responses_to_chat(&body, &deepseek()),
                Err(TranslateError(message.into())),
                "{body}"
            );
        }
    }

    #[test]
    fn property_mutated_codex_bodies_never_panic() {
        let base = body_of(AFTER_TOOL);
        let mut rng = Rng::new(0x5eed_0001);
        for _ in 0..3000 {
            let mut body = base.clone();
            for _ in 0..1 + rng.below(4) {
                mutate(&mut rng, &mut body);
            }
            if let Ok(chat) = responses_to_chat(&body, &deepseek()) {
                let messages = chat["messages"].as_array().unwrap();
                assert!(!messages.is_empty());
                assert!(messages.iter().all(|m| m["role"].is_string()));
                assert_eq!(chat["model"], "deepseek-chat");
            }
        }
    }
}
