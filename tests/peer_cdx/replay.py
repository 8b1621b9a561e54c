#!/usr/bin/env python3
"""Replays one run of codex-orchestrator's bash `cdx` (build 2025.12.18-06) against a server:
the requests it sends and the way it reads the answers, written from its observed behaviour
(not its code). Every read that would crash the wrapper's inline Python crashes here too.

Environment: CDX_BASE (server URL), CDX_KEY (host key), HOME (a scratch home with
~/.codex), CDX_WRAPPER (path of the installed, baked wrapper script).
Prints one JSON line per step ({"step", "ok", "detail"}) and exits 1 if a step failed."""

import hashlib
import json
import os
import pathlib
import sys
import urllib.error
import urllib.request

BASE = os.environ["CDX_BASE"].rstrip("/")
KEY = os.environ["CDX_KEY"]
WRAPPER_VERSION = "2025.12.18-06"
CODEX = pathlib.Path(os.environ["HOME"]) / ".codex"
failed = []


def call(method, path, payload=None, ascii_only=False):
    data = None
    headers = {"X-API-Key": KEY}
    if payload is not None:
        data = json.dumps(payload, ensure_ascii=ascii_only, separators=(",", ":")).encode("utf-8")
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(BASE + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=20) as resp:
        return json.load(resp)


def step(name, fn):
    try:
        detail = fn()
        print(json.dumps({"step": name, "ok": True, "detail": detail}))
    except urllib.error.HTTPError as e:
        failed.append(name)
        print(json.dumps({"step": name, "ok": False, "detail": f"http-{e.code}: {e.read()[:200]!r}"}))
    except Exception as e:  # the wrapper's inline Python dies the same way
        failed.append(name)
        print(json.dumps({"step": name, "ok": False, "detail": f"{type(e).__name__}: {e}"}))


def sha_text(path):
    # Prompts and skills: text mode, so CRLF becomes LF before hashing.
    return hashlib.sha256(path.read_text("utf-8").encode("utf-8")).hexdigest()


def sha_bytes(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


state = {}


def host_users():
    users = call("POST", "/host/users", {"username": "dev", "hostname": "peer-1.example.com"})
    listed = users.get("data", {}).get("users")
    assert isinstance(listed, list), listed
    return len(listed)


def auth_pull():
    current = {"last_refresh": "2000-01-01T00:00:00Z", "auths": {}}
    digest = hashlib.sha256(
        json.dumps(current, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    ).hexdigest()
    body = call("POST", "/auth", {
        "command": "retrieve", "last_refresh": current["last_refresh"], "digest": digest,
        "client_version": "0.169.0", "wrapper_version": WRAPPER_VERSION,
    })
    data = body.get("data")
    status = data.get("status")
    data.get("canonical_digest") or data.get("digest")
    versions = data.get("versions") or {}
    for field in ("client_version", "wrapper_version", "wrapper_sha256", "wrapper_url"):
        value = versions.get(field)
        if isinstance(value, str) and value:
            state[field] = value
    usage = data.get("chatgpt_usage")
    primary = usage.get("primary_window")  # no null check in the wrapper
    secondary = usage.get("secondary_window")
    for window in (primary, secondary):
        for field in ("used_percent", "limit_seconds", "reset_after_seconds"):
            value = window.get(field)
            assert isinstance(value, (int, float)), (field, value)
            state.setdefault("numbers", []).append(int(value))
    # The summary's integer arithmetic under set -e.
    limit = int(data.get("quota_limit_percent") or 100)
    used = int(secondary["used_percent"])
    seconds = int(secondary["limit_seconds"])
    elapsed = seconds - int(secondary["reset_after_seconds"])
    if elapsed > 0:
        (used * seconds + elapsed // 2) // elapsed
    assert used < limit or data.get("quota_hard_fail") is not None
    host = data.get("host") or {}
    assert isinstance(host.get("secure"), (bool, int)), host
    if status == "outdated":
        auth = data.get("auth") or current
        lr = data.get("canonical_last_refresh") or data.get("last_refresh")
        if isinstance(lr, str):
            auth["last_refresh"] = lr
        CODEX.mkdir(parents=True, exist_ok=True)
        path = CODEX / "auth.json"
        path.write_text(json.dumps(auth, indent=2) + "\n")
        os.chmod(path, 0o600)
    elif status not in ("valid", "missing", "upload_required"):
        raise AssertionError(f"status {status!r} would make the wrapper upload an empty auth")
    return status


def pull_list(list_path, items_key, name_key, retrieve_path, body_key, directory):
    body = call("GET", list_path)
    items = (body.get("data") or {}).get(items_key) or []
    directory.mkdir(parents=True, exist_ok=True)
    written, removed = [], []
    for item in items:
        name, sha = item.get(name_key), item.get("sha256")
        if item.get("deleted_at"):
            (directory / name).unlink(missing_ok=True)
            removed.append(name)
            continue
        if not name or not sha:
            continue
        local = directory / name
        payload = {name_key: name}
        if local.exists():
            if sha_text(local) == sha:
                continue
            payload["sha256"] = sha_text(local)
        data = call("POST", retrieve_path, payload).get("data")
        if data.get("status") == "unchanged":
            continue
        text = data.get(body_key)
        assert isinstance(text, str), data
        local.write_text(text, encoding="utf-8")
        assert sha_text(local) == sha, "the digest the list promised"
        written.append(name)
    return {"written": written, "removed": removed}


def doc_pull(path, local):
    payload = {}
    if local.exists():
        payload = {"sha256": sha_bytes(local)}
    data = call("POST", path, payload).get("data")
    status = data.get("status")
    if status == "missing":
        local.unlink(missing_ok=True)
    elif status == "updated":
        assert isinstance(data.get("content"), str), data
        local.write_text(data["content"], encoding="utf-8")
    elif status != "unchanged":
        raise AssertionError(f"unknown-status:{status}")
    size = data.get("size_bytes")
    assert size is None or isinstance(size, int), data
    return status


def wrapper_check():
    installed = pathlib.Path(os.environ["CDX_WRAPPER"])
    target = state.get("wrapper_version", WRAPPER_VERSION)
    url = state.get("wrapper_url", "/wrapper/download")
    if target != WRAPPER_VERSION:
        raise AssertionError(f"update to {target} (update loop: the script says {WRAPPER_VERSION})")
    if "wrapper_sha256" in state and sha_bytes(installed) != state["wrapper_sha256"]:
        raise AssertionError("hash mismatch: wrapper_sha256 is not the digest of this host's script")
    req = urllib.request.Request(url if url.startswith("http") else BASE + url, headers={"X-API-Key": KEY})
    with urllib.request.urlopen(req, timeout=20) as resp:
        served = resp.read()
    assert hashlib.sha256(served).hexdigest() == state.get("wrapper_sha256"), "download digest"
    return "current"


def usage():
    line = "Token usage: total=1,234 input=1,000 (+ 200 cached) output=234 (reasoning 34)"
    call("POST", "/usage", {"usages": [
        {"total": 1234, "input": 1000, "output": 234, "cached": 200, "reasoning": 34, "line": line}
    ]}, ascii_only=True)
    return "recorded"


def push(directory, baseline, store_path, name_key, body_key):
    pushed = []
    for local in sorted(directory.iterdir()):
        if not local.is_file() or baseline.get(local.name) == sha_text(local):
            continue
        content = local.read_text("utf-8")
        payload = {name_key: local.name, body_key: content, "sha256": sha_text(local)}
        data = call("POST", store_path, payload).get("data")
        assert data.get("status") in ("created", "updated", "unchanged"), data
        pushed.append(local.name)
    return pushed


prompts, skills = CODEX / "prompts", CODEX / "skills"
step("host_users", host_users)
step("auth", auth_pull)
step("slash_commands", lambda: pull_list("/slash-commands", "commands", "filename",
                                         "/slash-commands/retrieve", "prompt", prompts))
step("skills", lambda: pull_list("/skills", "skills", "slug", "/skills/retrieve", "manifest", skills))
step("agents", lambda: doc_pull("/agents/retrieve", CODEX / "AGENTS.md"))
step("config", lambda: doc_pull("/config/retrieve", CODEX / "config.toml"))
step("wrapper", wrapper_check)
step("usage", usage)
prompt_baseline = {p.name: sha_text(p) for p in prompts.iterdir()}
skill_baseline = {p.name: sha_text(p) for p in skills.iterdir()}
(prompts / "mine.md").write_text("---\ndescription: Mine\n---\nDo it my way.\n")
(skills / "mine.md").write_text("---\nname: mine\ndescription: My skill\n---\nSteps.\n")
step("push_prompts", lambda: push(prompts, prompt_baseline, "/slash-commands/store", "filename", "prompt"))
step("push_skills", lambda: push(skills, skill_baseline, "/skills/store", "slug", "manifest"))
step("uninstall", lambda: call("DELETE", "/auth?force=1").get("data"))
print(json.dumps({"failed": failed}))
sys.exit(1 if failed else 0)
