//! The `/v1` request log RPCs: the gateway records each call; admins list all, users their own.

use codex_central_common::{PrincipalKind, Role};
use codex_central_proto::CallContext;
use codex_central_proto::ms_to_timestamp;
use codex_central_proto::usage::v1::*;
use codex_central_store::entities::proxy_requests::Model as Row;
use codex_central_store::{now_ms, proxy_requests};
use tonic::{Request, Response, Status};

use crate::domain::proxy_log::Logged;
use crate::grpc::UsageGrpc;

const DEFAULT_PAGE: u64 = 50;
const MAX_PAGE: u64 = 500;

fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn to_proto(r: Row) -> ProxyRequestLog {
    ProxyRequestLog {
        id: r.id.to_string(),
        at: Some(ms_to_timestamp(r.at)),
        user_id: r.user_id,
        token_id: r.token_id,
        host_id: r.host_id.map(|h| h.to_string()).unwrap_or_default(),
        provider_id: r.provider_id,
        requested_model: r.requested_model,
        upstream_model: r.upstream_model,
        key_source: match r.key_source.as_str() {
            "byok" => KeySource::Byok,
            "shared" => KeySource::Shared,
            _ => KeySource::Unspecified,
        } as i32,
        endpoint: r.endpoint,
        streamed: r.streamed,
        status_code: u32::try_from(r.status_code).unwrap_or(0),
        error_code: r.error_code,
        latency_ms: u32::try_from(r.latency_ms).unwrap_or(u32::MAX),
        tokens: Some(TokenTotals {
            total_tokens: to_u64(r.total_tokens),
            input_tokens: to_u64(r.input_tokens),
            cached_input_tokens: to_u64(r.cached_input_tokens),
            output_tokens: to_u64(r.output_tokens),
            reasoning_output_tokens: to_u64(r.reasoning_output_tokens),
            ..Default::default()
        }),
        cost_micros: 0,
        client_ip: r.client_ip,
        ttfb_ms: u32::try_from(r.ttfb_ms).unwrap_or(u32::MAX),
        // Kept on the call's usage record, not in the log.
        response_id: String::new(),
        incomplete: false,
    }
}

impl UsageGrpc {
    pub(crate) async fn do_record_proxy_request(
        &self,
        request: Request<RecordProxyRequestRequest>,
    ) -> Result<Response<RecordProxyRequestResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let l = request.into_inner().log.unwrap_or_default();
        let t = l.tokens.unwrap_or_default();
        let row = Row {
            id: 0,
            at: l
                .at
                .map(|ts| codex_central_proto::timestamp_to_ms(&ts))
                .unwrap_or_else(now_ms),
            user_id: clip(&l.user_id, 191),
            token_id: clip(&l.token_id, 64),
            host_id: l.host_id.parse().ok(),
            provider_id: clip(&l.provider_id, 64),
            requested_model: clip(&l.requested_model, 191),
            upstream_model: clip(&l.upstream_model, 191),
            key_source: match l.key_source() {
                KeySource::Byok => "byok",
                KeySource::Shared => "shared",
                KeySource::Unspecified => "",
            }
            .into(),
            endpoint: clip(&l.endpoint, 64),
            streamed: l.streamed,
            status_code: i32::try_from(l.status_code).unwrap_or(0),
            error_code: clip(&l.error_code, 64),
            latency_ms: i64::from(l.latency_ms),
            ttfb_ms: i64::from(l.ttfb_ms),
            input_tokens: to_i64(t.input_tokens),
            cached_input_tokens: to_i64(t.cached_input_tokens),
            output_tokens: to_i64(t.output_tokens),
            reasoning_output_tokens: to_i64(t.reasoning_output_tokens),
            total_tokens: to_i64(t.total_tokens),
            client_ip: clip(&l.client_ip, 64),
        };
        // Written in the next batch; the answer carries no id yet.
        let call = Logged {
            row: row.clone(),
            response_id: clip(&l.response_id, 128),
            incomplete: l.incomplete,
        };
        let answer = ProxyRequestLog {
            response_id: call.response_id.clone(),
            incomplete: call.incomplete,
            ..to_proto(row)
        };
        if !self.proxy_log.push(call) {
            tracing::warn!("the /v1 request log queue is full; a row was dropped");
            return Err(tonic::Status::from(crate::Error::rate_limited(
                "request log queue full",
                1,
            )));
        }
        Ok(Response::new(RecordProxyRequestResponse {
            log: Some(answer),
        }))
    }

    pub(crate) async fn do_list_proxy_requests(
        &self,
        request: Request<ListProxyRequestsRequest>,
    ) -> Result<Response<ListProxyRequestsResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?.clone();
        let req = request.into_inner();
        let filter = req.filter.unwrap_or_default();
        // Admins (and read-only tokens) see every call; people see their own.
        let user_id = match (p.role, p.kind) {
            (Role::Admin | Role::ReadOnly, _) => filter.user_id,
            (_, PrincipalKind::User) => p.id.clone(),
            _ => {
                return Err(tonic::Status::from(crate::Error::permission_denied(
                    "no request log for this credential",
                )));
            }
        };
        let page = req.page.unwrap_or_default();
        let limit = match page.page_size {
            0 => DEFAULT_PAGE,
            n if u64::from(n) > MAX_PAGE => {
                return Err(crate::Error::invalid(
                    "page_size",
                    format!("page_size must be at most {MAX_PAGE}"),
                )
                .into());
            }
            n => u64::from(n),
        };
        let before = if page.page_token.is_empty() {
            None
        } else {
            Some(page.page_token.parse::<i64>().map_err(|_| {
                crate::Error::invalid("page.page_token", "page_token is not a valid page token")
            })?)
        };
        let rows = proxy_requests::list(
            &self.store,
            &proxy_requests::Filter {
                user_id,
                provider_id: req.provider_id,
                model: filter.model,
            },
            before,
            limit + 1,
        )
        .await
        .map_err(crate::Error::from)?;
        let more = rows.len() as u64 > limit;
        let logs: Vec<ProxyRequestLog> = rows
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(to_proto)
            .collect();
        let next_page_token = if more {
            logs.last().map(|l| l.id.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListProxyRequestsResponse {
            logs,
            next_page_token,
        }))
    }
}
