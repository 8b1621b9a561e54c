//! The MCP access log: every `/mcp` call the guard let through, recorded from a spawned task
//! after the answer (never on the response path), and `GET /admin/mcp/logs`.

use axum::extract::State;
use axum::response::Response;
use codex_central_common::PrincipalKind;
use codex_central_proto::memory::v1::{
    ListMcpAccessLogsRequest, McpAccessLog, RecordMcpAccessRequest,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::guard::McpCaller;
use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::Q;
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

pub struct Entry {
    pub method: String,
    pub tool: String,
    pub http_status: u16,
    pub is_error: bool,
    pub error: String,
    pub duration_ms: u32,
}

pub fn record(state: &GatewayState, who: &McpCaller, entry: Entry) {
    let (kind, id) = match &who.caller.principal {
        Some(p) => (
            match p.kind {
                PrincipalKind::Host => "host",
                PrincipalKind::User => "user",
                PrincipalKind::ServiceToken | PrincipalKind::LocalAdmin => "service",
            },
            p.id.clone(),
        ),
        None => ("unknown", String::new()),
    };
    let log = McpAccessLog {
        principal_kind: kind.into(),
        principal_id: id,
        principal_name: who.name.clone(),
        client_ip: who.caller.client_ip.to_string(),
        method: entry.method,
        target: entry.tool,
        http_status: u32::from(entry.http_status),
        is_error: entry.is_error,
        error: entry.error,
        duration_ms: entry.duration_ms,
        ..Default::default()
    };
    let state = state.clone();
    let caller = who.caller.clone();
    tokio::spawn(async move {
        let req = caller.request(&state, RecordMcpAccessRequest { log: Some(log) });
        if let Err(status) = state.clients().memory().record_mcp_access(req).await {
            tracing::warn!(error = %status.message(), "could not record an MCP call");
        }
    });
}

#[derive(Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    principal_id: String,
    #[serde(default)]
    errors_only: bool,
}

/// `GET /admin/mcp/logs?limit=` (1-1000, default 200), newest first.
pub async fn admin_logs(
    State(state): State<GatewayState>,
    caller: Caller,
    Q(q): Q<LogQuery>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .memory()
        .list_mcp_access_logs(caller.request(
            &state,
            ListMcpAccessLogsRequest {
                limit: q.limit.unwrap_or(200).clamp(1, 1000),
                principal_id: q.principal_id,
                errors_only: q.errors_only,
            },
        ))
        .await?
        .into_inner();
    let logs: Vec<Value> = res
        .logs
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "at": rfc3339(l.at.as_ref()),
                "principal_kind": l.principal_kind,
                "principal_id": l.principal_id,
                "principal_name": l.principal_name,
                "host_id": (l.principal_kind == "host").then_some(&l.principal_id),
                "client_ip": l.client_ip,
                "method": l.method,
                "target": l.target,
                "http_status": l.http_status,
                "is_error": l.is_error,
                "error": l.error,
                "duration_ms": l.duration_ms,
            })
        })
        .collect();
    Ok(ok(json!({ "count": logs.len(), "logs": logs })))
}
