//! Helpers for the `POST /auth` benchmark (`scripts/bench/auth`): host registration through the
//! admin API, SQL seeding of many hosts, storing the canonical auth.json, and a bare axum server
//! answering the same request from memory as the ceiling reference (SPEC §14).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{call, connect};

/// Registrations in flight at once.
const REGISTER_CONCURRENCY: usize = 16;
/// Rows per `INSERT` statement of [`hosts_sql`].
const SQL_BATCH: usize = 500;

pub fn read_keys(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let keys: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if keys.is_empty() {
        bail!("{} holds no keys", path.display());
    }
    Ok(keys)
}

fn write_keys(path: &Path, keys: &[String]) -> anyhow::Result<()> {
    let mut text = keys.join("\n");
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("write {}", path.display()))
}

/// `POST` of a JSON body with one extra header; the parsed answer, which must be 2xx.
pub(crate) async fn post_json(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    base_url: &str,
    path: &str,
    header: (&str, &str),
    body: &Value,
) -> anyhow::Result<Value> {
    let uri: http::Uri = format!("{}{path}", base_url.trim_end_matches('/')).parse()?;
    let req = http::Request::post(crate::origin_form(&uri))
        .header(http::header::HOST, crate::authority(&uri)?)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(header.0, header.1)
        .body(Full::new(Bytes::from(body.to_string())))?;
    let (status, text) = call(sender, req).await?;
    if !status.is_success() {
        bail!(
            "POST {path}: {status}: {}",
            String::from_utf8_lossy(&text).trim()
        );
    }
    serde_json::from_slice(&text).with_context(|| format!("POST {path}: answer is not JSON"))
}

pub(crate) fn text_at<'a>(v: &'a Value, pointer: &str) -> anyhow::Result<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .with_context(|| format!("answer has no {pointer}: {v}"))
}

pub async fn register_hosts(
    base_url: &str,
    token: &str,
    count: usize,
    keys_out: &Path,
) -> anyhow::Result<()> {
    let authority = crate::authority(&base_url.parse()?)?;
    let bearer = format!("Bearer {token}");
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..REGISTER_CONCURRENCY.min(count) {
        let (next, authority, base_url, bearer) = (
            next.clone(),
            authority.clone(),
            base_url.to_string(),
            bearer.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(&authority).await?;
            let mut keys = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return anyhow::Ok(keys);
                }
                let body = json!({ "fqdn": format!("h{i}.bench.example") });
                let answer = post_json(
                    &mut sender,
                    &base_url,
                    "/admin/hosts/register",
                    ("authorization", &bearer),
                    &body,
                )
                .await?;
                keys.push((i, text_at(&answer, "/data/host/api_key")?.to_string()));
            }
        }));
    }
    let mut keys = Vec::with_capacity(count);
    for t in tasks {
        keys.extend(t.await.context("registration task panicked")??);
    }
    keys.sort_unstable();
    write_keys(
        keys_out,
        &keys.into_iter().map(|(_, k)| k).collect::<Vec<_>>(),
    )
}

/// The benchmark's auth.json, refreshed a minute ago.
fn auth_document() -> Value {
    let last_refresh = (chrono::Utc::now() - chrono::Duration::minutes(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "OPENAI_API_KEY": null,
        "tokens": {
            "id_token": "eyJhbGciOiJSUzI1NiJ9.eyJlbWFpbCI6ImRldkBleGFtcGxlLmNvbSJ9.c2lnbmF0dXJl",
            "access_token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhY2NvdW50In0.YWNjZXNzX3NpZw",
            "refresh_token": "rt_AbCdEfGhIjKlMnOpQrStUvWx",
            "account_id": "acc-2f1e"
        },
        "last_refresh": last_refresh
    })
}

pub async fn store(base_url: &str, key: &str) -> anyhow::Result<()> {
    let mut sender = connect(&crate::authority(&base_url.parse()?)?).await?;
    let body = json!({ "command": "store", "auth": auth_document() });
    let answer = post_json(&mut sender, base_url, "/auth", ("x-api-key", key), &body).await?;
    println!(
        "{} {}",
        text_at(&answer, "/data/canonical_digest")?,
        text_at(&answer, "/data/canonical_last_refresh")?
    );
    Ok(())
}

/// `cch_` and the hex SHA-256 of `bench-host-<i>`: stable across runs, shaped like real keys.
fn bench_key(i: usize) -> String {
    format!(
        "cch_{}",
        hex::encode(Sha256::digest(format!("bench-host-{i}")))
    )
}

pub fn hosts_sql(count: usize, keys_out: &Path, ip: Option<&str>) -> anyhow::Result<()> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let ip = match ip {
        Some(ip) if ip.parse::<std::net::IpAddr>().is_ok() => format!("'{ip}'"),
        Some(ip) => bail!("{ip:?} is not an IP address"),
        None => "NULL".into(),
    };
    let keys: Vec<String> = (0..count).map(bench_key).collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "BEGIN;")?;
    for (batch, chunk) in keys.chunks(SQL_BATCH).enumerate() {
        writeln!(
            out,
            "INSERT INTO hosts (fqdn, key_digest, key_prefix, status, secure, vip, allow_roaming, \
             force_ipv4, curl_insecure, ip, insecure_window_minutes, api_calls, created_at, \
             updated_at) VALUES"
        )?;
        for (j, key) in chunk.iter().enumerate() {
            let i = batch * SQL_BATCH + j;
            let digest = hex::encode(Sha256::digest(key));
            let sep = if j + 1 == chunk.len() { ";" } else { "," };
            writeln!(
                out,
                "('b{i}.bench.example','{digest}','{}','active',1,0,0,0,0,{ip},10,0,{now},{now}){sep}",
                &key[..12]
            )?;
        }
    }
    writeln!(out, "COMMIT;")?;
    out.flush()?;
    write_keys(keys_out, &keys)
}

struct BareHost {
    id: usize,
    fqdn: String,
}

struct Bare {
    hosts: HashMap<String, BareHost>,
    digest: String,
    last_refresh: String,
}

pub async fn bare_server(
    bind: &str,
    keys_file: &Path,
    digest: String,
    last_refresh: String,
) -> anyhow::Result<()> {
    let hosts = read_keys(keys_file)?
        .into_iter()
        .enumerate()
        .map(|(i, key)| {
            let host = BareHost {
                id: i + 1,
                fqdn: format!("h{i}.bench.example"),
            };
            (key, host)
        })
        .collect();
    let state = Arc::new(Bare {
        hosts,
        digest,
        last_refresh,
    });
    let app = axum::Router::new()
        .route("/auth", axum::routing::post(bare_auth))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("bind {bind}"))?
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    axum::serve(listener, app).await?;
    Ok(())
}

/// The same request as the real `/auth` retrieve: parse the JSON body, find the host by key,
/// compare the digest, answer with the same fields.
async fn bare_auth(State(s): State<Arc<Bare>>, headers: HeaderMap, body: Bytes) -> Response {
    let host = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|k| s.hosts.get(k.trim()));
    let Some(host) = host else {
        let err = json!({"status": "error", "message": "Invalid API key"});
        return (StatusCode::UNAUTHORIZED, axum::Json(err)).into_response();
    };
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        let err = json!({"status": "error", "message": "Invalid JSON payload"});
        return (StatusCode::BAD_REQUEST, axum::Json(err)).into_response();
    };
    let current = req["digest"] == s.digest.as_str() && req["last_refresh"] == s.last_refresh;
    // The field set of the server's answer (~1.4 kB), built per request as the server does.
    axum::Json(json!({
        "status": "ok",
        "data": {
            "status": if current { "valid" } else { "outdated" },
            "canonical_last_refresh": s.last_refresh,
            "canonical_digest": s.digest,
            "api_calls": 1,
            "token_usage_month": null,
            "versions": {
                "client_version": null, "client_version_checked_at": null,
                "client_version_source": "unknown", "wrapper_version": null,
                "wrapper_sha256": null, "wrapper_url": "/wrapper/download",
                "reported_client_version": null, "quota_hard_fail": true,
                "quota_limit_percent": 100, "quota_week_partition": 0, "cdx_silent": false,
                "runner_enabled": false, "runner_state": null, "runner_last_ok": null,
                "runner_last_fail": null, "runner_last_check": null, "installation_id": null,
            },
            "quota_hard_fail": true,
            "quota_limit_percent": 100,
            "quota_week_partition": 0,
            "cdx_silent": false,
            "host": {
                "id": host.id, "fqdn": host.fqdn, "status": "active", "last_refresh": null,
                "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
                "last_seen_at": "2026-01-01T00:00:00.000Z", "expires_at": null,
                "client_version": null, "client_version_override": null, "wrapper_version": null,
                "api_calls": 1, "ip": "127.0.0.1", "allow_roaming_ips": false, "secure": true,
                "vip": false, "insecure_enabled_until": null, "insecure_grace_until": null,
                "insecure_window_minutes": 10, "force_ipv4": false, "curl_insecure": false,
                "model_override": null, "reasoning_effort_override": null, "temporary": false,
                "provisioned": false,
            },
            "chatgpt_usage": null,
        }
    }))
    .into_response()
}
