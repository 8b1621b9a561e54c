//! Calls to upstream providers: one pooled HTTP/1.1+h2 client per provider, connection retries
//! only before anything was sent, and answers streamed back to the client as they arrive.
//! Dropping the response (the client went away) drops the upstream request with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use codex_central_proto::config::v1::UpstreamProvider;
use futures::TryStreamExt;

use super::V1Error;
use super::log::{CallLog, Tap};

/// Connection attempts for one call (only connect failures are retried).
const CONNECT_ATTEMPTS: usize = 3;
/// Upstream error bodies are read up to this size to build the error message.
const MAX_ERROR_BODY: usize = 64 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct UpstreamOptions {
    pub connect_timeout: Duration,
    /// Longest silence between two chunks of an answer (reasoning models can think a while).
    pub idle_timeout: Duration,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        UpstreamOptions {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
        }
    }
}

#[derive(Clone, Default)]
pub struct UpstreamClients {
    options: UpstreamOptions,
    /// Base URL -> client (one pool per provider endpoint).
    clients: Arc<Mutex<HashMap<String, reqwest::Client>>>,
}

impl UpstreamClients {
    pub fn new(options: UpstreamOptions) -> Self {
        UpstreamClients {
            options,
            clients: Arc::default(),
        }
    }

    fn client(&self, base_url: &str) -> Result<reqwest::Client, V1Error> {
        let mut clients = self
            .clients
            .lock()
            .map_err(|_| V1Error::internal("upstream client pool poisoned"))?;
        if let Some(c) = clients.get(base_url) {
            return Ok(c.clone());
        }
        let client = reqwest::Client::builder()
            .connect_timeout(self.options.connect_timeout)
            .read_timeout(self.options.idle_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("codex-central/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| V1Error::internal(format!("HTTP client: {e}")))?;
        clients.insert(base_url.to_string(), client.clone());
        Ok(client)
    }

    /// POSTs `body` to `{base_url}/{path}` with the key: the upstream's successful answer, or
    /// its failure in OpenAI's shape. Only connection failures (nothing sent) are retried.
    pub async fn send(
        &self,
        provider: &UpstreamProvider,
        path: &str,
        key: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::Response, V1Error> {
        let base = provider.base_url.trim_end_matches('/');
        let url = format!("{base}/{path}");
        let client = self.client(base)?;
        let body = bytes::Bytes::from(body);
        let mut attempt = 0;
        let upstream = loop {
            attempt += 1;
            let sent = client
                .post(&url)
                .bearer_auth(key)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) => break r,
                // Nothing reached the upstream: safe to try again.
                Err(e) if e.is_connect() && attempt < CONNECT_ATTEMPTS => {
                    tracing::debug!(provider = %provider.name, attempt, "upstream connect failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50 * attempt as u64)).await;
                }
                Err(e) => return Err(send_error(&provider.name, &e)),
            }
        };
        if !upstream.status().is_success() {
            return Err(upstream_failure(&provider.name, upstream).await);
        }
        Ok(upstream)
    }

    /// Sends the body and streams the upstream's answer back untouched.
    pub async fn forward(
        &self,
        provider: &UpstreamProvider,
        path: &str,
        key: &str,
        body: Vec<u8>,
        log: CallLog,
    ) -> Response {
        let upstream = match self.send(provider, path, key, body).await {
            Ok(upstream) => upstream,
            Err(e) => return log.fail(e),
        };
        let status = upstream.status();
        let content_type = upstream
            .headers()
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or_else(|| HeaderValue::from_static("application/json"));
        let name = provider.name.clone();
        let stream = upstream.bytes_stream().map_err(move |e| {
            tracing::warn!(provider = %name, error = %e, "upstream stream ended early");
            std::io::Error::other(e)
        });
        let body = Body::from_stream(Tap::new(Box::pin(stream), log, status.as_u16()));
        let mut res = Response::new(body);
        *res.status_mut() = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::OK);
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, content_type);
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // Proxies in front of us must not buffer server-sent events.
        h.insert("x-accel-buffering", HeaderValue::from_static("no"));
        res
    }
}

pub(super) fn send_error(provider: &str, e: &reqwest::Error) -> V1Error {
    if e.is_timeout() {
        V1Error::upstream(
            StatusCode::GATEWAY_TIMEOUT,
            format!("provider {provider} did not answer in time"),
        )
    } else if e.is_connect() {
        V1Error::upstream(
            StatusCode::BAD_GATEWAY,
            format!("cannot connect to provider {provider}"),
        )
    } else {
        V1Error::upstream(
            StatusCode::BAD_GATEWAY,
            format!("request to provider {provider} failed"),
        )
    }
}

/// An upstream 4xx/5xx in OpenAI's shape, keeping the upstream's status and message.
async fn upstream_failure(provider: &str, res: reqwest::Response) -> V1Error {
    let status = StatusCode::from_u16(res.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut body = Vec::new();
    let mut stream = res.bytes_stream();
    while let Ok(Some(chunk)) = stream.try_next().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    let detail = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("message"))
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&body)
                .chars()
                .filter(|c| !c.is_control())
                .take(500)
                .collect()
        });
    V1Error::upstream(
        status,
        format!("provider {provider} answered {}: {detail}", status.as_u16()),
    )
}
