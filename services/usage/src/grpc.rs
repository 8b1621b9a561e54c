//! `codexcentral.usage.v1.UsageService`: validate, authorize, call the domain, convert.

use codex_central_proto::usage::v1::usage_service_server::UsageService;
use codex_central_proto::usage::v1::*;
use codex_central_proto::{CallContext, pending_rpcs};
use codex_central_store::Store;
use tonic::{Request, Response, Status};

use crate::domain::proxy_log::ProxyLogWriter;
use crate::domain::{ingest, limits, quota};

pub struct UsageGrpc {
    pub(crate) store: Store,
    pub(crate) proxy_log: ProxyLogWriter,
}

impl UsageGrpc {
    /// Starts the request-log writer, so it needs a Tokio runtime.
    pub fn new(store: Store) -> Self {
        let proxy_log = ProxyLogWriter::spawn(store.clone());
        UsageGrpc { store, proxy_log }
    }
}

#[tonic::async_trait]
impl UsageService for UsageGrpc {
    type ExportUsageCsvStream =
        futures::stream::BoxStream<'static, Result<ExportUsageCsvResponse, Status>>;

    async fn set_quota_policy(
        &self,
        request: Request<SetQuotaPolicyRequest>,
    ) -> Result<Response<SetQuotaPolicyResponse>, Status> {
        let ctx = CallContext::of(&request);
        let admin = ctx.require_admin()?.clone();
        let p = request.into_inner().policy.unwrap_or_default();
        let saved = quota::set(
            &self.store,
            &admin,
            &ctx.client_ip_text(),
            quota::QuotaPolicy {
                hard_fail: p.hard_fail,
                limit_percent: p.limit_percent,
                week_partition_days: p.week_partition_days,
            },
        )
        .await?;
        Ok(Response::new(SetQuotaPolicyResponse {
            policy: Some(QuotaPolicy {
                hard_fail: saved.hard_fail,
                limit_percent: saved.limit_percent,
                week_partition_days: saved.week_partition_days,
            }),
        }))
    }

    async fn get_quota_policy(
        &self,
        request: Request<GetQuotaPolicyRequest>,
    ) -> Result<Response<GetQuotaPolicyResponse>, Status> {
        // Hosts see these values in every /auth and /versions answer, which the gateway reads
        // as its own read-only principal.
        CallContext::of(&request).require_admin_read()?;
        let p = quota::get(&self.store).await?;
        Ok(Response::new(GetQuotaPolicyResponse {
            policy: Some(QuotaPolicy {
                hard_fail: p.hard_fail,
                limit_percent: p.limit_percent,
                week_partition_days: p.week_partition_days,
            }),
        }))
    }

    async fn ingest_usage(
        &self,
        request: Request<IngestUsageRequest>,
    ) -> Result<Response<IngestUsageResponse>, Status> {
        let ctx = CallContext::of(&request);
        let principal = ctx.principal()?.clone();
        if principal.kind != codex_central_common::PrincipalKind::Host {
            return Err(tonic::Status::from(crate::Error::permission_denied(
                "only hosts report usage in this version",
            )));
        }
        let host_id = principal.id.parse::<i64>().map_err(|_| {
            tonic::Status::from(crate::Error::invalid_argument(
                "the host principal has no numeric id",
            ))
        })?;
        let entries: Vec<serde_json::Value> = request
            .into_inner()
            .entries
            .into_iter()
            .map(entry_json)
            .collect::<Result<_, Status>>()?;
        let done =
            ingest::ingest(&self.store, Some(host_id), &ctx.client_ip_text(), &entries).await?;
        let mut totals = TokenTotals::default();
        let rows: Vec<UsageRow> = done
            .rows
            .iter()
            .map(|e| {
                totals.total_tokens += e.total;
                totals.input_tokens += e.input;
                totals.cached_input_tokens += e.cached;
                totals.output_tokens += e.output;
                totals.reasoning_output_tokens += e.reasoning;
                UsageRow {
                    ingest_id: done.ingest_id.clone(),
                    host_id: host_id.to_string(),
                    recorded_at: Some(codex_central_proto::ms_to_timestamp(done.recorded_at)),
                    model: e.model.clone(),
                    tokens: Some(TokenTotals {
                        total_tokens: e.total,
                        input_tokens: e.input,
                        cached_input_tokens: e.cached,
                        output_tokens: e.output,
                        reasoning_output_tokens: e.reasoning,
                    }),
                    pricing_missing: true,
                    line: e.line.clone(),
                    source: UsageSource::Host as i32,
                    ..Default::default()
                }
            })
            .collect();
        Ok(Response::new(IngestUsageResponse {
            ingest_id: done.ingest_id,
            recorded: u32::try_from(rows.len()).unwrap_or(u32::MAX),
            rows,
            errors: done
                .errors
                .into_iter()
                .map(|(index, reason)| RowError {
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    reason,
                })
                .collect(),
            totals: Some(totals),
            cost_micros: 0,
            currency: String::new(),
        }))
    }

    async fn record_proxy_request(
        &self,
        request: Request<RecordProxyRequestRequest>,
    ) -> Result<Response<RecordProxyRequestResponse>, Status> {
        self.do_record_proxy_request(request).await
    }

    async fn list_proxy_requests(
        &self,
        request: Request<ListProxyRequestsRequest>,
    ) -> Result<Response<ListProxyRequestsResponse>, Status> {
        self.do_list_proxy_requests(request).await
    }

    async fn check_gateway_limits(
        &self,
        request: Request<CheckGatewayLimitsRequest>,
    ) -> Result<Response<CheckGatewayLimitsResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let req = request.into_inner();
        let l = req.limits.unwrap_or_default();
        // Limits belong to a token; without one, to the user.
        let subject = if req.token_id.is_empty() {
            req.user_id
        } else {
            req.token_id
        };
        let decision = limits::check(
            &self.store,
            &subject,
            limits::Limits {
                requests_per_minute: l.requests_per_minute,
                tokens_per_minute: l.tokens_per_minute,
            },
            codex_central_store::now_ms(),
        )
        .await?;
        Ok(Response::new(match decision {
            limits::Decision::Allowed => CheckGatewayLimitsResponse {
                allowed: true,
                ..Default::default()
            },
            limits::Decision::Denied {
                retry_after_secs,
                reason,
            } => CheckGatewayLimitsResponse {
                allowed: false,
                retry_after_seconds: retry_after_secs,
                reason,
                ..Default::default()
            },
        }))
    }

    pending_rpcs! {
        list_usage_rows(ListUsageRowsRequest) -> ListUsageRowsResponse;
        list_ingests(ListIngestsRequest) -> ListIngestsResponse;
        aggregate_usage(AggregateUsageRequest) -> AggregateUsageResponse;
        get_cost_history(GetCostHistoryRequest) -> GetCostHistoryResponse;
        get_usage_summary(GetUsageSummaryRequest) -> GetUsageSummaryResponse;
        list_prices(ListPricesRequest) -> ListPricesResponse;
        create_price_snapshot(CreatePriceSnapshotRequest) -> CreatePriceSnapshotResponse;
        delete_price_snapshot(DeletePriceSnapshotRequest) -> DeletePriceSnapshotResponse;
        sync_pricing(SyncPricingRequest) -> SyncPricingResponse;
        report_quota_snapshot(ReportQuotaSnapshotRequest) -> ReportQuotaSnapshotResponse;
        get_latest_quota_snapshot(GetLatestQuotaSnapshotRequest) -> GetLatestQuotaSnapshotResponse;
        list_quota_snapshots(ListQuotaSnapshotsRequest) -> ListQuotaSnapshotsResponse;
    }

    async fn export_usage_csv(
        &self,
        _request: Request<ExportUsageCsvRequest>,
    ) -> Result<Response<Self::ExportUsageCsvStream>, Status> {
        Err(Status::unimplemented(
            "export_usage_csv is part of the API contract but not implemented in this version",
        ))
    }
}

/// The entry as the JSON object the parser reads: `raw_json` when sent, else the fields.
fn entry_json(e: UsageEntry) -> Result<serde_json::Value, Status> {
    if !e.raw_json.is_empty() {
        return serde_json::from_str(&e.raw_json).map_err(|_| {
            tonic::Status::from(crate::Error::invalid(
                "entries.raw_json",
                "raw_json is not JSON",
            ))
        });
    }
    Ok(serde_json::json!({
        "line": e.line,
        "model": e.model,
        "total_tokens": e.total_tokens,
        "input_tokens": e.input_tokens,
        "cached_input_tokens": e.cached_input_tokens,
        "output_tokens": e.output_tokens,
        "reasoning_output_tokens": e.reasoning_output_tokens,
    }))
}
