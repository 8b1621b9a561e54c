//! Prompts and skills hosts pushed while `host_content_push` is `review`: admins approve
//! (the content becomes the fleet's copy) or reject them.

use codex_central_store::audit::{self, Actor};
use codex_central_store::entities::content_proposals::Model as Row;
use codex_central_store::{Store, Transaction, content_proposals, now_ms};

use super::{prompts, skills};
use crate::{Error, Result};

/// A host's push to file for review.
pub struct NewProposal<'a> {
    pub kind: &'static str,
    /// The prompt's file name or the skill's slug.
    pub key: &'a str,
    pub content_sha256: &'a str,
    /// Digest of the live fleet copy; empty for a new item.
    pub base_sha256: &'a str,
    /// The pushed item as JSON.
    pub payload: String,
}

/// Files `item` and commits `txn` with its audit row; when the same content is pending
/// already, answers that proposal instead (a wrapper pushes its edit on every run).
pub async fn file(txn: Transaction, actor: &Actor, item: NewProposal<'_>) -> Result<Row> {
    let host_id = actor
        .principal
        .id
        .parse::<i64>()
        .map_err(|_| Error::permission_denied("only hosts push content for review"))?;
    if let Some(existing) =
        content_proposals::find_pending(&txn, item.kind, item.key, item.content_sha256).await?
    {
        return Ok(existing);
    }
    let proposal = content_proposals::insert(
        &txn,
        Row {
            id: uuid::Uuid::now_v7().to_string(),
            kind: item.kind.into(),
            item_key: item.key.into(),
            host_id,
            base_sha256: item.base_sha256.into(),
            content_sha256: item.content_sha256.into(),
            payload: item.payload,
            state: content_proposals::PENDING.into(),
            created_at: now_ms(),
            decided_by: String::new(),
            decided_at: None,
            reason: String::new(),
        },
    )
    .await?;
    let event = actor
        .event(
            &format!("{}.propose", item.kind),
            format!("{}:{}", item.kind, item.key),
        )
        .details(serde_json::json!({"proposal_id": proposal.id}));
    audit::commit(txn, event).await?;
    Ok(proposal)
}

pub async fn list(store: &Store, state: &str, offset: u64, limit: u64) -> Result<Vec<Row>> {
    Ok(content_proposals::list(store, state, offset, limit).await?)
}

/// Approves a pending proposal: its content is applied and the decision recorded together.
pub async fn approve(store: &Store, actor: &Actor, id: &str) -> Result<Row> {
    let txn = store.begin_write().await?;
    let proposal = pending(&txn, id).await?;
    match proposal.kind.as_str() {
        prompts::KIND => prompts::apply_proposal(&txn, actor, &proposal).await?,
        skills::KIND => skills::apply_proposal(&txn, actor, &proposal).await?,
        other => {
            return Err(Error::internal(format!(
                "proposal {id} has an unknown kind {other:?}"
            )));
        }
    }
    let (by, at) = (actor.principal.audit_actor(), now_ms());
    content_proposals::decide(&txn, id, content_proposals::APPROVED, &by, at, "").await?;
    let event = actor.event(
        "proposal.approve",
        format!("{}:{}", proposal.kind, proposal.item_key),
    );
    audit::commit(txn, event.details(serde_json::json!({"proposal_id": id}))).await?;
    Ok(decided(proposal, content_proposals::APPROVED, by, at, ""))
}

pub async fn reject(store: &Store, actor: &Actor, id: &str, reason: &str) -> Result<Row> {
    super::content::check_line("reason", reason, 1024)?;
    let txn = store.begin_write().await?;
    let proposal = pending(&txn, id).await?;
    let (by, at) = (actor.principal.audit_actor(), now_ms());
    content_proposals::decide(&txn, id, content_proposals::REJECTED, &by, at, reason).await?;
    let event = actor.event(
        "proposal.reject",
        format!("{}:{}", proposal.kind, proposal.item_key),
    );
    audit::commit(txn, event.details(serde_json::json!({"proposal_id": id}))).await?;
    Ok(decided(
        proposal,
        content_proposals::REJECTED,
        by,
        at,
        reason,
    ))
}

async fn pending(txn: &Transaction, id: &str) -> Result<Row> {
    let proposal = content_proposals::get(txn, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("proposal {id} not found")))?;
    if proposal.state != content_proposals::PENDING {
        return Err(Error::failed_precondition(format!(
            "proposal {id} was already {}",
            proposal.state
        )));
    }
    Ok(proposal)
}

fn decided(proposal: Row, state: &str, by: String, at: i64, reason: &str) -> Row {
    Row {
        state: state.into(),
        decided_by: by,
        decided_at: Some(at),
        reason: reason.into(),
        ..proposal
    }
}
