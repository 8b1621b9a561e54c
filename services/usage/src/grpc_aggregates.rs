//! The totals RPCs: aggregates per key or period, the daily cost history, and the day / week /
//! month summary behind `/auth` answers and the overview.

use codex_central_common::{PrincipalKind, Role};
use codex_central_proto::usage::v1::*;
use codex_central_proto::{CallContext, ms_to_timestamp};
use codex_central_store::Store;
use codex_central_store::usage_queries::Filter;
use codex_central_store::usage_rollups::Sums;
use codex_central_store::{now_ms, price_snapshots};
use futures::stream::BoxStream;
use tonic::{Request, Response, Status};

use crate::Error;
use crate::domain::aggregates::{self, By};
use crate::domain::pricing::CURRENCY;
use crate::grpc::UsageGrpc;
use crate::grpc_queries::scoped;

const MAX_HISTORY_DAYS: u32 = 180;

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) fn totals(s: &Sums) -> TokenTotals {
    TokenTotals {
        total_tokens: count(s.total_tokens),
        input_tokens: count(s.input_tokens),
        cached_input_tokens: count(s.cached_input_tokens),
        output_tokens: count(s.output_tokens),
        reasoning_output_tokens: count(s.reasoning_output_tokens),
        cache_write_input_tokens: 0,
    }
}

fn period(s: &Sums) -> UsagePeriodTotals {
    UsagePeriodTotals {
        tokens: Some(totals(s)),
        cost_micros: s.cost_micros,
        row_count: count(s.row_count),
    }
}

impl UsageGrpc {
    pub(crate) async fn do_aggregate_usage(
        &self,
        request: Request<AggregateUsageRequest>,
    ) -> Result<Response<AggregateUsageResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?.clone();
        let req = request.into_inner();
        let by = match UsageGrouping::try_from(req.group_by)
            .map_err(|_| Error::invalid("group_by", "is not a grouping"))?
        {
            UsageGrouping::Unspecified => None,
            UsageGrouping::Host => Some(By::Host),
            UsageGrouping::User => Some(By::User),
            UsageGrouping::Model => Some(By::Model),
            UsageGrouping::Day => Some(By::Day),
            UsageGrouping::Token => Some(By::Token),
            UsageGrouping::Week => Some(By::Week),
            UsageGrouping::Month => Some(By::Month),
            UsageGrouping::Source => Some(By::Source),
        };
        let filter = scoped(&p, req.filter)?;
        let buckets = aggregates::aggregate(&self.store, &filter, by).await?;
        let mut all = Sums::default();
        for b in &buckets {
            all.add(&b.sums);
        }
        Ok(Response::new(AggregateUsageResponse {
            buckets: if by.is_some() {
                buckets
                    .into_iter()
                    .map(|b| UsageBucket {
                        key: b.key,
                        label: b.label,
                        tokens: Some(totals(&b.sums)),
                        cost_micros: b.sums.cost_micros,
                        row_count: count(b.sums.row_count),
                        unpriced_rows: count(b.sums.unpriced_rows),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            totals: Some(totals(&all)),
            cost_micros: all.cost_micros,
            currency: CURRENCY.into(),
        }))
    }

    pub(crate) async fn do_get_cost_history(
        &self,
        request: Request<GetCostHistoryRequest>,
    ) -> Result<Response<GetCostHistoryResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?.clone();
        let req = request.into_inner();
        let days = match req.days {
            0 => 30,
            d if d > MAX_HISTORY_DAYS => {
                return Err(Error::invalid(
                    "days",
                    format!("must be between 1 and {MAX_HISTORY_DAYS}"),
                )
                .into());
            }
            d => d,
        };
        let mut filter = scoped(&p, req.filter)?;
        // The window is the days asked for; a range in the filter does not apply.
        filter.since = None;
        filter.until = None;
        let now = now_ms();
        let points = aggregates::cost_history(&self.store, &filter, days, now).await?;
        let has_pricing = !price_snapshots::list(&self.store, &[])
            .await
            .map_err(Error::from)?
            .is_empty();
        let since = points.first().map(|p| p.day_ms).unwrap_or(now);
        let until = points.last().map_or(now, |p| p.day_ms + 86_400_000);
        Ok(Response::new(GetCostHistoryResponse {
            points: points
                .into_iter()
                .map(|p| CostPoint {
                    day: Some(ms_to_timestamp(p.day_ms)),
                    tokens: Some(totals(&p.sums)),
                    cost_micros: p.sums.cost_micros,
                })
                .collect(),
            currency: CURRENCY.into(),
            has_pricing,
            since: Some(ms_to_timestamp(since)),
            until: Some(ms_to_timestamp(until)),
        }))
    }

    pub(crate) async fn do_get_usage_summary(
        &self,
        request: Request<GetUsageSummaryRequest>,
    ) -> Result<Response<GetUsageSummaryResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let filter = summary_filter(&ctx, req.host_id, req.user_id)?;
        Ok(Response::new(summary(&self.store, &filter).await?))
    }

    pub(crate) async fn do_watch_usage_summary(
        &self,
        request: Request<WatchUsageSummaryRequest>,
    ) -> Result<Response<BoxStream<'static, Result<WatchUsageSummaryResponse, Status>>>, Status>
    {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let filter = summary_filter(&ctx, req.host_id, req.user_id)?;
        let store = self.store.clone();
        let stream = self.watches.follow(move || {
            let (store, filter) = (store.clone(), filter.clone());
            async move {
                Ok(WatchUsageSummaryResponse {
                    summary: Some(summary(&store, &filter).await?),
                })
            }
        })?;
        Ok(Response::new(stream))
    }
}

/// Whose totals a summary shows: what was asked, narrowed to the caller's own for hosts and
/// members.
fn summary_filter(ctx: &CallContext, host_id: String, user_id: String) -> Result<Filter, Status> {
    let host_id = if host_id.is_empty() {
        None
    } else {
        Some(
            host_id
                .parse::<i64>()
                .map_err(|_| Error::invalid("host_id", "is not a host id"))?,
        )
    };
    let user_id = (!user_id.is_empty()).then_some(user_id);
    Ok(if ctx.require_internal().is_ok() {
        Filter {
            host_id,
            user_id,
            ..Default::default()
        }
    } else {
        let p = ctx.principal()?;
        match (p.role, p.kind) {
            (Role::Admin | Role::ReadOnly, _) => Filter {
                host_id,
                user_id,
                ..Default::default()
            },
            // A host reads its own totals; a person their own.
            (_, PrincipalKind::Host) => Filter {
                host_id: Some(p.id.parse::<i64>().map_err(|_| {
                    Error::invalid_argument("the host principal has no numeric id")
                })?),
                ..Default::default()
            },
            (_, PrincipalKind::User) => Filter {
                user_id: Some(p.id.clone()),
                ..Default::default()
            },
            _ => return Err(Error::permission_denied("no usage for this credential").into()),
        }
    })
}

async fn summary(store: &Store, filter: &Filter) -> Result<GetUsageSummaryResponse, Status> {
    let s = aggregates::summary(store, filter, now_ms()).await?;
    Ok(GetUsageSummaryResponse {
        day: Some(period(&s.day)),
        week: Some(period(&s.week)),
        month: Some(period(&s.month)),
        currency: CURRENCY.into(),
    })
}
