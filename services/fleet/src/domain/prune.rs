//! Pruning of expired, inactive and never-provisioned hosts: a background job that runs on one
//! replica at a time (a database lease), never on the request path.

use std::time::Duration;

use codex_central_store::audit::{self, NewAuditEvent};
use codex_central_store::{Store, hosts, leases, now_ms};
use serde_json::json;

use super::policy;
use crate::Result;

/// Hosts that were registered but never used are removed after this long (SPEC §4).
pub const UNPROVISIONED_GRACE: Duration = Duration::from_secs(30 * 60);
const LEASE: &str = "fleet.prune";
const INTERVAL: Duration = Duration::from_secs(60);

/// One pruning pass; returns the fqdns removed.
pub async fn prune_once(store: &Store, actor: &str) -> Result<Vec<String>> {
    let now = now_ms();
    let policy = policy::get(store).await?;
    let inactive_before = (policy.prune_inactive_days > 0)
        .then(|| now - i64::from(policy.prune_inactive_days) * 86_400_000);
    let unprovisioned_before = now - super::hosts::millis(UNPROVISIONED_GRACE);
    let doomed = hosts::prunable(store, now, inactive_before, unprovisioned_before).await?;
    let mut pruned = Vec::with_capacity(doomed.len());
    for host in doomed {
        let reason = if host.expires_at.is_some_and(|e| e < now) {
            "expired"
        } else if host.provisioned_at.is_none() && host.ip.is_none() {
            "never_provisioned"
        } else {
            "inactive"
        };
        let txn = store.begin().await?;
        if hosts::delete(&txn, host.id).await? {
            let event = NewAuditEvent::without_principal(
                actor,
                "",
                "host.prune",
                format!("host:{}", host.id),
            )
            .details(json!({ "fqdn": host.fqdn, "reason": reason }));
            audit::append(&txn, event).await?;
            pruned.push(host.fqdn);
        }
        txn.commit()
            .await
            .map_err(codex_central_store::Error::from)?;
    }
    // Failure counters whose window and block are over (one row per failing address).
    let window = super::host_auth::FAILURE_BUDGET.window_ms;
    codex_central_store::auth_failures::prune(store, now - window, now).await?;
    Ok(pruned)
}

/// Runs [`prune_once`] every minute on whichever replica holds the lease.
pub fn spawn_pruner(store: Store, holder: String) -> tokio::task::JoinHandle<()> {
    leases::spawn_every(store, LEASE, holder, INTERVAL, |store| async move {
        match prune_once(&store, "system:pruner").await {
            Ok(pruned) if !pruned.is_empty() => {
                tracing::info!(count = pruned.len(), "pruned hosts");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "host pruning failed"),
        }
    })
}
