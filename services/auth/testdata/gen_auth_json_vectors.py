#!/usr/bin/env python3
"""Generate auth_json_vectors.json: what a Codex host computes over its auth.json.

A host's digest is sha256(json.dumps(json.loads(text), ensure_ascii=False,
separators=(",", ":"))). The server must produce the same compact text from the raw upload, so
these vectors pin Python's behaviour and the Rust tests need no Python at test time.

Only number forms that Python writes back unchanged appear here (ints, floats such as 1.0, 0.5,
1.25); the server keeps every number token as written, so forms like 1e5 are tested in Rust.

Run from anywhere: python3 gen_auth_json_vectors.py  (writes next to this script).
All tokens below are fake and deterministic.
"""

import base64
import hashlib
import json
import os


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def fake_jwt(claims: dict, seed: str) -> str:
    header = {"alg": "RS256", "kid": "fake-kid-0001", "typ": "JWT"}
    signature = hashlib.sha512(seed.encode("utf-8")).digest() * 4
    return ".".join(
        [
            b64url(json.dumps(header, separators=(",", ":")).encode("utf-8")),
            b64url(json.dumps(claims, separators=(",", ":")).encode("utf-8")),
            b64url(signature),
        ]
    )


ACCOUNT = "3f9c1a2e-7b4d-4e8f-9a01-5c6d7e8f9a0b"
AUTH_CLAIM = {
    "chatgpt_account_id": ACCOUNT,
    "chatgpt_plan_type": "pro",
    "chatgpt_user_id": "user-FAKEfakeFAKEfake0001",
    "organizations": [{"id": "org-FAKE0001", "is_default": True, "role": "owner", "title": "Personal"}],
}
ID_TOKEN = fake_jwt(
    {
        "aud": ["app_FAKEclientID0001"],
        "email": "dev@example.com",
        "email_verified": True,
        "exp": 1767225600,
        "iat": 1767222000,
        "iss": "https://auth.openai.com",
        "https://api.openai.com/auth": AUTH_CLAIM,
        "sub": "auth0|fakefakefake0001",
    },
    "id",
)
ACCESS_TOKEN = fake_jwt(
    {
        "aud": ["https://api.openai.com/v1"],
        "client_id": "app_FAKEclientID0001",
        "exp": 1768086000,
        "https://api.openai.com/auth": AUTH_CLAIM,
        "https://api.openai.com/profile": {"email": "dev@example.com", "email_verified": True},
        "iat": 1767222000,
        "scp": ["openid", "profile", "email", "offline_access"],
    },
    "access",
)
REFRESH_TOKEN = "rt_" + b64url(hashlib.sha256(b"refresh").digest() * 2)
API_KEY = "sk-proj-" + b64url(hashlib.sha256(b"api-key").digest() * 2)


def pretty(obj, indent=2) -> str:
    return json.dumps(obj, indent=indent, ensure_ascii=False) + "\n"


def codex_chatgpt_auth() -> dict:
    # Key order as Codex writes it: OPENAI_API_KEY, tokens, last_refresh.
    return {
        "OPENAI_API_KEY": None,
        "tokens": {
            "id_token": ID_TOKEN,
            "access_token": ACCESS_TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "account_id": ACCOUNT,
        },
        "last_refresh": "2025-09-03T07:12:45.123456789Z",
    }


# (name, raw text). Raw texts are written out by hand where the escaping in the input matters.
VECTORS = [
    ("codex_chatgpt_pretty", pretty(codex_chatgpt_auth())),
    ("codex_chatgpt_compact", json.dumps(codex_chatgpt_auth(), ensure_ascii=False, separators=(",", ":"))),
    (
        "codex_api_key_mode",
        pretty({"OPENAI_API_KEY": API_KEY, "tokens": None, "last_refresh": "2025-09-03T07:12:45Z"}),
    ),
    (
        "peer_canonical_with_auths_and_floats",
        "{\n"
        '    "OPENAI_API_KEY": null,\n'
        '    "tokens": {"access_token": "' + ACCESS_TOKEN + '", "account_id": "' + ACCOUNT + '"},\n'
        '    "last_refresh": "2025-09-03T09:12:45+02:00",\n'
        '    "auths": {\n'
        '        "api.openai.com": {"token": "' + ACCESS_TOKEN + '", "token_type": "bearer",'
        ' "api_base": "https:\\/\\/api.openai.com\\/v1"}\n'
        "    },\n"
        '    "meta": {"ratio": 0.5, "weight": 1.0, "scale": 1.25, "offset": -2.5, "zero": 0.0,'
        ' "neg_zero": -0.0, "pi": 3.14159, "tenth": 0.1, "hundred": 100.0,'
        ' "count": 42, "delta": -7, "big": 12345678901234567890, "nothing": null,'
        ' "yes": true, "no": false}\n'
        "}\n",
    ),
    (
        "nested_empty_containers",
        '{ "a" : { } , "b" : [ ] , "c" : [ { } , [ ] , [ [ ] ] ] , "d" : { "e" : { "f" : { } } } }',
    ),
    (
        "unicode_raw",
        '{"name": "José 中文 😀", "note": "naïve café", "emoji_key_😀": "ok", "rtl": "שלום"}',
    ),
    (
        "unicode_escaped_input",
        r'{"name": "Jos\u00e9 \u4e2d\u6587 \ud83d\ude00", "upper_hex": "\u00E9\u00C9",'
        r' "k\u00e9y": "v", "line_sep": "a\u2028b\u2029c", "del": "x\u007fy"}',
    ),
    (
        "escaped_slashes_and_urls",
        r'{"issuer": "https:\/\/auth.openai.com", "raw": "https://chatgpt.com/backend-api/",'
        r' "path": "C:\\Users\\dev\\.codex\\auth.json"}',
    ),
    (
        "control_characters",
        r'{"nl": "a\nb", "cr": "a\rb", "tab": "a\tb", "bs": "a\bb", "ff": "a\fb",'
        r' "soh": "a\u0001b", "nul": "\u0000", "us": "\u001f", "esc": "\u001B",'
        r' "quote": "say \"hi\"", "backslash": "\\", "solidus": "\/"}',
    ),
    (
        "whitespace_kinds",
        '\r\n\t{\r\n\t"a":\t1,\r\n\t"b" :\n[\n1 ,\n2\n]\r\n}\r\n  ',
    ),
    ("pretty_indent_4", pretty({"x": [1, 2, {"y": [True, False, None]}], "z": {"s": "t/u"}}, indent=4)),
    ("empty_key_and_value", '{"": "", " ": " "}'),
    ("top_level_array", '[ 1 , "two" , 3.5 , null , [ ] , { } ]'),
    ("top_level_string", '  "caf\\u00e9"  '),
    ("top_level_number", " -12.75 "),
    ("empty_object", "{}"),
    ("empty_object_spaced", "{ \n }"),
    ("empty_array", "[\n]"),
]


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise SystemExit(f"duplicate keys in a vector: {keys}")
    return dict(pairs)


def build():
    out = []
    for name, raw in VECTORS:
        json.loads(raw, object_pairs_hook=no_duplicates)
        compact = json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":"))
        out.append(
            {
                "name": name,
                "raw": raw,
                "compact": compact,
                "sha256": hashlib.sha256(compact.encode("utf-8")).hexdigest(),
            }
        )
    return out


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "auth_json_vectors.json")
    # ASCII-only output so the vector file itself cannot be mangled by an editor's encoding.
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(build(), f, indent=2, ensure_ascii=True)
        f.write("\n")
    print(f"wrote {len(VECTORS)} vectors to {path}")


if __name__ == "__main__":
    main()
