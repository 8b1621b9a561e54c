//! The fleet's `AGENTS.md`: one canonical copy with every version kept. Hosts write it to
//! `~/.codex/AGENTS.md`; clearing it makes them remove their copies.

use codex_central_store::audit::{self, Actor};
use codex_central_store::entities::agents_documents::Model as Row;
use codex_central_store::{Store, agents_documents, now_ms};

use super::content::{SyncStatus, WriteStatus, check_expected, check_text, sha256_hex};
use crate::Result;

/// The current document; `None` when none was saved or the newest version cleared it.
pub async fn current(store: &Store) -> Result<Option<Row>> {
    Ok(agents_documents::latest(store.db())
        .await?
        .filter(|r| !r.cleared))
}

/// A host's sync: `known_sha256` is the digest of the copy it has (empty for none).
pub async fn retrieve(store: &Store, known_sha256: &str) -> Result<(SyncStatus, Option<Row>)> {
    Ok(match current(store).await? {
        None => (SyncStatus::Missing, None),
        Some(doc) if doc.sha256.eq_ignore_ascii_case(known_sha256.trim()) => {
            (SyncStatus::Unchanged, Some(doc))
        }
        Some(doc) => (SyncStatus::Updated, Some(doc)),
    })
}

/// Saves `content` as the next version unless it is what is current. `expected_sha256` (when
/// set) must be the current digest.
pub async fn save(
    store: &Store,
    actor: &Actor,
    content: &str,
    expected_sha256: &str,
) -> Result<(WriteStatus, Row)> {
    check_text("content", content)?;
    let sha = sha256_hex(content.as_bytes());
    let txn = store.begin_write().await?;
    let latest = agents_documents::latest(&txn).await?;
    let live = latest.as_ref().filter(|r| !r.cleared);
    check_expected(
        "AGENTS.md",
        expected_sha256,
        live.map_or("", |r| r.sha256.as_str()),
    )?;
    if let Some(doc) = live.filter(|r| r.sha256 == sha) {
        return Ok((WriteStatus::Unchanged, doc.clone()));
    }
    let status = if live.is_some() {
        WriteStatus::Updated
    } else {
        WriteStatus::Created
    };
    let row = agents_documents::append(
        &txn,
        Row {
            version: latest.as_ref().map_or(1, |r| r.version + 1),
            content: content.to_string(),
            sha256: sha.clone(),
            size_bytes: i64::try_from(content.len()).unwrap_or(i64::MAX),
            cleared: false,
            updated_by: actor.principal.audit_actor(),
            updated_at: now_ms(),
        },
    )
    .await?;
    let event = actor
        .event("agents.save", format!("agents:{}", row.version))
        .details(serde_json::json!({"sha256": sha, "size_bytes": row.size_bytes}));
    audit::commit(txn, event).await?;
    Ok((status, row))
}

/// Clears the document (a version of its own). Returns false when there was nothing to clear.
pub async fn clear(store: &Store, actor: &Actor) -> Result<bool> {
    let txn = store.begin_write().await?;
    let Some(latest) = agents_documents::latest(&txn).await?.filter(|r| !r.cleared) else {
        return Ok(false);
    };
    let row = agents_documents::append(
        &txn,
        Row {
            version: latest.version + 1,
            content: String::new(),
            sha256: String::new(),
            size_bytes: 0,
            cleared: true,
            updated_by: actor.principal.audit_actor(),
            updated_at: now_ms(),
        },
    )
    .await?;
    audit::commit(
        txn,
        actor.event("agents.clear", format!("agents:{}", row.version)),
    )
    .await?;
    Ok(true)
}

/// Versions newest first, without content.
pub async fn versions(store: &Store, offset: u64, limit: u64) -> Result<Vec<Row>> {
    Ok(agents_documents::list(store, offset, limit).await?)
}
