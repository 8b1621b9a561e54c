//! ChatGPT quota snapshots: hosts report what Codex saw (also inside `IngestUsage`), admins and
//! hosts read the latest of an account (empty: the fleet's canonical account), admins the history.

use codex_central_common::PrincipalKind;
use codex_central_proto::usage::v1::*;
use codex_central_proto::{CallContext, ms_to_timestamp};
use codex_central_store::entities::quota_snapshots::Model as Stored;
use codex_central_store::{now_ms, quota_snapshots};
use tonic::{Request, Response, Status};

use crate::Error;
use crate::domain::parse::{RateLimits, Window};
use crate::domain::quota_snapshots::record_reported;
use crate::domain::{quota, quota_eval};
use crate::grpc::UsageGrpc;
use crate::grpc_queries::{keyset_page, page_size};

fn window(used: Option<f64>, minutes: Option<i32>, resets: Option<i64>) -> Option<QuotaWindow> {
    Some(QuotaWindow {
        used_percent: used?,
        window_minutes: u32::try_from(minutes.unwrap_or(0)).unwrap_or(0),
        resets_at: resets.map(ms_to_timestamp),
    })
}

pub(crate) fn snapshot_proto(s: Stored) -> QuotaSnapshot {
    QuotaSnapshot {
        id: s.id,
        account_id: s.account_id,
        plan_type: s.plan_type,
        primary: window(
            s.primary_used_percent,
            s.primary_window_minutes,
            s.primary_resets_at,
        ),
        secondary: window(
            s.secondary_used_percent,
            s.secondary_window_minutes,
            s.secondary_resets_at,
        ),
        limit_reached: s.limit_reached,
        observed_at: Some(ms_to_timestamp(s.observed_at)),
        host_id: s.host_id.map(|h| h.to_string()).unwrap_or_default(),
    }
}

fn seen(s: &Stored) -> quota_eval::Seen {
    quota_eval::Seen {
        primary_percent: s.primary_used_percent,
        secondary_percent: s.secondary_used_percent,
        secondary_resets_at: s.secondary_resets_at,
        secondary_window_minutes: s
            .secondary_window_minutes
            .and_then(|m| u32::try_from(m).ok()),
        observed_at: s.observed_at,
    }
}

fn reported_window(field: &str, w: Option<&QuotaWindow>) -> Result<Option<Window>, Status> {
    let Some(w) = w else { return Ok(None) };
    if !w.used_percent.is_finite() || !(0.0..=1000.0).contains(&w.used_percent) {
        return Err(Error::invalid(
            format!("snapshot.{field}.used_percent"),
            "must be a percentage",
        )
        .into());
    }
    Ok(Some(Window {
        used_percent: w.used_percent,
        window_minutes: w.window_minutes,
        resets_at_ms: w
            .resets_at
            .as_ref()
            .map(codex_central_proto::timestamp_to_ms),
    }))
}

impl UsageGrpc {
    pub(crate) async fn do_report_quota_snapshot(
        &self,
        request: Request<ReportQuotaSnapshotRequest>,
    ) -> Result<Response<ReportQuotaSnapshotResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?.clone();
        if p.kind != PrincipalKind::Host {
            return Err(Error::permission_denied("quota snapshots are reported by hosts").into());
        }
        let host_id =
            p.id.parse::<i64>()
                .map_err(|_| Error::invalid_argument("the host principal has no numeric id"))?;
        let s = request.into_inner().snapshot.unwrap_or_default();
        let limits = RateLimits {
            limit_id: String::new(),
            plan_type: s.plan_type.trim().chars().take(32).collect(),
            primary: reported_window("primary", s.primary.as_ref())?,
            secondary: reported_window("secondary", s.secondary.as_ref())?,
            limit_reached: s.limit_reached,
            credits_balance: None,
            credits_unlimited: None,
            has_credits: None,
            at_ms: s
                .observed_at
                .as_ref()
                .map(codex_central_proto::timestamp_to_ms),
        };
        if limits.primary.is_none() && limits.secondary.is_none() {
            return Err(Error::invalid("snapshot.primary", "a snapshot needs a window").into());
        }
        let now = now_ms();
        if limits.at_ms.is_some_and(|at| at > now + 86_400_000) {
            return Err(Error::invalid("snapshot.observed_at", "is in the future").into());
        }
        let stored = record_reported(&self.store, Some(host_id), &limits, now).await?;
        Ok(Response::new(ReportQuotaSnapshotResponse {
            snapshot: Some(snapshot_proto(stored)),
        }))
    }

    pub(crate) async fn do_get_latest_quota_snapshot(
        &self,
        request: Request<GetLatestQuotaSnapshotRequest>,
    ) -> Result<Response<GetLatestQuotaSnapshotResponse>, Status> {
        let ctx = CallContext::of(&request);
        if ctx.require_internal().is_err() {
            let p = ctx.principal()?;
            if p.kind != PrincipalKind::Host {
                ctx.require_admin_read()?;
            }
        }
        let account = request.into_inner().account_id;
        let account = account.trim();
        let Some(latest) = quota_snapshots::latest(&self.store, account)
            .await
            .map_err(Error::from)?
        else {
            return Ok(Response::new(GetLatestQuotaSnapshotResponse::default()));
        };
        let now = now_ms();
        let day_start = now.div_euclid(86_400_000) * 86_400_000;
        let baseline = quota_snapshots::latest_before(&self.store, account, day_start)
            .await
            .map_err(Error::from)?;
        let policy = quota::get(&self.store).await?;
        let e = quota_eval::evaluate(
            &policy,
            &seen(&latest),
            baseline.as_ref().map(seen).as_ref(),
            now,
        );
        Ok(Response::new(GetLatestQuotaSnapshotResponse {
            snapshot: Some(snapshot_proto(latest)),
            status: Some(QuotaStatus {
                over_limit: e.over_limit,
                allowance_percent: e.allowance_percent,
                daily_used_percent: e.daily_used_percent,
                daily_baseline_at: e.daily_baseline_at.map(ms_to_timestamp),
                reason: e.reason,
                weekly_projected_percent: e.weekly_projected_percent,
            }),
        }))
    }

    pub(crate) async fn do_list_quota_snapshots(
        &self,
        request: Request<ListQuotaSnapshotsRequest>,
    ) -> Result<Response<ListQuotaSnapshotsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let page = req.page.unwrap_or_default();
        let limit = page_size(&page)?;
        let before = if page.page_token.is_empty() {
            None
        } else {
            Some(
                page.page_token
                    .split_once('~')
                    .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                    .ok_or_else(|| Error::invalid("page.page_token", "is not a page token"))?,
            )
        };
        let range = req.range.unwrap_or_default();
        let rows = quota_snapshots::list(
            &self.store,
            req.account_id.trim(),
            range
                .start
                .as_ref()
                .map(codex_central_proto::timestamp_to_ms),
            range.end.as_ref().map(codex_central_proto::timestamp_to_ms),
            before,
            limit + 1,
        )
        .await
        .map_err(Error::from)?;
        let (rows, next_page_token) = keyset_page(rows, limit, |r| (r.observed_at, r.id.as_str()));
        Ok(Response::new(ListQuotaSnapshotsResponse {
            snapshots: rows.into_iter().map(snapshot_proto).collect(),
            next_page_token,
        }))
    }
}
