//! The `/mcp` access log RPCs: the gateway records each call; admins list them.

use codex_central_proto::memory::v1::*;
use codex_central_proto::{CallContext, ms_to_timestamp};
use codex_central_store::entities::mcp_access_logs::Model as Row;
use codex_central_store::{Store, mcp_access_logs, now_ms};
use tonic::{Request, Response, Status};

use crate::Error;
use crate::domain::access_log::AccessLogWriter;

const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 1000;

fn to_proto(r: Row) -> McpAccessLog {
    McpAccessLog {
        id: r.id.to_string(),
        at: Some(ms_to_timestamp(r.at)),
        principal_kind: r.principal_kind,
        principal_id: r.principal_id,
        principal_name: r.principal_name,
        client_ip: r.client_ip,
        method: r.method,
        target: r.target,
        http_status: u32::try_from(r.http_status).unwrap_or(0),
        is_error: r.is_error,
        error: r.error,
        duration_ms: u32::try_from(r.duration_ms).unwrap_or(u32::MAX),
    }
}

pub(crate) async fn record(
    writer: &AccessLogWriter,
    request: Request<RecordMcpAccessRequest>,
) -> Result<Response<RecordMcpAccessResponse>, Status> {
    CallContext::of(&request).require_internal()?;
    let l = request.into_inner().log.unwrap_or_default();
    // The time it reached the log, not one the caller names; the store fits long values to
    // their columns, and the database assigns the id.
    let row = Row {
        id: 0,
        at: now_ms(),
        principal_kind: l.principal_kind,
        principal_id: l.principal_id,
        principal_name: l.principal_name,
        client_ip: l.client_ip,
        method: l.method,
        target: l.target,
        http_status: i32::try_from(l.http_status).unwrap_or(0),
        is_error: l.is_error,
        error: l.error,
        duration_ms: i64::from(l.duration_ms),
    };
    Ok(Response::new(RecordMcpAccessResponse {
        queued: writer.push(row),
    }))
}

pub(crate) async fn list(
    store: &Store,
    request: Request<ListMcpAccessLogsRequest>,
) -> Result<Response<ListMcpAccessLogsResponse>, Status> {
    CallContext::of(&request).require_admin_read()?;
    let req = request.into_inner();
    let limit = match req.limit {
        0 => DEFAULT_LIMIT,
        n if n > MAX_LIMIT => {
            return Err(
                Error::invalid("limit", format!("limit must be at most {MAX_LIMIT}")).into(),
            );
        }
        n => n,
    };
    let rows = mcp_access_logs::list(
        store,
        req.principal_id.trim(),
        req.errors_only,
        u64::from(limit),
    )
    .await
    .map_err(Error::from)?;
    Ok(Response::new(ListMcpAccessLogsResponse {
        logs: rows.into_iter().map(to_proto).collect(),
    }))
}
