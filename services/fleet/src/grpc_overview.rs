//! The fleet overview, asked once or followed live (delegated to from the `FleetService` impl).

use codex_central_proto::fleet::v1::*;
use codex_central_proto::{CallContext, ms_to_timestamp};
use futures::stream::BoxStream;
use tonic::{Request, Response, Status};

use crate::conversions::policy_to_proto;
use crate::domain::policy;
use crate::grpc::FleetGrpc;

/// How often a live overview recomputes without a poke: host activity is flushed every 5 s, and
/// another replica's changes show within this.
pub(crate) const RECHECK: std::time::Duration = std::time::Duration::from_secs(5);

impl FleetGrpc {
    /// After an admin change: cached host answers are dropped so it takes effect at once, and
    /// live overviews recompute.
    pub(crate) fn changed(&self) {
        self.host_auth.invalidate();
        self.watches.changes().poke();
    }

    pub(crate) async fn do_get_fleet_overview(
        &self,
        request: Request<GetFleetOverviewRequest>,
    ) -> Result<Response<GetFleetOverviewResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        Ok(Response::new(self.overview().await?))
    }

    pub(crate) async fn do_watch_fleet_overview(
        &self,
        request: Request<WatchFleetOverviewRequest>,
    ) -> Result<Response<BoxStream<'static, Result<WatchFleetOverviewResponse, Status>>>, Status>
    {
        CallContext::of(&request).require_admin_read()?;
        let me = self.clone();
        let stream = self.watches.follow(move || {
            let me = me.clone();
            async move {
                Ok(WatchFleetOverviewResponse {
                    overview: Some(me.overview().await?),
                })
            }
        })?;
        Ok(Response::new(stream))
    }

    async fn overview(&self) -> Result<GetFleetOverviewResponse, Status> {
        let now = codex_central_store::now_ms();
        let totals = codex_central_store::hosts::totals(&self.store, now, now - 86_400_000)
            .await
            .map_err(crate::Error::from)?;
        let p = policy::get(&self.store).await?;
        let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(GetFleetOverviewResponse {
            total_hosts: count(totals.total),
            active_hosts: count(totals.active_since),
            disabled_hosts: count(totals.disabled),
            insecure_open_hosts: count(totals.insecure_open),
            latest_activity_at: totals.latest_activity.map(ms_to_timestamp),
            client_versions: Vec::new(),
            versions: Some(self.versions(&p).await?),
            policy: Some(policy_to_proto(p)),
        })
    }
}
