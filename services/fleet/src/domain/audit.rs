//! Reading the audit log (every service appends to it through the store).

use codex_central_store::Store;
use codex_central_store::audit::{self, AuditFilter};
use codex_central_store::entities::audit_log::Model;

use crate::{Error, Result};

pub async fn list(
    store: &Store,
    filter: &AuditFilter,
    page_token: Option<String>,
    limit: u64,
) -> Result<Vec<Model>> {
    let before_id =
        match page_token {
            None => None,
            Some(t) => Some(t.parse::<i64>().map_err(|_| {
                Error::invalid("page_token", "page_token is not a valid page token")
            })?),
        };
    Ok(audit::list(store, filter, before_id, limit).await?)
}

/// Appends one audit row for an action taken by `actor`.
pub async fn record(
    store: &Store,
    actor: &super::hosts::Actor,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> Result<()> {
    audit::append(
        store.db(),
        audit::NewAuditEvent {
            actor_kind: actor.principal.kind_name().into(),
            actor: actor.principal.audit_actor(),
            action: action.into(),
            target: target.into(),
            client_ip: actor.client_ip.clone(),
            details,
        },
    )
    .await?;
    Ok(())
}
