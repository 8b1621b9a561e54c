//! `GET /api/v1/requests`: the `/v1` request log (admins see every call, people their own).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::usage::v1::{KeySource, ListProxyRequestsRequest, UsageFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

#[derive(Deserialize, Default)]
pub struct RequestsQuery {
    page_size: Option<u32>,
    page_token: Option<String>,
    user_id: Option<String>,
    provider: Option<String>,
    model: Option<String>,
}

pub async fn list(
    State(state): State<GatewayState>,
    caller: Caller,
    query: Result<Query<RequestsQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let res = state
        .clients()
        .usage()
        .list_proxy_requests(caller.request(
            &state,
            ListProxyRequestsRequest {
                page: Some(PageRequest {
                    page_size: q.page_size.unwrap_or(0),
                    page_token: q.page_token.unwrap_or_default(),
                }),
                filter: Some(UsageFilter {
                    user_id: q.user_id.unwrap_or_default(),
                    model: q.model.unwrap_or_default(),
                    ..Default::default()
                }),
                provider_id: q.provider.unwrap_or_default(),
                token_id: String::new(),
            },
        ))
        .await?
        .into_inner();
    let text = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
    let requests: Vec<Value> = res
        .logs
        .iter()
        .map(|l| {
            let t = l.tokens.unwrap_or_default();
            json!({
                "id": l.id,
                "at": rfc3339(l.at.as_ref()),
                "user_id": text(&l.user_id),
                "token_id": text(&l.token_id),
                "host_id": text(&l.host_id),
                "provider": text(&l.provider_id),
                "model": l.requested_model,
                "upstream_model": text(&l.upstream_model),
                "key_source": match l.key_source() {
                    KeySource::Byok => json!("byok"),
                    KeySource::Shared => json!("shared"),
                    KeySource::Unspecified => Value::Null,
                },
                "endpoint": l.endpoint,
                "streamed": l.streamed,
                "status": l.status_code,
                "error_code": text(&l.error_code),
                "latency_ms": l.latency_ms,
                "ttfb_ms": l.ttfb_ms,
                "usage": {
                    "input_tokens": t.input_tokens,
                    "cached_input_tokens": t.cached_input_tokens,
                    "output_tokens": t.output_tokens,
                    "reasoning_output_tokens": t.reasoning_output_tokens,
                    "total_tokens": t.total_tokens,
                },
            })
        })
        .collect();
    Ok(ok(json!({
        "requests": requests,
        "next_page_token": text(&res.next_page_token),
    })))
}
