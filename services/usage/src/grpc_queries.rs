//! The usage listing RPCs: records and ingest envelopes, newest first, keyset-paginated.
//! Admins and read-only tokens see everything; a person sees only their own.

use codex_central_common::{Principal, PrincipalKind, Role};
use codex_central_proto::usage::v1::*;
use codex_central_proto::{CallContext, ms_to_timestamp};
use codex_central_store::usage_queries::{self, Filter, IngestOrder};
use tonic::{Request, Response, Status};

use crate::Error;
use crate::domain::pricing;
use crate::grpc::{UsageGrpc, usage_row};

const DEFAULT_PAGE: u64 = 50;
const MAX_PAGE: u64 = 500;

/// The caller's filter as the store takes it; a person's is narrowed to their own rows.
pub(crate) fn scoped(p: &Principal, f: Option<UsageFilter>) -> Result<Filter, Status> {
    let f = f.unwrap_or_default();
    let own = match (p.role, p.kind) {
        (Role::Admin | Role::ReadOnly, _) => None,
        (_, PrincipalKind::User) => Some(p.id.clone()),
        _ => {
            return Err(Error::permission_denied("usage is read by admins and people").into());
        }
    };
    let host_id = if f.host_id.is_empty() {
        None
    } else {
        Some(
            f.host_id
                .parse::<i64>()
                .map_err(|_| Error::invalid("filter.host_id", "is not a host id"))?,
        )
    };
    let range = f.range.unwrap_or_default();
    let since = range
        .start
        .as_ref()
        .map(codex_central_proto::timestamp_to_ms);
    let until = range.end.as_ref().map(codex_central_proto::timestamp_to_ms);
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        return Err(Error::invalid("filter.range.end", "must be after the start").into());
    }
    let text = |s: String| (!s.is_empty()).then_some(s);
    Ok(Filter {
        host_id,
        user_id: own.or(text(f.user_id)),
        token_id: text(f.token_id),
        model: text(f.model),
        source: match UsageSource::try_from(f.source).unwrap_or_default() {
            UsageSource::Unspecified => None,
            UsageSource::Host => Some("host".into()),
            UsageSource::Gateway => Some("gateway".into()),
            UsageSource::Import => Some("import".into()),
        },
        since,
        until,
    })
}

pub(crate) fn page_size(
    page: &codex_central_proto::common::v1::PageRequest,
) -> Result<u64, Status> {
    match u64::from(page.page_size) {
        0 => Ok(DEFAULT_PAGE),
        n if n > MAX_PAGE => {
            Err(Error::invalid("page.page_size", format!("must be at most {MAX_PAGE}")).into())
        }
        n => Ok(n),
    }
}

/// `<ms>~<id>` → its parts.
pub(crate) fn position(token: &str) -> Result<Option<(i64, String)>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    token
        .split_once('~')
        .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
        .map(Some)
        .ok_or_else(|| Error::invalid("page.page_token", "is not a page token").into())
}

/// The first `limit` of `rows` (read with one more) and the token of the page after them, the
/// `<ms>~<id>` position `key` gives of the last row kept; empty on the last page.
pub(crate) fn keyset_page<T>(
    mut rows: Vec<T>,
    limit: u64,
    key: impl Fn(&T) -> (i64, &str),
) -> (Vec<T>, String) {
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match rows.last() {
        Some(r) if more => {
            let (at, id) = key(r);
            format!("{at}~{id}")
        }
        _ => String::new(),
    };
    (rows, next)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl UsageGrpc {
    pub(crate) async fn do_list_usage_rows(
        &self,
        request: Request<ListUsageRowsRequest>,
    ) -> Result<Response<ListUsageRowsResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?.clone();
        let req = request.into_inner();
        let filter = scoped(&p, req.filter)?;
        let page = req.page.unwrap_or_default();
        let limit = page_size(&page)?;
        let before = match position(&page.page_token)? {
            None => None,
            Some((at, id)) => Some((
                at,
                id.parse::<i64>()
                    .map_err(|_| Error::invalid("page.page_token", "is not a page token"))?,
            )),
        };
        let mut records = usage_queries::records(&self.store, &filter, before, limit + 1)
            .await
            .map_err(Error::from)?;
        let more = records.len() as u64 > limit;
        records.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_page_token = match records.last() {
            Some(r) if more => format!("{}~{}", r.recorded_at, r.id),
            _ => String::new(),
        };
        Ok(Response::new(ListUsageRowsResponse {
            rows: records.into_iter().map(usage_row).collect(),
            next_page_token,
            currency: pricing::CURRENCY.into(),
        }))
    }

    pub(crate) async fn do_list_ingests(
        &self,
        request: Request<ListIngestsRequest>,
    ) -> Result<Response<ListIngestsResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?.clone();
        let req = request.into_inner();
        let filter = scoped(&p, req.filter)?;
        let page = req.page.unwrap_or_default();
        let limit = page_size(&page)?;
        let (rows, next_page_token, total) = if req.page_number > 0 {
            let order = match req.sort.as_str() {
                "" | "received_at" | "created_at" => IngestOrder::ReceivedAt,
                "total_tokens" | "total" => IngestOrder::TotalTokens,
                "cost" => IngestOrder::Cost,
                _ => {
                    return Err(Error::invalid(
                        "sort",
                        "must be received_at, total_tokens or cost",
                    )
                    .into());
                }
            };
            let offset = u64::from(req.page_number - 1).saturating_mul(limit);
            let (rows, total) = usage_queries::ingests_page(
                &self.store,
                &filter,
                &req.query,
                order,
                req.ascending,
                offset,
                limit,
            )
            .await
            .map_err(Error::from)?;
            (rows, String::new(), total)
        } else {
            let before = position(&page.page_token)?;
            let rows = usage_queries::ingests(&self.store, &filter, before, limit + 1)
                .await
                .map_err(Error::from)?;
            let (rows, next) = keyset_page(rows, limit, |r| (r.received_at, r.id.as_str()));
            (rows, next, 0)
        };
        Ok(Response::new(ListIngestsResponse {
            ingests: rows
                .into_iter()
                .map(|r| Ingest {
                    id: r.id,
                    host_id: r.host_id.map(|h| h.to_string()).unwrap_or_default(),
                    user_id: r.user_id,
                    client_ip: r.client_ip,
                    recorded_at: Some(ms_to_timestamp(r.received_at)),
                    row_count: u32::try_from(r.row_count).unwrap_or(0),
                    totals: Some(TokenTotals {
                        total_tokens: count(r.total_tokens),
                        input_tokens: count(r.input_tokens),
                        cached_input_tokens: count(r.cached_input_tokens),
                        output_tokens: count(r.output_tokens),
                        reasoning_output_tokens: count(r.reasoning_output_tokens),
                        cache_write_input_tokens: 0,
                    }),
                    cost_micros: r.cost_micros,
                    duplicate_count: u32::try_from(r.duplicate_count).unwrap_or(0),
                    error_count: u32::try_from(r.error_count).unwrap_or(0),
                })
                .collect(),
            next_page_token,
            currency: pricing::CURRENCY.into(),
            total,
        }))
    }
}
