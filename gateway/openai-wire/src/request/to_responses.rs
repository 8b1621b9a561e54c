//! A Chat Completions request body as a Responses request body: a Chat client against a
//! provider that only speaks Responses.

use serde_json::{Map, Value, json};

use super::max_tokens;
use crate::json::{arguments_string, id_string, non_empty_str_at, str_at, text_of};
use crate::{Target, TranslateError};

/// Fields with the same name and meaning in both APIs. Chat-only sampling options (`seed`,
/// `stop`, penalties, `logit_bias`) are dropped: the Responses API rejects unknown parameters.
const PASS_THROUGH: &[&str] = &[
    "temperature",
    "top_p",
    "user",
    "prompt_cache_key",
    "safety_identifier",
];

/// A Chat Completions request body → a Responses request body (`store: false`: the gateway
/// keeps no state, so neither should the provider on its behalf).
pub fn chat_to_responses(body: &Value, target: &Target) -> Result<Value, TranslateError> {
    let Some(req) = body.as_object() else {
        return Err(invalid("the request body must be a JSON object"));
    };
    let messages = match req.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        _ => return Err(invalid("`messages` must be a non-empty array")),
    };
    if req.get("n").and_then(Value::as_u64).is_some_and(|n| n > 1) {
        return Err(invalid(
            "`n` greater than 1 is not supported by this provider",
        ));
    }

    let is_system = |m: &Value| matches!(str_at(m, "role"), Some("system" | "developer"));
    // Leading system messages become `instructions`, unless they are all there is: a Responses
    // request needs some input.
    let leading = messages.iter().take_while(|m| is_system(m)).count();
    let leading = if leading == messages.len() {
        0
    } else {
        leading
    };
    let (head, rest) = messages.split_at(leading);
    let instructions: Vec<String> = head
        .iter()
        .map(|m| {
            m.get("content")
                .map(|c| text_of(c, "\n\n"))
                .unwrap_or_default()
        })
        .filter(|s| !s.is_empty())
        .collect();
    let mut input = Vec::new();
    for (i, message) in rest.iter().enumerate() {
        add_message(&mut input, leading + i, message)?;
    }

    let mut out = Map::new();
    out.insert("model".into(), json!(target.upstream_model));
    if !instructions.is_empty() {
        out.insert("instructions".into(), json!(instructions.join("\n\n")));
    }
    out.insert("input".into(), Value::Array(input));
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
    let (asked, field) = match req.get("max_completion_tokens").filter(|v| !v.is_null()) {
        Some(v) => (Some(v), "max_completion_tokens"),
        None => (req.get("max_tokens"), "max_tokens"),
    };
    if let Some(n) = max_tokens(asked, field, target)? {
        out.insert("max_output_tokens".into(), json!(n));
    }
    for key in PASS_THROUGH {
        if let Some(v) = req.get(*key).filter(|v| !v.is_null()) {
            out.insert((*key).into(), v.clone());
        }
    }
    if target.supports_reasoning
        && let Some(effort) = non_empty_str_at(body, "reasoning_effort")
    {
        out.insert("reasoning".into(), json!({ "effort": effort }));
    }
    if let Some(format) = req.get("response_format").and_then(text_format) {
        out.insert("text".into(), json!({ "format": format }));
    }
    if let Some(stream) = req.get("stream").filter(|v| v.is_boolean()) {
        out.insert("stream".into(), stream.clone());
    }
    out.insert("store".into(), json!(false));
    Ok(Value::Object(out))
}

fn invalid(message: &str) -> TranslateError {
    TranslateError(message.to_owned())
}

fn add_message(input: &mut Vec<Value>, i: usize, message: &Value) -> Result<(), TranslateError> {
    if !message.is_object() {
        return Err(TranslateError(format!("messages[{i}] must be an object")));
    }
    let content = message.get("content");
    match str_at(message, "role") {
        Some("system" | "developer") => {
            let text = content.map(|c| text_of(c, "\n\n")).unwrap_or_default();
            input.push(json!({
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": text}],
            }));
        }
        Some("user") => {
            input.push(json!({"type": "message", "role": "user", "content": user_parts(content)}));
        }
        Some("assistant") => {
            if let Some(reasoning) = non_empty_str_at(message, "reasoning_content") {
                input.push(json!({
                    "type": "reasoning",
                    "summary": [{"type": "summary_text", "text": reasoning}],
                }));
            }
            let parts = assistant_parts(content, non_empty_str_at(message, "refusal"));
            if !parts.is_empty() {
                input.push(json!({"type": "message", "role": "assistant", "content": parts}));
            }
            for call in message
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let function = call.get("function").unwrap_or(&Value::Null);
                let call_id = id_string(call.get("id")).ok_or_else(|| {
                    TranslateError(format!("messages[{i}]: a tool call needs an `id`"))
                })?;
                let name = non_empty_str_at(function, "name").ok_or_else(|| {
                    TranslateError(format!(
                        "messages[{i}]: a tool call needs a function `name`"
                    ))
                })?;
                input.push(json!({
                    "type": "function_call",
                    "call_id": call_id,
                    "name": name,
                    "arguments": arguments_string(function.get("arguments")),
                }));
            }
        }
        Some("tool") => {
            let call_id = id_string(message.get("tool_call_id")).ok_or_else(|| {
                TranslateError(format!(
                    "messages[{i}]: a tool message needs a `tool_call_id`"
                ))
            })?;
            input.push(json!({
                "type": "function_call_output",
                "call_id": call_id,
                "output": content.map(|c| text_of(c, "\n")).unwrap_or_default(),
            }));
        }
        Some(other) => {
            return Err(TranslateError(format!(
                "messages[{i}]: unsupported role `{other}`"
            )));
        }
        None => return Err(TranslateError(format!("messages[{i}] needs a `role`"))),
    }
    Ok(())
}

fn user_parts(content: Option<&Value>) -> Vec<Value> {
    let parts = match content {
        Some(Value::String(s)) => return vec![json!({"type": "input_text", "text": s})],
        Some(Value::Array(parts)) => parts,
        _ => return vec![json!({"type": "input_text", "text": ""})],
    };
    parts
        .iter()
        .filter_map(|part| match str_at(part, "type") {
            Some("text") => str_at(part, "text").map(|t| json!({"type": "input_text", "text": t})),
            Some("image_url") => {
                let image = part.get("image_url")?;
                let url = match image {
                    Value::String(s) => s.as_str(),
                    obj => str_at(obj, "url")?,
                };
                let mut out = Map::new();
                out.insert("type".into(), json!("input_image"));
                out.insert("image_url".into(), json!(url));
                out.insert(
                    "detail".into(),
                    json!(non_empty_str_at(image, "detail").unwrap_or("auto")),
                );
                Some(Value::Object(out))
            }
            Some("file") => {
                let file = part.get("file")?;
                let mut out = Map::new();
                out.insert("type".into(), json!("input_file"));
                for key in ["file_id", "file_data", "filename"] {
                    if let Some(v) = non_empty_str_at(file, key) {
                        out.insert(key.into(), json!(v));
                    }
                }
                Some(Value::Object(out))
            }
            _ => None,
        })
        .collect()
}

fn assistant_parts(content: Option<&Value>, refusal: Option<&str>) -> Vec<Value> {
    let mut parts: Vec<Value> = match content {
        Some(Value::String(s)) if !s.is_empty() => vec![json!({"type": "output_text", "text": s})],
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|part| match str_at(part, "type") {
                Some("text") => {
                    str_at(part, "text").map(|t| json!({"type": "output_text", "text": t}))
                }
                Some("refusal") => {
                    str_at(part, "refusal").map(|r| json!({"type": "refusal", "refusal": r}))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    if let Some(r) = refusal {
        parts.push(json!({"type": "refusal", "refusal": r}));
    }
    parts
}

/// Flat Responses function tools; other Chat tool types (`custom`) are dropped.
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
        let function = tool.get("function").unwrap_or(&Value::Null);
        let name = non_empty_str_at(function, "name")
            .ok_or_else(|| TranslateError(format!("tools[{i}]: a function tool needs a `name`")))?;
        let mut flat = Map::new();
        flat.insert("type".into(), json!("function"));
        flat.insert("name".into(), json!(name));
        for key in ["description", "parameters", "strict"] {
            if let Some(v) = function.get(key).filter(|v| !v.is_null()) {
                flat.insert(key.into(), v.clone());
            }
        }
        out.push(Value::Object(flat));
    }
    Ok(out)
}

fn tool_choice(choice: &Value) -> Option<Value> {
    match choice {
        Value::String(s) if matches!(s.as_str(), "auto" | "none" | "required") => {
            Some(choice.clone())
        }
        Value::Object(_) if str_at(choice, "type") == Some("function") => {
            let name = choice
                .get("function")
                .and_then(|f| non_empty_str_at(f, "name"))?;
            Some(json!({"type": "function", "name": name}))
        }
        _ => None,
    }
}

fn text_format(format: &Value) -> Option<Value> {
    match str_at(format, "type")? {
        "json_object" => Some(json!({"type": "json_object"})),
        "json_schema" => {
            let schema = format.get("json_schema").unwrap_or(&Value::Null);
            let mut out = Map::new();
            out.insert("type".into(), json!("json_schema"));
            for key in ["name", "description", "schema", "strict"] {
                if let Some(v) = schema.get(key).filter(|v| !v.is_null()) {
                    out.insert(key.into(), v.clone());
                }
            }
            Some(Value::Object(out))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::responses_to_chat;
    use crate::testkit::{Rng, mutate};

    fn target() -> Target {
        Target {
            upstream_model: "gpt-5".into(),
            max_output_tokens_cap: Some(4096),
            supports_reasoning: true,
            max_completion_tokens: false,
        }
    }

    fn tool_conversation() -> Value {
        json!({
            "model": "my-alias",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "developer", "content": [{"type": "text", "text": "Use tools."}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "What is here?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA", "detail": "high"}}
                ]},
                {"role": "assistant", "content": "Checking.", "reasoning_content": "need ls",
                 "tool_calls": [
                    {"id": "call_9", "type": "function", "function": {"name": "ls", "arguments": "{}"}},
                    {"id": "call_10", "type": "function", "function": {"name": "pwd", "arguments": ""}}
                 ]},
                {"role": "tool", "tool_call_id": "call_9", "content": "a.txt"},
                {"role": "tool", "tool_call_id": "call_10", "content": [{"type": "text", "text": "/home"}]},
                {"role": "system", "content": "Late note."},
                {"role": "user", "content": "thanks"}
            ],
            "tools": [
                {"type": "function", "function": {"name": "ls", "description": "list", "parameters": {"type": "object"}, "strict": true}},
                {"type": "function", "function": {"name": "pwd"}},
                {"type": "custom", "custom": {"name": "free"}}
            ],
            "tool_choice": {"type": "function", "function": {"name": "ls"}},
            "parallel_tool_calls": true,
            "max_tokens": 100000,
            "temperature": 0.5,
            "seed": 3,
            "stop": ["\n"],
            "reasoning_effort": "low",
            "response_format": {"type": "json_schema", "json_schema": {"name": "o", "schema": {"type": "object"}, "strict": true}},
            "stream": true,
            "stream_options": {"include_usage": true},
            "n": 1
        })
    }

    #[test]
    fn a_tool_conversation_becomes_responses_input() {
        assert_eq!(
            chat_to_responses(&tool_conversation(), &target()).unwrap(),
            json!({
                "model": "gpt-5",
                "instructions": "You are terse.\n\nUse tools.",
                "input": [
                    {"type": "message", "role": "user", "content": [
                        {"type": "input_text", "text": "What is here?"},
                        {"type": "input_image", "image_url": "data:image/png;base64,AAA", "detail": "high"}
                    ]},
                    {"type": "reasoning", "summary": [{"type": "summary_text", "text": "need ls"}]},
                    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
                    {"type": "function_call", "call_id": "call_9", "name": "ls", "arguments": "{}"},
                    {"type": "function_call", "call_id": "call_10", "name": "pwd", "arguments": ""},
                    {"type": "function_call_output", "call_id": "call_9", "output": "a.txt"},
                    {"type": "function_call_output", "call_id": "call_10", "output": "/home"},
                    {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Late note."}]},
                    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "thanks"}]}
                ],
                "tools": [
                    {"type": "function", "name": "ls", "description": "list", "parameters": {"type": "object"}, "strict": true},
                    {"type": "function", "name": "pwd"}
                ],
                "tool_choice": {"type": "function", "name": "ls"},
                "parallel_tool_calls": true,
                "max_output_tokens": 4096,
                "temperature": 0.5,
                "reasoning": {"effort": "low"},
                "text": {"format": {"type": "json_schema", "name": "o", "schema": {"type": "object"}, "strict": true}},
                "stream": true,
                "store": false
            })
        );
    }

    #[test]
    fn max_completion_tokens_wins_and_reasoning_needs_support() {
        let body = json!({"messages": [{"role": "user", "content": "x"}], "max_tokens": 10,
                          "max_completion_tokens": 20, "reasoning_effort": "high",
                          "response_format": {"type": "json_object"}});
        let plain = Target {
            upstream_model: "m".into(),
            ..Target::default()
        };
        assert_eq!(
            chat_to_responses(&body, &plain).unwrap(),
            json!({"model": "m",
                   "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}],
                   "max_output_tokens": 20, "text": {"format": {"type": "json_object"}}, "store": false})
        );
    }

    #[test]
    fn system_only_requests_keep_their_text_as_input() {
        let body = json!({"messages": [{"role": "system", "content": "only me"}]});
        let out = chat_to_responses(&body, &Target::default()).unwrap();
        assert!(out.get("instructions").is_none());
        assert_eq!(
            out["input"],
            json!([{"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "only me"}]}])
        );
    }

    #[test]
    fn refusals_name_the_problem() {
        let cases = [
            (json!("x"), "the request body must be a JSON object"),
            (json!({}), "`messages` must be a non-empty array"),
            (
                json!({"messages": []}),
                "`messages` must be a non-empty array",
            ),
            (
                json!({"messages": [{"role": "user", "content": "x"}], "n": 2}),
                "`n` greater than 1 is not supported by this provider",
            ),
            (json!({"messages": [1]}), "messages[0] must be an object"),
            (
                json!({"messages": [{"role": "tool", "content": "x"}]}),
                "messages[0]: a tool message needs a `tool_call_id`",
            ),
            (
                json!({"messages": [{"role": "wizard", "content": "x"}]}),
                "messages[0]: unsupported role `wizard`",
            ),
            (
                json!({"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]}]}),
                "messages[0]: a tool call needs an `id`",
            ),
            (
                json!({"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function", "function": {}}]}),
                "tools[0]: a function tool needs a `name`",
            ),
        ];
        for (body, message) in cases {
            assert_eq!(
                chat_to_responses(&body, &target()),
                Err(TranslateError(message.into())),
                "{body}"
            );
        }
    }

    #[test]
    fn round_trip_through_both_directions_keeps_the_conversation() {
        let chat_target = Target {
            upstream_model: "chat-model".into(),
            supports_reasoning: true,
            ..Target::default()
        };
        let responses = chat_to_responses(&tool_conversation(), &target()).unwrap();
        let back = responses_to_chat(&responses, &chat_target).unwrap();
        assert_eq!(
            back["messages"][2],
            json!({"role": "assistant", "content": "Checking.", "reasoning_content": "need ls", "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "ls", "arguments": "{}"}},
                {"id": "call_10", "type": "function", "function": {"name": "pwd", "arguments": "{}"}}
            ]})
        );
        assert_eq!(
            back["messages"][0],
            json!({"role": "system", "content": "You are terse.\n\nUse tools."})
        );
        assert_eq!(
            back["tool_choice"],
            json!({"type": "function", "function": {"name": "ls"}})
        );
    }

    #[test]
    fn property_mutated_chat_bodies_never_panic() {
        let base = tool_conversation();
        let mut rng = Rng::new(0x5eed_0002);
        for _ in 0..3000 {
            let mut body = base.clone();
            for _ in 0..1 + rng.below(4) {
                mutate(&mut rng, &mut body);
            }
            if let Ok(out) = chat_to_responses(&body, &target()) {
                assert!(out["input"].is_array());
                assert_eq!(out["store"], false);
            }
        }
    }
}
