//! The alert RPCs: list and acknowledge alerts, list webhook deliveries. Admins and read-only
//! tokens see every alert; a person sees, and may acknowledge, only their own.

use codex_central_common::{Principal, PrincipalKind, Role};
use codex_central_proto::usage::v1::*;
use codex_central_proto::{CallContext, ms_to_timestamp};
use codex_central_store::audit::NewAuditEvent;
use codex_central_store::entities::alert_deliveries::Model as Delivery;
use codex_central_store::entities::usage_alerts::Model as Alert;
use codex_central_store::now_ms;
use codex_central_store::usage_alerts::{self, AlertFilter};
use tonic::{Request, Response, Status};

use crate::Error;
use crate::grpc::UsageGrpc;
use crate::grpc_queries::{keyset_page, page_size, position};

/// None: everyone's alerts; Some: only this person's.
fn own(p: &Principal) -> Result<Option<String>, Status> {
    match (p.role, p.kind) {
        (Role::Admin | Role::ReadOnly, _) => Ok(None),
        (_, PrincipalKind::User) => Ok(Some(p.id.clone())),
        _ => Err(Error::permission_denied("alerts are read by admins and people").into()),
    }
}

pub(crate) fn alert_proto(a: Alert, now: i64) -> UsageAlert {
    UsageAlert {
        active: a.acknowledged_at.is_none() && a.window_end > now,
        id: a.id,
        scope: a.scope,
        subject_id: a.subject_id,
        user_id: a.user_id,
        metric: a.metric,
        threshold: u32::try_from(a.threshold).unwrap_or(0),
        percent: a.percent,
        message: a.message,
        window_start: Some(ms_to_timestamp(a.window_start)),
        window_end: Some(ms_to_timestamp(a.window_end)),
        raised_at: Some(ms_to_timestamp(a.raised_at)),
        acknowledged_at: a.acknowledged_at.map(ms_to_timestamp),
        acknowledged_by: a.acknowledged_by,
    }
}

fn delivery_proto(d: Delivery) -> AlertDelivery {
    AlertDelivery {
        id: d.id,
        alert_id: d.alert_id,
        url: d.url,
        attempt: u32::try_from(d.attempt).unwrap_or(0),
        status: d.status,
        due_at: Some(ms_to_timestamp(d.due_at)),
        attempted_at: d.attempted_at.map(ms_to_timestamp),
        status_code: d.status_code.and_then(|c| u32::try_from(c).ok()),
        error: d.error,
        duration_ms: u64::try_from(d.duration_ms).unwrap_or(0),
    }
}

impl UsageGrpc {
    pub(crate) async fn do_list_alerts(
        &self,
        request: Request<ListAlertsRequest>,
    ) -> Result<Response<ListAlertsResponse>, Status> {
        let ctx = CallContext::of(&request);
        let user_id = own(ctx.principal()?)?;
        let req = request.into_inner();
        let page = req.page.unwrap_or_default();
        let limit = page_size(&page)?;
        let now = now_ms();
        let filter = AlertFilter {
            user_id,
            active_at: req.active_only.then_some(now),
            before: position(&page.page_token)?,
        };
        let rows = usage_alerts::list(&self.store, &filter, limit + 1)
            .await
            .map_err(Error::from)?;
        let (rows, next_page_token) = keyset_page(rows, limit, |a| (a.raised_at, a.id.as_str()));
        Ok(Response::new(ListAlertsResponse {
            alerts: rows.into_iter().map(|a| alert_proto(a, now)).collect(),
            next_page_token,
        }))
    }

    pub(crate) async fn do_acknowledge_alert(
        &self,
        request: Request<AcknowledgeAlertRequest>,
    ) -> Result<Response<AcknowledgeAlertResponse>, Status> {
        let ctx = CallContext::of(&request);
        let principal = ctx.principal()?.clone();
        if principal.role == Role::ReadOnly {
            return Err(
                Error::permission_denied("read-only tokens cannot acknowledge alerts").into(),
            );
        }
        let user_id = own(&principal)?;
        let id = request.into_inner().id;
        let id = id.trim();
        if id.is_empty() || id.len() > 36 {
            return Err(Error::invalid("id", "is not an alert id").into());
        }
        let not_found = || Status::from(Error::not_found("no such alert"));
        // A person may not learn whether someone else's alert exists.
        let alert = usage_alerts::get(&self.store, id)
            .await
            .map_err(Error::from)?
            .filter(|a| user_id.as_ref().is_none_or(|u| *u == a.user_id))
            .ok_or_else(not_found)?;
        let event = NewAuditEvent::new(
            &principal,
            &ctx.client_ip_text(),
            "usage.alert_acknowledge",
            format!("alert:{}", alert.id),
        );
        let now = now_ms();
        let saved =
            usage_alerts::acknowledge(&self.store, &alert.id, &principal.audit_actor(), now, event)
                .await
                .map_err(Error::from)?
                .ok_or_else(not_found)?;
        Ok(Response::new(AcknowledgeAlertResponse {
            alert: Some(alert_proto(saved, now)),
        }))
    }

    pub(crate) async fn do_list_alert_deliveries(
        &self,
        request: Request<ListAlertDeliveriesRequest>,
    ) -> Result<Response<ListAlertDeliveriesResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let page = req.page.unwrap_or_default();
        let limit = page_size(&page)?;
        let alert = req.alert_id.trim();
        if alert.len() > 36 {
            return Err(Error::invalid("alert_id", "is not an alert id").into());
        }
        let rows = usage_alerts::list_deliveries(
            &self.store,
            (!alert.is_empty()).then_some(alert),
            position(&page.page_token)?,
            limit + 1,
        )
        .await
        .map_err(Error::from)?;
        let (rows, next_page_token) = keyset_page(rows, limit, |d| (d.created_at, d.id.as_str()));
        Ok(Response::new(ListAlertDeliveriesResponse {
            deliveries: rows.into_iter().map(delivery_proto).collect(),
            next_page_token,
        }))
    }
}
