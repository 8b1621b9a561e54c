//! `codexcentral.usage.v1.UsageService`: validate, authorize, call the domain, convert.

use codex_central_common::{CallContext, pending_rpcs};
use codex_central_proto::usage::v1::usage_service_server::UsageService;
use codex_central_proto::usage::v1::*;
use codex_central_store::Store;
use tonic::{Request, Response, Status};

use crate::domain::quota;

pub struct UsageGrpc {
    store: Store,
}

impl UsageGrpc {
    pub fn new(store: Store) -> Self {
        UsageGrpc { store }
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
            admin.kind_name(),
            &admin.audit_actor(),
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
        // Hosts read the policy too (it travels with every /auth and /versions answer).
        let ctx = CallContext::of(&request);
        if !ctx.internal {
            ctx.principal()?;
        }
        let p = quota::get(&self.store).await?;
        Ok(Response::new(GetQuotaPolicyResponse {
            policy: Some(QuotaPolicy {
                hard_fail: p.hard_fail,
                limit_percent: p.limit_percent,
                week_partition_days: p.week_partition_days,
            }),
        }))
    }

    pending_rpcs! {
        ingest_usage(IngestUsageRequest) -> IngestUsageResponse;
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
        record_proxy_request(RecordProxyRequestRequest) -> RecordProxyRequestResponse;
        list_proxy_requests(ListProxyRequestsRequest) -> ListProxyRequestsResponse;
        check_gateway_limits(CheckGatewayLimitsRequest) -> CheckGatewayLimitsResponse;
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
