//! `ExportUsageCsv`: the rows a filter selects as CSV, newest first, read and sent a page at a
//! time, so an export of millions of rows holds one page in memory.

use codex_central_proto::CallContext;
use codex_central_proto::usage::v1::{ExportUsageCsvRequest, ExportUsageCsvResponse};
use codex_central_store::Store;
use codex_central_store::entities::usage_records::Model as Record;
use codex_central_store::usage_queries::{self, Filter};
use futures::StreamExt;
use futures::stream::BoxStream;
use tonic::{Request, Response, Status};

use crate::Error;
use crate::grpc::UsageGrpc;
use crate::grpc_queries::scoped;

const PAGE: u64 = 2000;

pub const HEADER: &str = "id,recorded_at,source,kind,host_id,user_id,token_id,provider_id,model,\
session_id,turn_id,response_id,total_tokens,input_tokens,cached_input_tokens,\
cache_write_input_tokens,output_tokens,reasoning_output_tokens,cost_usd,unpriced,incomplete,line\n";

/// A CSV field: quoted when it holds a comma, quote or line break, and prefixed with `'` when
/// a spreadsheet would read it as a formula (`=`, `+`, `-`, `@`, tab, carriage return).
fn field(out: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = formula || value.contains([',', '"', '\n', '\r']);
    if quote {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quote {
        out.push('"');
    }
}

fn money(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    format!("{sign}{}.{:06}", m / 1_000_000, m % 1_000_000)
}

pub fn line(r: &Record) -> String {
    let at = chrono::DateTime::from_timestamp_millis(r.recorded_at)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default();
    let host = r.host_id.map(|h| h.to_string()).unwrap_or_default();
    let numbers = [
        r.total_tokens,
        r.input_tokens,
        r.cached_input_tokens,
        r.cache_write_input_tokens,
        r.output_tokens,
        r.reasoning_output_tokens,
    ];
    let mut out = String::with_capacity(256);
    out.push_str(&r.id.to_string());
    for text in [
        at.as_str(),
        &r.source,
        &r.kind,
        &host,
        &r.user_id,
        &r.token_id,
        &r.provider_id,
        &r.model,
        &r.session_id,
        &r.turn_id,
        &r.response_id,
    ] {
        out.push(',');
        field(&mut out, text);
    }
    for n in numbers {
        out.push(',');
        out.push_str(&n.to_string());
    }
    out.push(',');
    out.push_str(&money(r.cost_micros));
    out.push(',');
    out.push_str(if r.unpriced { "true" } else { "false" });
    out.push(',');
    out.push_str(if r.incomplete { "true" } else { "false" });
    out.push(',');
    field(&mut out, &r.line);
    out.push('\n');
    out
}

/// Where the export stands between pages.
struct Cursor {
    store: Store,
    filter: Filter,
    before: Option<(i64, i64)>,
    header: bool,
    done: bool,
}

async fn next_chunk(mut c: Cursor) -> Option<(Result<ExportUsageCsvResponse, Status>, Cursor)> {
    if c.done {
        return None;
    }
    if !c.header {
        c.header = true;
        let chunk = ExportUsageCsvResponse {
            chunk: HEADER.as_bytes().to_vec(),
        };
        return Some((Ok(chunk), c));
    }
    match usage_queries::records(&c.store, &c.filter, c.before, PAGE).await {
        Err(e) => {
            c.done = true;
            Some((Err(Status::from(Error::from(e))), c))
        }
        Ok(rows) if rows.is_empty() => None,
        Ok(rows) => {
            c.done = (rows.len() as u64) < PAGE;
            c.before = rows.last().map(|r| (r.recorded_at, r.id));
            let text: String = rows.iter().map(line).collect();
            Some((
                Ok(ExportUsageCsvResponse {
                    chunk: text.into_bytes(),
                }),
                c,
            ))
        }
    }
}

impl UsageGrpc {
    pub(crate) async fn do_export_usage_csv(
        &self,
        request: Request<ExportUsageCsvRequest>,
    ) -> Result<Response<BoxStream<'static, Result<ExportUsageCsvResponse, Status>>>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?.clone();
        let filter = scoped(&p, request.into_inner().filter)?;
        let cursor = Cursor {
            store: self.store.clone(),
            filter,
            before: None,
            header: false,
            done: false,
        };
        Ok(Response::new(
            futures::stream::unfold(cursor, next_chunk).boxed(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        let mut out = String::new();
        field(&mut out, "plain");
        out.push('|');
        field(&mut out, "a,\"b\"\nc");
        out.push('|');
        field(&mut out, "=HYPERLINK(\"x\")");
        assert_eq!(out, "plain|\"a,\"\"b\"\"\nc\"|\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(money(1_800_222), "1.800222");
        assert_eq!(money(61), "0.000061");
        assert_eq!(money(-5), "-0.000005");
        assert_eq!(HEADER.split(',').count(), 22);
    }
}
