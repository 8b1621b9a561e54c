//! The price RPCs: list (current or every snapshot), add, delete. Prices change what new rows
//! cost; rows already stored keep their cost until an admin recomputes them.

use codex_central_common::PrincipalKind;
use codex_central_proto::usage::v1::*;
use codex_central_proto::{CallContext, ms_to_timestamp};
use codex_central_store::audit::{self, NewAuditEvent};
use codex_central_store::entities::price_snapshots::Model as Snapshot;
use codex_central_store::{now_ms, price_snapshots};
use tonic::{Request, Response, Status};

use crate::Error;
use crate::domain::pricing::{self, CURRENCY};
use crate::grpc::UsageGrpc;

pub(crate) fn price_proto(s: Snapshot) -> PriceSnapshot {
    PriceSnapshot {
        id: s.id,
        model: s.model,
        input_per_million_micros: s.input_per_million_micros,
        cached_input_per_million_micros: s.cached_input_per_million_micros,
        output_per_million_micros: s.output_per_million_micros,
        currency: s.currency,
        effective_at: Some(ms_to_timestamp(s.effective_at)),
        source: match s.source.as_str() {
            pricing::SOURCE_DEFAULT => PriceSource::Default,
            pricing::SOURCE_ADMIN => PriceSource::Admin,
            pricing::SOURCE_PULL => PriceSource::Pull,
            "import" => PriceSource::Import,
            _ => PriceSource::Unspecified,
        } as i32,
        created_at: Some(ms_to_timestamp(s.created_at)),
    }
}

fn price(field: &str, micros: i64) -> Result<i64, Status> {
    if !(0..=1_000_000_000_000).contains(&micros) {
        return Err(Error::invalid(
            field,
            "must be between 0 and 1,000,000 currency units (in micros) per million tokens",
        )
        .into());
    }
    Ok(micros)
}

impl UsageGrpc {
    pub(crate) async fn do_list_prices(
        &self,
        request: Request<ListPricesRequest>,
    ) -> Result<Response<ListPricesResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?;
        if p.kind == PrincipalKind::Host {
            return Err(Error::permission_denied("prices are read by people").into());
        }
        let req = request.into_inner();
        let models: Vec<String> = if req.model.trim().is_empty() {
            Vec::new()
        } else {
            vec![req.model.trim().to_string()]
        };
        let all = price_snapshots::list(&self.store, &models)
            .await
            .map_err(Error::from)?;
        let now = now_ms();
        let prices: Vec<PriceSnapshot> = if req.include_history {
            all.into_iter().map(price_proto).collect()
        } else {
            // The one in force now per model (a snapshot from the future is not yet).
            let book = pricing::PriceBook::of(all.clone());
            let mut current: Vec<Snapshot> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for s in &all {
                if seen.insert(s.model.clone())
                    && let Some(c) = book.at(&s.model, now)
                    && c.model == s.model
                {
                    current.push(c.clone());
                }
            }
            current.into_iter().map(price_proto).collect()
        };
        Ok(Response::new(ListPricesResponse { prices }))
    }

    pub(crate) async fn do_create_price_snapshot(
        &self,
        request: Request<CreatePriceSnapshotRequest>,
    ) -> Result<Response<CreatePriceSnapshotResponse>, Status> {
        let ctx = CallContext::of(&request);
        let admin = ctx.require_admin()?.clone();
        let req = request.into_inner();
        let model = pricing::check_model("model", &req.model)?;
        let currency = if req.currency.trim().is_empty() {
            CURRENCY.to_string()
        } else {
            req.currency.trim().to_ascii_uppercase()
        };
        if currency != CURRENCY {
            return Err(Error::invalid(
                "currency",
                format!("costs are counted in {CURRENCY}; enter prices in {CURRENCY}"),
            )
            .into());
        }
        let now = now_ms();
        let snapshot = Snapshot {
            id: uuid::Uuid::new_v4().to_string(),
            model,
            input_per_million_micros: price(
                "input_per_million_micros",
                req.input_per_million_micros,
            )?,
            cached_input_per_million_micros: price(
                "cached_input_per_million_micros",
                req.cached_input_per_million_micros,
            )?,
            output_per_million_micros: price(
                "output_per_million_micros",
                req.output_per_million_micros,
            )?,
            currency,
            effective_at: req
                .effective_at
                .as_ref()
                .map(codex_central_proto::timestamp_to_ms)
                .unwrap_or(now),
            source: pricing::SOURCE_ADMIN.into(),
            created_at: now,
            created_by: admin.audit_actor(),
        };
        let txn = self.store.begin().await.map_err(Error::from)?;
        let saved = price_snapshots::insert(&txn, snapshot)
            .await
            .map_err(Error::from)?;
        audit::commit(
            txn,
            NewAuditEvent::new(
                &admin,
                &ctx.client_ip_text(),
                "usage.price.create",
                &saved.model,
            )
            .details(serde_json::json!({
                "id": saved.id,
                "effective_at": saved.effective_at,
                "input_per_million_micros": saved.input_per_million_micros,
                "cached_input_per_million_micros": saved.cached_input_per_million_micros,
                "output_per_million_micros": saved.output_per_million_micros,
            })),
        )
        .await
        .map_err(Error::from)?;
        Ok(Response::new(CreatePriceSnapshotResponse {
            price: Some(price_proto(saved)),
        }))
    }

    pub(crate) async fn do_delete_price_snapshot(
        &self,
        request: Request<DeletePriceSnapshotRequest>,
    ) -> Result<Response<DeletePriceSnapshotResponse>, Status> {
        let ctx = CallContext::of(&request);
        let admin = ctx.require_admin()?.clone();
        let id = request.into_inner().id;
        let Some(found) = price_snapshots::get(&self.store, &id)
            .await
            .map_err(Error::from)?
        else {
            return Err(Error::not_found(format!("no price snapshot {id}")).into());
        };
        if found.source == pricing::SOURCE_DEFAULT {
            return Err(Error::failed_precondition(
                "shipped prices come back at the next start: add a snapshot from a date instead",
            )
            .into());
        }
        let txn = self.store.begin().await.map_err(Error::from)?;
        price_snapshots::delete(&txn, &id)
            .await
            .map_err(Error::from)?;
        audit::commit(
            txn,
            NewAuditEvent::new(
                &admin,
                &ctx.client_ip_text(),
                "usage.price.delete",
                &found.model,
            )
            .details(serde_json::json!({ "id": id, "effective_at": found.effective_at })),
        )
        .await
        .map_err(Error::from)?;
        Ok(Response::new(DeletePriceSnapshotResponse {}))
    }
}

impl UsageGrpc {
    pub(crate) async fn do_recompute_costs(
        &self,
        request: Request<RecomputeCostsRequest>,
    ) -> Result<Response<RecomputeCostsResponse>, Status> {
        let ctx = CallContext::of(&request);
        let admin = ctx.require_admin()?.clone();
        let book = pricing::PriceBook::of(
            price_snapshots::list(&self.store, &[])
                .await
                .map_err(Error::from)?,
        );
        let done = codex_central_store::usage_records::reprice(&self.store, |r| {
            book.at(&r.model, r.recorded_at).map(|p| {
                pricing::cost_micros(
                    pricing::Counted {
                        input: r.input_tokens,
                        cached: r.cached_input_tokens,
                        output: r.output_tokens,
                    },
                    p,
                )
            })
        })
        .await
        .map_err(Error::from)?;
        let txn = self.store.begin().await.map_err(Error::from)?;
        audit::commit(
            txn,
            NewAuditEvent::new(
                &admin,
                &ctx.client_ip_text(),
                "usage.costs.recompute",
                "usage",
            )
            .details(serde_json::json!({
                "rows_examined": done.examined,
                "rows_changed": done.changed,
            })),
        )
        .await
        .map_err(Error::from)?;
        if done.changed > 0 {
            self.watches.changes().poke();
        }
        Ok(Response::new(RecomputeCostsResponse {
            rows_examined: done.examined,
            rows_changed: done.changed,
        }))
    }
}

impl UsageGrpc {
    pub(crate) async fn do_sync_pricing(
        &self,
        request: Request<SyncPricingRequest>,
    ) -> Result<Response<SyncPricingResponse>, Status> {
        let ctx = CallContext::of(&request);
        if ctx.require_internal().is_err() {
            ctx.require_admin()?;
        }
        let holder = format!("sync:{}", uuid::Uuid::new_v4());
        let Some(state) = self.pricing.sync_now(&holder).await? else {
            return Err(Error::unavailable(
                "another replica is pulling prices now; try again shortly",
            )
            .into());
        };
        if !state.last_error.is_empty() {
            return Err(
                Error::unavailable(format!("could not pull prices: {}", state.last_error)).into(),
            );
        }
        Ok(Response::new(SyncPricingResponse {
            added: state.added,
            synced_at: Some(ms_to_timestamp(state.synced_at)),
        }))
    }
}
