//! Hosts and the canonical auth.json over the peer-compatible REST API, on every backend, by
//! topic; the helpers they share are here.

mod canonical;
mod enrollment;
mod hosts;
mod policy;
mod replicas;
mod upkeep;

pub(crate) use std::sync::Arc;

pub(crate) use chrono::{Duration, Utc};
pub(crate) use codex_central::config::Layer;
pub(crate) use serde_json::{Value, json};
pub(crate) use sha2::{Digest, Sha256};

pub(crate) use crate::on_all_backends;
pub(crate) use crate::testkit::{
    Backend, Opts, REPLICA_KEY, Ready, TestServer, admin_token, auth_on, auth_on_behind_proxy,
    json, spawn,
};

async fn register(srv: &TestServer, admin: &str, fqdn: &str) -> (i64, String) {
    let (status, body) = json(
        srv.post("/admin/hosts/register")
            .bearer_auth(admin)
            .json(&json!({"fqdn": fqdn}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (
        body["data"]["host"]["id"].as_i64().unwrap(),
        body["data"]["host"]["api_key"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// A Codex-shaped auth.json whose `last_refresh` is `minutes_ago` before now, pretty-printed
/// the way Codex writes it.
pub(crate) fn document(minutes_ago: i64, salt: &str) -> String {
    let at = (Utc::now() - Duration::minutes(minutes_ago))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    format!(
        "{{\n  \"OPENAI_API_KEY\": null,\n  \"tokens\": {{\n    \"id_token\": \"eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImRldkBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJl{salt}\",\n    \"access_token\": \"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhY2NvdW50In0.YWNjZXNzX3NpZw{salt}\",\n    \"refresh_token\": \"rt_AbCdEfGhIjKlMnOpQrStUvWx{salt}\",\n    \"account_id\": \"acc-2f1e\"\n  }},\n  \"last_refresh\": \"{at}\",\n  \"extra\": {{}},\n  \"note\": \"caf\\u00e9 https://chatgpt.com/\",\n  \"ratio\": 1.0\n}}"
    )
}

/// Python's compact `json.dumps(ensure_ascii=False, separators=(",", ":"))` form of a document
/// written the way Codex writes it.
pub(crate) fn compact(pretty: &str) -> String {
    pretty
        .replace("\n  ", "")
        .replace("\n  ", "")
        .replace("  ", "")
        .replace('\n', "")
        .replace("\": ", "\":")
        .replace("\\u00e9", "é")
}

/// What a client computes: SHA-256 of the compact form.
fn python_digest(pretty: &str) -> (String, String) {
    let compact = compact(pretty);
    (
        compact.clone(),
        hex::encode(Sha256::digest(compact.as_bytes())),
    )
}

/// Hosts receive the refresh token as stored (custody `shared`, the peer's behaviour).
pub(crate) async fn shared_custody(ready: &Ready) {
    let (status, body) = ready
        .admin_put(
            "/api/v1/codex-auth/settings",
            json!({"refresh_token_custody": "shared"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["refresh_token_custody"], "shared");
}

async fn auth_call(srv: &TestServer, key: &str, body: Value) -> (u16, Value) {
    json(
        srv.post("/auth")
            .header("x-api-key", key)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn store(srv: &TestServer, key: &str, doc: &str) -> (u16, Value) {
    let body = format!("{{\"command\":\"store\",\"auth\":{doc}}}");
    json(
        srv.post("/auth")
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}
