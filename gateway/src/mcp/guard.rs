//! What stands in front of the SDK on `/mcp`, in order: the Origin check, the method,
//! authentication by host key (IP binding and insecure windows as on `/auth`) or personal
//! token, the body as one JSON-RPC message (the SDK answers bad JSON with a plain-text 415;
//! clients expect -32700), then the SDK, then the access log. Every refusal is a JSON-RPC
//! error object.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use codex_central_common::PrincipalKind;
use codex_central_common::crypto::is_host_key_shape;
use codex_central_proto::fleet::v1::HostCallKind;
use serde_json::{Value, json};

use super::log::{self, Entry};
use super::{MAX_BODY_BYTES, McpOptions};
use crate::plumbing::caller::Caller;
use crate::plumbing::host_caller::{Reported, authenticate_host, ensure_api_enabled, host_key};
use crate::{ApiError, GatewayState};

/// JSON-RPC's and MCP's error codes used here.
pub const PARSE_ERROR: i32 = -32700;
pub const INVALID_REQUEST: i32 = -32600;
/// The peer's code for a refused Origin; also used for other transport-level refusals.
pub const FORBIDDEN: i32 = -32099;
pub const UNAUTHORIZED: i32 = -32001;

/// The authenticated caller of one `/mcp` request, for the tools.
#[derive(Debug, Clone)]
pub struct McpCaller {
    pub caller: Caller,
    /// Host fqdn or user name, for answers and the log.
    pub name: String,
}

/// How a tool call ended, filled in by the server for the access log.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub is_error: bool,
    pub error: String,
}

pub type OutcomeSlot = Arc<Mutex<Outcome>>;

pub async fn guard(State(state): State<GatewayState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    if let Err(refused) = check_origin(state.mcp_options(), &parts) {
        return *refused;
    }
    if parts.method != Method::POST {
        // Stateless: no server-sent event stream to open (GET), no session to end (DELETE).
        let mut res = rpc_error(
            StatusCode::METHOD_NOT_ALLOWED,
            Value::Null,
            INVALID_REQUEST,
            "Method Not Allowed: /mcp takes one JSON-RPC message per POST",
        );
        res.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return res;
    }
    // A stranger's body is never read.
    let who = match authenticate(&state, &mut parts).await {
        Ok(who) => who,
        Err(e) => return auth_refusal(e),
    };
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return rpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                Value::Null,
                INVALID_REQUEST,
                format!("Payload Too Large: the body exceeds {MAX_BODY_BYTES} bytes"),
            );
        }
    };
    let message = match Message::parse(&bytes) {
        Ok(m) => m,
        Err(refused) => return *refused,
    };
    let outcome: OutcomeSlot = Arc::default();
    parts.extensions.insert(Arc::new(who.clone()));
    parts.extensions.insert(outcome.clone());
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let res = as_json_rpc(res, message.id.clone()).await;
    let outcome = outcome.lock().map(|o| o.clone()).unwrap_or_default();
    log::record(
        &state,
        &who,
        Entry {
            method: message.method,
            tool: message.tool,
            http_status: res.status().as_u16(),
            is_error: outcome.is_error || !res.status().is_success(),
            error: outcome.error,
            duration_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        },
    );
    res
}

/// Refusals are boxed: a response is large and the happy path carries none.
type Refusal = Box<Response>;

fn check_origin(options: &McpOptions, parts: &Parts) -> Result<(), Refusal> {
    let Some(origin) = parts.headers.get(header::ORIGIN) else {
        return Ok(());
    };
    match origin.to_str() {
        Ok(o) if options.origin_allowed(o) => Ok(()),
        _ => Err(Box::new(rpc_error(
            StatusCode::FORBIDDEN,
            Value::Null,
            FORBIDDEN,
            "Origin not allowed: add it to mcp_allowed_origins, or call without an Origin header",
        ))),
    }
}

/// What the access log needs from a request, checked to be one JSON-RPC message.
struct Message {
    id: Value,
    method: String,
    tool: String,
}

impl Message {
    fn parse(bytes: &[u8]) -> Result<Self, Refusal> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| bad_request(Value::Null, PARSE_ERROR, format!("Parse error: {e}")))?;
        let id = value.get("id").cloned().unwrap_or(Value::Null);
        if value.is_array() {
            return Err(bad_request(
                Value::Null,
                INVALID_REQUEST,
                "Invalid Request: batches are not supported; send one message per POST",
            ));
        }
        let method: String = value
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .chars()
            .take(100)
            .collect();
        let tool = if method == "tools/call" {
            value.pointer("/params/name")
        } else {
            value.pointer("/params/uri")
        }
        .and_then(Value::as_str)
        .map(|s| s.chars().take(200).collect())
        .unwrap_or_default();
        // Only checked here (the SDK parses the bytes itself), so the value is consumed.
        if let Err(e) = serde_json::from_value::<rmcp::model::ClientJsonRpcMessage>(value) {
            return Err(bad_request(
                id,
                INVALID_REQUEST,
                format!("Invalid Request: {e}"),
            ));
        }
        Ok(Message { id, method, tool })
    }
}

/// A host key (with the host rules of `/auth`: IP binding, insecure windows, kill switch), or
/// a personal or service token. A credential is required whatever the auth mode.
async fn authenticate(state: &GatewayState, parts: &mut Parts) -> Result<McpCaller, ApiError> {
    let key = host_key(parts);
    if key.is_empty() {
        return Err(codex_central_common::Error::unauthenticated(
            "authentication required: send a host key or personal token as Authorization: Bearer",
        )
        .into());
    }
    if is_host_key_shape(&key) {
        let h =
            authenticate_host(state, parts, HostCallKind::Mcp, false, Reported::default()).await?;
        return Ok(McpCaller {
            caller: h.caller,
            name: h.host.fqdn,
        });
    }
    // Tokens come only as a bearer: without one the REST rules would fall back to a session
    // cookie, or to the local admin in auth mode off.
    if codex_central_common::wire::bearer(&parts.headers).is_none() {
        return Err(codex_central_common::Error::unauthenticated(
            "send personal tokens as Authorization: Bearer",
        )
        .into());
    }
    let caller = Caller::from_request_parts(parts, state).await?;
    ensure_api_enabled(state, &Caller::anonymous(caller.client_ip)).await?;
    let name = match &caller.principal {
        Some(p) if p.kind != PrincipalKind::Host => p.name.clone(),
        _ => {
            return Err(codex_central_common::Error::unauthenticated(
                "authentication required: send a host key or personal token as Authorization: Bearer",
            )
            .into());
        }
    };
    Ok(McpCaller { caller, name })
}

fn auth_refusal(e: ApiError) -> Response {
    let mut res = rpc_error(
        e.status,
        Value::Null,
        if e.status == StatusCode::UNAUTHORIZED {
            UNAUTHORIZED
        } else {
            FORBIDDEN
        },
        e.message.clone(),
    );
    if let Some(secs) = e.retry_after_secs
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if e.status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"codex-central\""),
        );
    }
    // The service's reason (ip_not_allowed, insecure_window_closed, ...) for scripts.
    if let Some(reason) = e.reason.as_deref().or(Some(e.code))
        && let Ok(v) = HeaderValue::from_str(reason)
    {
        res.headers_mut().insert("x-codex-central-error", v);
    }
    res
}

fn bad_request(id: Value, code: i32, message: impl Into<String>) -> Refusal {
    Box::new(rpc_error(StatusCode::BAD_REQUEST, id, code, message))
}

pub fn rpc_error(status: StatusCode, id: Value, code: i32, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": { "code": code, "message": message.into() },
        })),
    )
        .into_response()
}

/// The SDK's own refusals (wrong Content-Type or Accept, a disallowed Host) are plain text;
/// clients parse JSON-RPC.
async fn as_json_rpc(res: Response, id: Value) -> Response {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/json") || ct.starts_with("text/event-stream")
        });
    if res.status().is_success() || is_json {
        return res;
    }
    let status = res.status();
    let text = match to_bytes(res.into_body(), 4096).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => status.canonical_reason().unwrap_or("error").to_string(),
    };
    let code = if status == StatusCode::FORBIDDEN {
        FORBIDDEN
    } else {
        INVALID_REQUEST
    };
    rpc_error(status, id, code, text)
}
