//! Slash-command prompts (`~/.codex/prompts/<filename>`): admins create, edit and retire them;
//! hosts list them, fetch changed ones and push their own edits back as `host_content_push`
//! allows. A retired prompt stays listed (with `deleted_at`) so hosts delete their copies.

use codex_central_store::audit::{self, Actor};
use codex_central_store::entities::content_proposals::Model as ProposalRow;
use codex_central_store::entities::prompts::Model as Row;
use codex_central_store::{Store, now_ms, prompts};
use serde::{Deserialize, Serialize};

use super::content::{
    HostPush, SyncStatus, WriteStatus, check_expected, check_line, check_text, front_matter,
    sha256_hex, sync_status,
};
use super::proposals::{self, NewProposal};
use crate::{Error, Result};

pub const KIND: &str = "prompt";

/// A prompt as written: body plus the metadata Codex's TUI shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub filename: String,
    pub body: String,
    pub description: String,
    pub argument_hint: String,
}

/// `[A-Za-z0-9._-]`, at most 255 characters, no `..` and not a dot file: it becomes a file
/// name under `~/.codex/prompts/` on every host.
pub fn check_filename(filename: &str) -> Result<()> {
    let ok = !filename.is_empty()
        && filename.len() <= 255
        && !filename.contains("..")
        && !filename.starts_with('.')
        && filename
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "filename",
            "filename must be 1-255 characters of letters, digits, '.', '_' or '-', without '..' or a leading '.'",
        ))
    }
}

impl Draft {
    /// Checks the draft and fills a blank description or hint from the body's front matter.
    fn checked(mut self) -> Result<Draft> {
        check_filename(&self.filename)?;
        check_text("body", &self.body)?;
        if self.body.trim().is_empty() {
            return Err(Error::invalid("body", "the prompt is empty"));
        }
        let meta = front_matter(&self.body);
        let from_meta = |key: &str| {
            meta.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        if self.description.trim().is_empty() {
            self.description = from_meta("description");
        }
        if self.argument_hint.trim().is_empty() {
            self.argument_hint = from_meta("argument-hint");
        }
        check_line("description", &self.description, 1024)?;
        check_line("argument_hint", &self.argument_hint, 255)?;
        Ok(self)
    }
}

pub async fn list(store: &Store, include_retired: bool) -> Result<Vec<Row>> {
    Ok(prompts::list(store, include_retired).await?)
}

/// A live prompt with its body.
pub async fn get(store: &Store, filename: &str) -> Result<Row> {
    check_filename(filename)?;
    prompts::get(store.db(), filename)
        .await?
        .filter(|r| r.deleted_at.is_none())
        .ok_or_else(|| Error::not_found(format!("prompt {filename} not found")))
}

/// A host's sync of one prompt, given the digest of its copy.
pub async fn retrieve(
    store: &Store,
    filename: &str,
    known_sha256: &str,
) -> Result<(SyncStatus, Option<Row>)> {
    check_filename(filename)?;
    let row = prompts::get(store.db(), filename).await?;
    let found = row
        .as_ref()
        .map(|r| (r.deleted_at.is_some(), r.sha256.as_str()));
    Ok((sync_status(found, known_sha256), row))
}

/// An admin's create or edit; `expected_sha256` (when set) must be the current digest.
pub async fn save(
    store: &Store,
    actor: &Actor,
    draft: Draft,
    sha256: &str,
    expected_sha256: &str,
) -> Result<(WriteStatus, Row)> {
    let draft = draft.checked()?;
    check_digest(&draft.body, sha256)?;
    write(store, actor, draft, expected_sha256, "prompt.save").await
}

/// `sha256`, when sent, must be the digest of the body sent (a torn upload is refused).
fn check_digest(body: &str, sha256: &str) -> Result<String> {
    let sha = sha256_hex(body.as_bytes());
    if !sha256.trim().is_empty() && !sha.eq_ignore_ascii_case(sha256.trim()) {
        return Err(Error::invalid(
            "sha256",
            "sha256 must be the SHA-256 of the prompt as sent",
        ));
    }
    Ok(sha)
}

/// A host's push. `sha256` must be the digest of the body it sent.
pub async fn push(
    store: &Store,
    actor: &Actor,
    mode: HostPush,
    draft: Draft,
    sha256: &str,
) -> Result<(WriteStatus, Row, Option<ProposalRow>)> {
    let draft = draft.checked()?;
    if sha256.trim().is_empty() {
        return Err(Error::invalid("sha256", "sha256 is required"));
    }
    let sha = check_digest(&draft.body, sha256)?;
    match mode {
        HostPush::Off => Err(Error::permission_denied(
            "hosts may not push prompts: the fleet's host_content_push setting is off",
        )
        .with_reason("host_push_disabled")),
        HostPush::On => {
            let (status, row) = write(store, actor, draft, "", "prompt.push").await?;
            Ok((status, row, None))
        }
        HostPush::Review => propose(store, actor, draft, sha).await,
    }
}

async fn propose(
    store: &Store,
    actor: &Actor,
    draft: Draft,
    sha: String,
) -> Result<(WriteStatus, Row, Option<ProposalRow>)> {
    let txn = store.begin_write().await?;
    let current = prompts::get(&txn, &draft.filename).await?;
    let live = current.as_ref().filter(|r| r.deleted_at.is_none());
    if let Some(row) = live.filter(|r| r.sha256 == sha) {
        return Ok((WriteStatus::Unchanged, row.clone(), None));
    }
    let now = now_ms();
    let shown = Row {
        id: current.as_ref().map(|r| r.id.clone()).unwrap_or_default(),
        filename: draft.filename.clone(),
        description: draft.description.clone(),
        argument_hint: draft.argument_hint.clone(),
        body: String::new(),
        sha256: sha.clone(),
        updated_by: actor.principal.audit_actor(),
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    let item = NewProposal {
        kind: KIND,
        key: &draft.filename,
        content_sha256: &sha,
        base_sha256: live.map_or("", |r| r.sha256.as_str()),
        payload: serde_json::to_string(&draft)
            .map_err(|e| Error::internal(format!("proposal does not serialize: {e}")))?,
    };
    let proposal = proposals::file(txn, actor, item).await?;
    Ok((WriteStatus::Proposed, shown, Some(proposal)))
}

/// Applies an approved proposal's content as the fleet's copy.
pub async fn apply_proposal(
    txn: &codex_central_store::Transaction,
    actor: &Actor,
    proposal: &ProposalRow,
) -> Result<()> {
    let draft: Draft = serde_json::from_str(&proposal.payload)
        .map_err(|e| Error::internal(format!("stored proposal is unreadable: {e}")))?;
    upsert(txn, actor, draft.checked()?, "").await?;
    Ok(())
}

async fn write(
    store: &Store,
    actor: &Actor,
    draft: Draft,
    expected_sha256: &str,
    action: &str,
) -> Result<(WriteStatus, Row)> {
    let txn = store.begin_write().await?;
    let (status, row) = upsert(&txn, actor, draft, expected_sha256).await?;
    if status == WriteStatus::Unchanged {
        return Ok((status, row));
    }
    let event = actor
        .event(action, format!("prompt:{}", row.filename))
        .details(serde_json::json!({"sha256": row.sha256}));
    audit::commit(txn, event).await?;
    Ok((status, row))
}

/// Creates, edits or revives a prompt inside `txn`; the caller audits.
async fn upsert(
    txn: &codex_central_store::Transaction,
    actor: &Actor,
    draft: Draft,
    expected_sha256: &str,
) -> Result<(WriteStatus, Row)> {
    let sha = sha256_hex(draft.body.as_bytes());
    let now = now_ms();
    let current = prompts::get(txn, &draft.filename).await?;
    let live = current.as_ref().filter(|r| r.deleted_at.is_none());
    check_expected(
        &format!("prompt {}", draft.filename),
        expected_sha256,
        live.map_or("", |r| r.sha256.as_str()),
    )?;
    let by = actor.principal.audit_actor();
    match current {
        None => {
            let row = prompts::insert(
                txn,
                Row {
                    id: uuid::Uuid::now_v7().to_string(),
                    filename: draft.filename,
                    description: draft.description,
                    argument_hint: draft.argument_hint,
                    body: draft.body,
                    sha256: sha,
                    updated_by: by,
                    created_at: now,
                    updated_at: now,
                    deleted_at: None,
                },
            )
            .await?;
            Ok((WriteStatus::Created, row))
        }
        Some(old)
            if old.deleted_at.is_none()
                && old.sha256 == sha
                && old.description == draft.description
                && old.argument_hint == draft.argument_hint =>
        {
            Ok((WriteStatus::Unchanged, old))
        }
        Some(old) => {
            let status = if old.deleted_at.is_some() {
                WriteStatus::Created
            } else {
                WriteStatus::Updated
            };
            let row = Row {
                description: draft.description,
                argument_hint: draft.argument_hint,
                body: draft.body,
                sha256: sha,
                updated_by: by,
                updated_at: now,
                deleted_at: None,
                ..old.clone()
            };
            if !prompts::replace(txn, &row, &old.sha256).await? {
                return Err(Error::failed_precondition(format!(
                    "prompt {} was changed concurrently; reload and retry",
                    row.filename
                ))
                .with_reason("sha256_mismatch"));
            }
            Ok((status, row))
        }
    }
}

/// Retires a live prompt; hosts delete it on their next sync.
pub async fn retire(store: &Store, actor: &Actor, filename: &str) -> Result<Row> {
    check_filename(filename)?;
    let txn = store.begin_write().await?;
    let row = prompts::get(&txn, filename)
        .await?
        .filter(|r| r.deleted_at.is_none())
        .ok_or_else(|| Error::not_found(format!("prompt {filename} not found")))?;
    let now = now_ms();
    let by = actor.principal.audit_actor();
    if !prompts::retire(&txn, &row.id, &by, now).await? {
        return Err(Error::not_found(format!("prompt {filename} not found")));
    }
    audit::commit(
        txn,
        actor.event("prompt.retire", format!("prompt:{filename}")),
    )
    .await?;
    Ok(Row {
        deleted_at: Some(now),
        updated_at: now,
        updated_by: by,
        ..row
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_stay_inside_the_prompts_directory() {
        for ok in ["review.md", "fix-bug_2.md", "a"] {
            assert!(check_filename(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../x.md",
            "a/b.md",
            ".hidden",
            "a..b",
            "x\0.md",
            "sp ace.md",
        ] {
            assert!(check_filename(bad).is_err(), "{bad:?}");
        }
        assert!(check_filename(&"a".repeat(256)).is_err());
    }

    #[test]
    fn metadata_falls_back_to_front_matter() {
        let d = Draft {
            filename: "review.md".into(),
            body: "---\ndescription: Review\nargument-hint: <file>\n---\nLook at $1\n".into(),
            ..Default::default()
        }
        .checked()
        .unwrap();
        assert_eq!(d.description, "Review");
        assert_eq!(d.argument_hint, "<file>");
    }
}
