//! `codexcentral.usage.v1.UsageService`: validate, authorize, call the domain, convert.

use codex_central_proto::CallContext;
use codex_central_proto::live::{Changes, Closing, Watches};
use codex_central_proto::usage::v1::usage_service_server::UsageService;
use codex_central_proto::usage::v1::*;
use codex_central_store::Store;
use tonic::{Request, Response, Status};

use crate::domain::alerts::Alerts;
use crate::domain::ingest_writer::IngestWriter;
use crate::domain::pricing_pull::PricingPuller;
use crate::domain::proxy_log::ProxyLogWriter;
use codex_central_common::PrincipalKind;
use codex_central_store::entities::usage_records::Model as Record;

use crate::domain::{budget, ingest, limits, pricing, quota, quota_snapshots};

/// How often live summaries recompute without a poke: usage written by another replica shows
/// within this, and the day / week / month windows roll over.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(10);

pub struct UsageGrpc {
    pub(crate) store: Store,
    pub(crate) proxy_log: ProxyLogWriter,
    pub(crate) pricing: PricingPuller,
    pub(crate) ingest_writer: IngestWriter,
    pub(crate) alerts: Alerts,
    /// Live summaries; every write of usage rows pokes them.
    pub(crate) watches: Watches,
}

impl UsageGrpc {
    /// Starts the request-log and usage writers, so it needs a Tokio runtime.
    pub fn new(store: Store, pricing: PricingPuller, alerts: Alerts, closing: Closing) -> Self {
        let watches = Watches::new(Changes::default(), closing, RECHECK);
        let proxy_log = ProxyLogWriter::spawn(store.clone(), watches.changes().clone());
        let ingest_writer = IngestWriter::spawn(store.clone());
        UsageGrpc {
            store,
            proxy_log,
            pricing,
            ingest_writer,
            alerts,
            watches,
        }
    }
}

#[tonic::async_trait]
impl UsageService for UsageGrpc {
    type ExportUsageCsvStream =
        futures::stream::BoxStream<'static, Result<ExportUsageCsvResponse, Status>>;
    type WatchUsageSummaryStream =
        futures::stream::BoxStream<'static, Result<WatchUsageSummaryResponse, Status>>;

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
        let who = match principal.kind {
            PrincipalKind::Host => ingest::Reporter {
                host_id: Some(principal.id.parse::<i64>().map_err(|_| {
                    Status::from(crate::Error::invalid_argument(
                        "the host principal has no numeric id",
                    ))
                })?),
                client_ip: ctx.client_ip_text(),
                ..Default::default()
            },
            PrincipalKind::User => ingest::Reporter {
                user_id: principal.id.clone(),
                client_ip: ctx.client_ip_text(),
                ..Default::default()
            },
            _ => {
                return Err(Status::from(crate::Error::permission_denied(
                    "usage is reported by hosts and people",
                )));
            }
        };
        let entries: Vec<ingest::Entry> = request
            .into_inner()
            .entries
            .into_iter()
            .map(entry)
            .collect();
        let done = ingest::ingest(&self.store, &self.ingest_writer, &who, &entries).await?;
        self.watches.changes().poke();
        let quota_recorded = match &done.rate_limits {
            Some(limits) => {
                quota_snapshots::record_reported(
                    &self.store,
                    who.host_id,
                    limits,
                    done.received_at,
                )
                .await?;
                true
            }
            None => false,
        };
        let mut totals = TokenTotals::default();
        let mut cost = 0i64;
        let rows: Vec<UsageRow> = done
            .rows
            .into_iter()
            .map(|r| {
                let row = usage_row(r.record);
                add(&mut totals, row.tokens.as_ref());
                cost = cost.saturating_add(row.cost_micros);
                UsageRow {
                    entry_index: index(r.index),
                    ..row
                }
            })
            .collect();
        Ok(Response::new(IngestUsageResponse {
            ingest_id: done.ingest_id,
            recorded: index(rows.len()),
            rows,
            errors: done
                .errors
                .into_iter()
                .map(|(i, e)| RowError {
                    index: index(i),
                    reason: format!("{}: {}", e.field, e.reason),
                })
                .collect(),
            totals: Some(totals),
            cost_micros: cost,
            currency: pricing::CURRENCY.into(),
            duplicates: done.duplicates.into_iter().map(index).collect(),
            superseded: done.superseded.into_iter().map(index).collect(),
            quota_recorded,
        }))
    }

    async fn list_usage_rows(
        &self,
        request: Request<ListUsageRowsRequest>,
    ) -> Result<Response<ListUsageRowsResponse>, Status> {
        self.do_list_usage_rows(request).await
    }

    async fn list_ingests(
        &self,
        request: Request<ListIngestsRequest>,
    ) -> Result<Response<ListIngestsResponse>, Status> {
        self.do_list_ingests(request).await
    }

    async fn aggregate_usage(
        &self,
        request: Request<AggregateUsageRequest>,
    ) -> Result<Response<AggregateUsageResponse>, Status> {
        self.do_aggregate_usage(request).await
    }

    async fn get_cost_history(
        &self,
        request: Request<GetCostHistoryRequest>,
    ) -> Result<Response<GetCostHistoryResponse>, Status> {
        self.do_get_cost_history(request).await
    }

    async fn get_usage_summary(
        &self,
        request: Request<GetUsageSummaryRequest>,
    ) -> Result<Response<GetUsageSummaryResponse>, Status> {
        self.do_get_usage_summary(request).await
    }

    async fn report_quota_snapshot(
        &self,
        request: Request<ReportQuotaSnapshotRequest>,
    ) -> Result<Response<ReportQuotaSnapshotResponse>, Status> {
        self.do_report_quota_snapshot(request).await
    }

    async fn get_latest_quota_snapshot(
        &self,
        request: Request<GetLatestQuotaSnapshotRequest>,
    ) -> Result<Response<GetLatestQuotaSnapshotResponse>, Status> {
        self.do_get_latest_quota_snapshot(request).await
    }

    async fn list_quota_snapshots(
        &self,
        request: Request<ListQuotaSnapshotsRequest>,
    ) -> Result<Response<ListQuotaSnapshotsResponse>, Status> {
        self.do_list_quota_snapshots(request).await
    }

    async fn recompute_costs(
        &self,
        request: Request<RecomputeCostsRequest>,
    ) -> Result<Response<RecomputeCostsResponse>, Status> {
        self.do_recompute_costs(request).await
    }

    async fn list_prices(
        &self,
        request: Request<ListPricesRequest>,
    ) -> Result<Response<ListPricesResponse>, Status> {
        self.do_list_prices(request).await
    }

    async fn create_price_snapshot(
        &self,
        request: Request<CreatePriceSnapshotRequest>,
    ) -> Result<Response<CreatePriceSnapshotResponse>, Status> {
        self.do_create_price_snapshot(request).await
    }

    async fn delete_price_snapshot(
        &self,
        request: Request<DeletePriceSnapshotRequest>,
    ) -> Result<Response<DeletePriceSnapshotResponse>, Status> {
        self.do_delete_price_snapshot(request).await
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
        let now = codex_central_store::now_ms();
        // A budget belongs to a token: its spend is what the token's calls cost.
        let spend = match (budget_of(&l), req.token_id.is_empty()) {
            (Some(b), false) => Some((b, budget::spend(&self.store, &req.token_id, b, now).await?)),
            _ => None,
        };
        if let Some((b, s)) = &spend
            && let Err(err) = self
                .alerts
                .observe_token_budget(&req.token_id, &req.user_id, *b, s, now)
                .await
        {
            // An alert that cannot be stored now is raised by a later call; the call goes on.
            tracing::warn!(error = %err, "could not raise a budget alert");
        }
        if let Some((b, s)) = &spend
            && s.exhausted
        {
            return Ok(Response::new(CheckGatewayLimitsResponse {
                allowed: false,
                retry_after_seconds: u32::try_from((s.resets_at - now + 999) / 1000)
                    .unwrap_or(u32::MAX)
                    .max(1),
                reason: budget::exhausted_message(*b, s),
                budget_alert: true,
                spent_micros: s.spent_micros,
                budget_exhausted: true,
            }));
        }
        let (budget_alert, spent_micros) = spend
            .as_ref()
            .map_or((false, 0), |(_, s)| (s.alert, s.spent_micros));
        // Rate limits belong to a token; without one, to the user.
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
            now,
        )
        .await?;
        Ok(Response::new(match decision {
            limits::Decision::Allowed => CheckGatewayLimitsResponse {
                allowed: true,
                budget_alert,
                spent_micros,
                ..Default::default()
            },
            limits::Decision::Denied {
                retry_after_secs,
                reason,
            } => CheckGatewayLimitsResponse {
                allowed: false,
                retry_after_seconds: retry_after_secs,
                reason,
                budget_alert,
                spent_micros,
                budget_exhausted: false,
            },
        }))
    }

    async fn list_alerts(
        &self,
        request: Request<ListAlertsRequest>,
    ) -> Result<Response<ListAlertsResponse>, Status> {
        self.do_list_alerts(request).await
    }

    async fn acknowledge_alert(
        &self,
        request: Request<AcknowledgeAlertRequest>,
    ) -> Result<Response<AcknowledgeAlertResponse>, Status> {
        self.do_acknowledge_alert(request).await
    }

    async fn list_alert_deliveries(
        &self,
        request: Request<ListAlertDeliveriesRequest>,
    ) -> Result<Response<ListAlertDeliveriesResponse>, Status> {
        self.do_list_alert_deliveries(request).await
    }

    async fn sync_pricing(
        &self,
        request: Request<SyncPricingRequest>,
    ) -> Result<Response<SyncPricingResponse>, Status> {
        self.do_sync_pricing(request).await
    }

    async fn export_usage_csv(
        &self,
        request: Request<ExportUsageCsvRequest>,
    ) -> Result<Response<Self::ExportUsageCsvStream>, Status> {
        self.do_export_usage_csv(request).await
    }

    async fn watch_usage_summary(
        &self,
        request: Request<WatchUsageSummaryRequest>,
    ) -> Result<Response<Self::WatchUsageSummaryStream>, Status> {
        self.do_watch_usage_summary(request).await
    }
}

/// The token's budget, when it has one.
fn budget_of(l: &GatewayLimits) -> Option<budget::Budget> {
    let period = match l.budget_period() {
        SpendPeriod::Unspecified => return None,
        SpendPeriod::Day => budget::Period::Day,
        SpendPeriod::Week => budget::Period::Week,
        SpendPeriod::Month => budget::Period::Month,
    };
    Some(budget::Budget {
        period,
        micros: l.budget_micros?,
        alert_percent: l.budget_alert_percent,
    })
}

/// The entry as the parser reads it: `raw_json` when sent, else the fields.
fn entry(e: UsageEntry) -> ingest::Entry {
    if !e.raw_json.is_empty() {
        return ingest::Entry::Text(e.raw_json);
    }
    let mut doc = serde_json::json!({
        "line": e.line,
        "model": e.model,
        "total_tokens": e.total_tokens,
        "input_tokens": e.input_tokens,
        "cached_input_tokens": e.cached_input_tokens,
        "output_tokens": e.output_tokens,
        "reasoning_output_tokens": e.reasoning_output_tokens,
        "session_id": e.session_id,
        "turn_id": e.turn_id,
        "cache_write_input_tokens": e.cache_write_input_tokens,
        "response_id": e.response_id,
    });
    if let Some(at) = e.recorded_at {
        doc["recorded_at"] = serde_json::json!(codex_central_proto::timestamp_to_ms(&at));
    }
    ingest::Entry::Json(doc)
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn add(sum: &mut TokenTotals, t: Option<&TokenTotals>) {
    let Some(t) = t else { return };
    sum.total_tokens += t.total_tokens;
    sum.input_tokens += t.input_tokens;
    sum.cached_input_tokens += t.cached_input_tokens;
    sum.cache_write_input_tokens += t.cache_write_input_tokens;
    sum.output_tokens += t.output_tokens;
    sum.reasoning_output_tokens += t.reasoning_output_tokens;
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Takes the record: its texts move into the row.
pub(crate) fn usage_row(r: Record) -> UsageRow {
    UsageRow {
        id: if r.id == 0 {
            String::new()
        } else {
            r.id.to_string()
        },
        ingest_id: r.ingest_id,
        host_id: r.host_id.map(|h| h.to_string()).unwrap_or_default(),
        user_id: r.user_id,
        recorded_at: Some(codex_central_proto::ms_to_timestamp(r.recorded_at)),
        model: r.model,
        tokens: Some(TokenTotals {
            total_tokens: count(r.total_tokens),
            input_tokens: count(r.input_tokens),
            cached_input_tokens: count(r.cached_input_tokens),
            output_tokens: count(r.output_tokens),
            reasoning_output_tokens: count(r.reasoning_output_tokens),
            cache_write_input_tokens: count(r.cache_write_input_tokens),
        }),
        cost_micros: r.cost_micros,
        pricing_missing: r.unpriced,
        line: r.line,
        session_id: r.session_id,
        turn_id: r.turn_id,
        source: match r.source.as_str() {
            "gateway" => UsageSource::Gateway,
            "import" => UsageSource::Import,
            _ => UsageSource::Host,
        } as i32,
        entry_index: 0,
        response_id: r.response_id,
        token_id: r.token_id,
        provider_id: r.provider_id,
        incomplete: r.incomplete,
        kind: r.kind,
    }
}
