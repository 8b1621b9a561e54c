//! One HTTP client for every call to the server (keep-alive, HTTP/2 when offered over TLS,
//! short connect timeout). The host key goes in `X-API-Key`, as the peer's wrapper sends it.
//! Failures are classified so the run can decide: Offline, Denied, KillSwitch or Other.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::config::CdxConfig;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Per request; the whole pre-run sync has its own budget on top (see `sync`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(8);
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a call failed. Messages never carry the host key or a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// Network error, timeout or a 5xx: continue with the cache if allowed.
    Offline(String),
    /// 401/403: the server refused this host; stop.
    Denied(String),
    /// 503 `api_disabled`: the fleet's kill switch; stop.
    KillSwitch(String),
    /// Anything else (4xx other than 401/403, an answer that is not the envelope).
    Other(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Offline(m)
            | ApiError::Denied(m)
            | ApiError::KillSwitch(m)
            | ApiError::Other(m) => f.write_str(m),
        }
    }
}

pub struct Api {
    http: reqwest::Client,
    base_url: String,
    key: reqwest::header::HeaderValue,
}

impl Api {
    pub fn new(cfg: &CdxConfig) -> Result<Api, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .user_agent(concat!("cdx/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &cfg.ca_file {
            let pem = std::fs::read(ca)
                .map_err(|e| format!("cannot read ca_file {}: {e}", ca.display()))?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("ca_file {}: {e}", ca.display()))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        if cfg.tls_insecure {
            b = b.tls_danger_accept_invalid_certs(true);
        }
        if cfg.force_ipv4 {
            b = b.local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        }
        let http = b.build().map_err(|e| format!("HTTP client: {e}"))?;
        let mut key =
            reqwest::header::HeaderValue::from_str(cfg.host_key.expose()).map_err(|_| {
                format!(
                    "{}: api_key is not a valid header value",
                    cfg.path.display()
                )
            })?;
        key.set_sensitive(true);
        Ok(Api {
            http,
            base_url: cfg.base_url.clone(),
            key,
        })
    }

    /// Calls `path` and returns the envelope's `data`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Value, ApiError> {
        let raw = self.call_raw(method, path, body).await?;
        serde_json::from_str(raw.get()).map_err(|e| ApiError::Other(format!("{path}: {e}")))
    }

    /// Calls `path` and returns the envelope's `data` as its text (so a document inside keeps
    /// its number text and key order).
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Box<RawValue>, ApiError> {
        let url = format!("{}{path}", self.base_url);
        let mut req = self
            .http
            .request(method, &url)
            .header("x-api-key", self.key.clone());
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b);
        }
        let res = req.send().await.map_err(|e| network_error(path, &e))?;
        let status = res.status();
        let bytes = res.bytes().await.map_err(|e| network_error(path, &e))?;
        classify(path, status, &bytes)
    }

    /// Downloads `path` whole (a cdx build: minutes allowed, not seconds): headers and body.
    pub async fn download(
        &self,
        path: &str,
    ) -> Result<(reqwest::header::HeaderMap, Vec<u8>), ApiError> {
        let url = format!("{}{path}", self.base_url);
        let res = self
            .http
            .get(&url)
            .header("x-api-key", self.key.clone())
            .timeout(DOWNLOAD_TIMEOUT)
            .send()
            .await
            .map_err(|e| network_error(path, &e))?;
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.map_err(|e| network_error(path, &e))?;
        if !status.is_success() {
            return Err(classify(path, status, &bytes)
                .err()
                .unwrap_or_else(|| ApiError::Other(format!("{path}: {}", status.as_u16()))));
        }
        Ok((headers, bytes.to_vec()))
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.call(Method::POST, path, Some(body.to_string())).await
    }
}

fn network_error(path: &str, e: &reqwest::Error) -> ApiError {
    // reqwest's Display names the URL (never the key header); keep only the kind.
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "network error"
    };
    ApiError::Offline(format!("{path}: {kind}"))
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    status: Option<&'a str>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// Turns a status and a (maybe JSON) body into `data` or a classified error.
pub fn classify(path: &str, status: StatusCode, body: &[u8]) -> Result<Box<RawValue>, ApiError> {
    let env: Option<Envelope> = serde_json::from_slice(body).ok();
    if status.is_success() {
        return match env {
            Some(Envelope {
                status: Some("ok"),
                data,
                ..
            }) => Ok(data
                .map_or_else(
                    || RawValue::from_string("null".into()),
                    |d| Ok(d.to_owned()),
                )
                .map_err(|e| ApiError::Other(e.to_string()))?),
            _ => Err(ApiError::Other(format!(
                "{path}: the server's answer is not the expected JSON envelope"
            ))),
        };
    }
    let (message, code) = env.map(|e| (e.message, e.code)).unwrap_or_default();
    let message = message
        .map(|m| m.chars().take(300).collect::<String>())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let code = code.unwrap_or_default();
    let text = format!("{path}: {} {message}", status.as_u16());
    if status == StatusCode::SERVICE_UNAVAILABLE
        && (code == "api_disabled" || message == "API disabled by administrator")
    {
        return Err(ApiError::KillSwitch(message));
    }
    match status.as_u16() {
        401 | 403 => Err(ApiError::Denied(text)),
        // A proxy's gateway errors, a restarting server: the same as no network.
        500..=599 => Err(ApiError::Offline(text)),
        // The failure budget: the host cannot get in now.
        429 => Err(ApiError::Denied(text)),
        _ => Err(ApiError::Other(text)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn c(status: StatusCode, body: Value) -> Result<Value, ApiError> {
        let bytes = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        classify("/auth", status, &bytes).map(|r| serde_json::from_str(r.get()).unwrap())
    }

    #[test]
    fn classification() {
        let ok = c(StatusCode::OK, json!({"status":"ok","data":{"a":1.50}}));
        assert_eq!(ok.unwrap(), json!({"a":1.5}));
        let raw = classify(
            "/x",
            StatusCode::OK,
            br#"{"status":"ok","data":{"a":1.50}}"#,
        )
        .unwrap();
        assert_eq!(raw.get(), r#"{"a":1.50}"#);
        assert!(matches!(
            c(StatusCode::OK, json!([1])),
            Err(ApiError::Other(_))
        ));
        let denied = c(
            StatusCode::FORBIDDEN,
            json!({"status":"error","message":"API key not allowed from this IP"}),
        );
        assert_eq!(
            denied,
            Err(ApiError::Denied(
                "/auth: 403 API key not allowed from this IP".into()
            ))
        );
        assert!(matches!(
            c(StatusCode::UNAUTHORIZED, Value::Null),
            Err(ApiError::Denied(_))
        ));
        assert!(matches!(
            c(StatusCode::BAD_GATEWAY, Value::Null),
            Err(ApiError::Offline(_))
        ));
        let kill = c(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"status":"error","message":"API disabled by administrator","code":"api_disabled"}),
        );
        assert_eq!(
            kill,
            Err(ApiError::KillSwitch("API disabled by administrator".into()))
        );
        assert!(matches!(
            c(StatusCode::UNPROCESSABLE_ENTITY, Value::Null),
            Err(ApiError::Other(_))
        ));
    }
}
