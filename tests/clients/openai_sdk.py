"""The official OpenAI Python SDK against codex-central's /v1 (run by tests/it/clients.rs).

Environment: CC_BASE (server URL), CC_KEY (bearer token), CC_RESPONSES_MODEL (a model on a
provider speaking the Responses API), CC_CHAT_MODEL (a model on a provider speaking Chat
Completions). Prints one line per check; exits non-zero on the first failure.
"""

import json
import os
import sys

import openai
from openai import OpenAI

client = OpenAI(base_url=os.environ["CC_BASE"] + "/v1", api_key=os.environ["CC_KEY"], max_retries=0)
responses_model = os.environ["CC_RESPONSES_MODEL"]
chat_model = os.environ["CC_CHAT_MODEL"]
tools_chat = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]


def check(name, ok, detail=""):
    if not ok:
        print(f"FAIL {name}: {detail}", flush=True)
        sys.exit(1)
    print(f"ok {name}", flush=True)


models = [m.id for m in client.models.list()]
check("models.list", responses_model in models and chat_model in models, models)

r = client.responses.create(model=responses_model, input="Say hello")
check("responses.create", r.output_text == "Hello there", r)
check("responses.create usage", r.usage is not None and r.usage.input_tokens == 12, r.usage)

stream = client.responses.create(model=responses_model, input="Say hello", stream=True)
events = list(stream)
text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
check("responses.create stream", text == "Hello there", [e.type for e in events])
check("responses.create stream completed", events[-1].type == "response.completed", events[-1])

c = client.chat.completions.create(
    model=chat_model,
    messages=[{"role": "user", "content": "Weather in Paris?"}],
    tools=tools_chat,
)
call = c.choices[0].message.tool_calls[0]
check("chat.completions.create tool call", call.function.name == "get_weather"
      and json.loads(call.function.arguments) == {"city": "Paris"} and call.id == "call_1", c)
check("chat.completions.create finish", c.choices[0].finish_reason == "tool_calls", c)

s = client.chat.completions.create(
    model=chat_model,
    messages=[
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function",
                                               "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ],
    tools=tools_chat,
    stream=True,
    stream_options={"include_usage": True},
)
chunks = list(s)
text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
check("chat.completions.create stream", text == "It is sunny", chunks)
check("chat.completions.create stream usage", any(ch.usage and ch.usage.total_tokens == 9 for ch in chunks), chunks[-1])

try:
    client.responses.create(model="no-such-model", input="x")
    check("unknown model is 404", False, "no error")
except openai.NotFoundError as e:
    check("unknown model is 404", e.status_code == 404 and e.body.get("code") == "model_not_found", e.body)

bad = OpenAI(base_url=os.environ["CC_BASE"] + "/v1", api_key="m2c_" + "0" * 64, max_retries=0)
try:
    bad.models.list()
    check("bad key is 401", False, "no error")
except openai.AuthenticationError as e:
    check("bad key is 401", e.status_code == 401, e.body)

print("all ok", flush=True)
