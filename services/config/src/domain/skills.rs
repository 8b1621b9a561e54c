//! Skills (`~/.codex/skills/<slug>/SKILL.md` plus optional files): the same lifecycle as
//! prompts. `SKILL.md` must carry the YAML front matter Codex lists skills by (`name`,
//! `description`). The peer's wrapper syncs single-document skills: those are a `SKILL.md`
//! without files, and their digest is that of the text, as the peer computes it.

use codex_central_store::audit::{self, Actor};
use codex_central_store::entities::content_proposals::Model as ProposalRow;
use codex_central_store::entities::skills::Model as Row;
use codex_central_store::{Store, Transaction, now_ms, skills};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::content::{
    HostPush, SyncStatus, WriteStatus, check_expected, check_line, check_text, front_matter,
    sha256_hex, sync_status,
};
use super::proposals::{self, NewProposal};
use crate::{Error, Result};

pub const KIND: &str = "skill";
const MAX_FILES: usize = 64;
const MAX_FILE_BYTES: usize = 1024 * 1024;
const MAX_TOTAL_BYTES: usize = 4 * 1024 * 1024;

/// One extra file, relative to the skill's folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkillFile {
    pub path: String,
    /// Base64 in storage and proposals (files may be binary).
    #[serde(with = "b64")]
    pub content: Vec<u8>,
    #[serde(default)]
    pub sha256: String,
}

mod b64 {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// A skill as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub slug: String,
    pub manifest: String,
    #[serde(default)]
    pub files: Vec<SkillFile>,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub description: String,
}

/// `[A-Za-z0-9._-]`, at most 128 characters, no `..` and no leading dot: a folder name under
/// `~/.codex/skills/` on every host.
pub fn check_slug(slug: &str) -> Result<()> {
    if name_ok(slug, 128) {
        Ok(())
    } else {
        Err(Error::invalid(
            "slug",
            "slug must be 1-128 characters of letters, digits, '.', '_' or '-', without '..' or a leading '.'",
        ))
    }
}

fn name_ok(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && !s.contains("..")
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A relative path inside the skill's folder: components as in [`check_slug`], not `SKILL.md`.
fn check_path(field: &str, path: &str) -> Result<()> {
    let ok = path.len() <= 255
        && !path.eq_ignore_ascii_case("SKILL.md")
        && path.split('/').all(|part| name_ok(part, 128));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "a file path is relative, its parts letters, digits, '.', '_' or '-' separated by '/', without '..', and not SKILL.md",
        ))
    }
}

/// The skill's digest: of `SKILL.md` alone when there are no files (what the peer's wrapper
/// computes for its single-document skills), else of `SKILL.md`'s digest followed by each
/// file's path and digest in path order.
pub fn digest(manifest: &str, files: &[SkillFile]) -> String {
    let manifest_sha = sha256_hex(manifest.as_bytes());
    if files.is_empty() {
        return manifest_sha;
    }
    let mut sorted: Vec<&SkillFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut d = Sha256::new();
    d.update(b"SKILL.md\0");
    d.update(manifest_sha.as_bytes());
    d.update(b"\n");
    for f in sorted {
        d.update(f.path.as_bytes());
        d.update(b"\0");
        d.update(sha256_hex(&f.content).as_bytes());
        d.update(b"\n");
    }
    hex::encode(d.finalize())
}

impl Draft {
    fn checked(mut self) -> Result<Draft> {
        check_slug(&self.slug)?;
        check_text("manifest", &self.manifest)?;
        let meta = front_matter(&self.manifest);
        let get = |key: &str| {
            meta.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let (name, description) = (get("name"), get("description"));
        if name.is_empty() || description.is_empty() {
            return Err(Error::invalid(
                "manifest",
                "SKILL.md must start with YAML front matter naming the skill: ---, name: …, description: …, ---",
            ));
        }
        check_line("manifest.name", &name, 128)?;
        check_line("manifest.description", &description, 1024)?;
        if self.display_name.trim().is_empty() {
            self.display_name = name;
        }
        if self.description.trim().is_empty() {
            self.description = description;
        }
        check_line("display_name", &self.display_name, 255)?;
        check_line("description", &self.description, 1024)?;
        if self.files.len() > MAX_FILES {
            return Err(Error::invalid(
                "files",
                format!("a skill has at most {MAX_FILES} files"),
            ));
        }
        let mut total = self.manifest.len();
        let mut seen = std::collections::HashSet::new();
        for (i, f) in self.files.iter_mut().enumerate() {
            check_path(&format!("files.{i}.path"), &f.path)?;
            if !seen.insert(f.path.clone()) {
                return Err(Error::invalid(
                    format!("files.{i}.path"),
                    "a path appears twice",
                ));
            }
            if f.content.len() > MAX_FILE_BYTES {
                return Err(Error::invalid(
                    format!("files.{i}.content"),
                    format!("a file is at most {MAX_FILE_BYTES} bytes"),
                ));
            }
            total += f.content.len();
            let sha = sha256_hex(&f.content);
            if !f.sha256.is_empty() && !f.sha256.eq_ignore_ascii_case(&sha) {
                return Err(Error::invalid(
                    format!("files.{i}.sha256"),
                    "sha256 must be the SHA-256 of the file's content",
                ));
            }
            f.sha256 = sha;
        }
        if total > MAX_TOTAL_BYTES {
            return Err(Error::invalid(
                "files",
                format!("a skill is at most {MAX_TOTAL_BYTES} bytes in all"),
            ));
        }
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(self)
    }
}

/// The stored files of a row.
pub fn files_of(row: &Row) -> Result<Vec<SkillFile>> {
    serde_json::from_str(&row.files).map_err(|e| {
        Error::internal(format!(
            "stored files of skill {} are unreadable: {e}",
            row.slug
        ))
    })
}

fn files_json(files: &[SkillFile]) -> Result<String> {
    serde_json::to_string(files)
        .map_err(|e| Error::internal(format!("files do not serialize: {e}")))
}

pub async fn list(store: &Store, include_retired: bool) -> Result<Vec<Row>> {
    Ok(skills::list(store, include_retired).await?)
}

pub async fn get(store: &Store, slug: &str) -> Result<Row> {
    check_slug(slug)?;
    skills::get(store.db(), slug)
        .await?
        .filter(|r| r.deleted_at.is_none())
        .ok_or_else(|| Error::not_found(format!("skill {slug} not found")))
}

pub async fn retrieve(
    store: &Store,
    slug: &str,
    known_sha256: &str,
) -> Result<(SyncStatus, Option<Row>)> {
    check_slug(slug)?;
    let row = skills::get(store.db(), slug).await?;
    let found = row
        .as_ref()
        .map(|r| (r.deleted_at.is_some(), r.sha256.as_str()));
    Ok((sync_status(found, known_sha256), row))
}

pub async fn save(
    store: &Store,
    actor: &Actor,
    draft: Draft,
    expected_sha256: &str,
) -> Result<(WriteStatus, Row)> {
    let draft = draft.checked()?;
    let txn = store.begin_write().await?;
    let (status, row) = upsert(&txn, actor, draft, expected_sha256).await?;
    commit(txn, actor, status, &row, "skill.save").await?;
    Ok((status, row))
}

/// A host's push; `sha256` must be the digest of what it sent (see [`digest`]).
pub async fn push(
    store: &Store,
    actor: &Actor,
    mode: HostPush,
    draft: Draft,
    sha256: &str,
) -> Result<(WriteStatus, Row, Option<ProposalRow>)> {
    let draft = draft.checked()?;
    let sha = digest(&draft.manifest, &draft.files);
    if sha256.trim().is_empty() {
        return Err(Error::invalid("sha256", "sha256 is required"));
    }
    if !sha.eq_ignore_ascii_case(sha256.trim()) {
        return Err(Error::invalid(
            "sha256",
            "sha256 must be the SHA-256 of the skill as sent",
        ));
    }
    match mode {
        HostPush::Off => Err(Error::permission_denied(
            "hosts may not push skills: the fleet's host_content_push setting is off",
        )
        .with_reason("host_push_disabled")),
        HostPush::On => {
            let txn = store.begin_write().await?;
            let (status, row) = upsert(&txn, actor, draft, "").await?;
            commit(txn, actor, status, &row, "skill.push").await?;
            Ok((status, row, None))
        }
        HostPush::Review => propose(store, actor, draft, sha).await,
    }
}

async fn commit(
    txn: Transaction,
    actor: &Actor,
    status: WriteStatus,
    row: &Row,
    action: &str,
) -> Result<()> {
    if status == WriteStatus::Unchanged {
        return Ok(());
    }
    let event = actor
        .event(action, format!("skill:{}", row.slug))
        .details(serde_json::json!({"sha256": row.sha256}));
    audit::commit(txn, event).await?;
    Ok(())
}

async fn propose(
    store: &Store,
    actor: &Actor,
    draft: Draft,
    sha: String,
) -> Result<(WriteStatus, Row, Option<ProposalRow>)> {
    let txn = store.begin_write().await?;
    let current = skills::get(&txn, &draft.slug).await?;
    let live = current.as_ref().filter(|r| r.deleted_at.is_none());
    if let Some(row) = live.filter(|r| r.sha256 == sha) {
        return Ok((WriteStatus::Unchanged, row.clone(), None));
    }
    let now = now_ms();
    let shown = Row {
        id: current.as_ref().map(|r| r.id.clone()).unwrap_or_default(),
        slug: draft.slug.clone(),
        display_name: draft.display_name.clone(),
        description: draft.description.clone(),
        manifest: String::new(),
        files: "[]".into(),
        sha256: sha.clone(),
        updated_by: actor.principal.audit_actor(),
        created_at: now,
        updated_at: now,
        deleted_at: None,
    };
    let item = NewProposal {
        kind: KIND,
        key: &draft.slug,
        content_sha256: &sha,
        base_sha256: live.map_or("", |r| r.sha256.as_str()),
        payload: serde_json::to_string(&draft)
            .map_err(|e| Error::internal(format!("proposal does not serialize: {e}")))?,
    };
    let proposal = proposals::file(txn, actor, item).await?;
    Ok((WriteStatus::Proposed, shown, Some(proposal)))
}

/// The draft a proposal holds.
pub fn proposal_draft(proposal: &ProposalRow) -> Option<Draft> {
    serde_json::from_str(&proposal.payload).ok()
}

pub async fn apply_proposal(
    txn: &Transaction,
    actor: &Actor,
    proposal: &ProposalRow,
) -> Result<()> {
    let draft =
        proposal_draft(proposal).ok_or_else(|| Error::internal("stored proposal is unreadable"))?;
    upsert(txn, actor, draft.checked()?, "").await?;
    Ok(())
}

async fn upsert(
    txn: &Transaction,
    actor: &Actor,
    draft: Draft,
    expected_sha256: &str,
) -> Result<(WriteStatus, Row)> {
    let sha = digest(&draft.manifest, &draft.files);
    let files = files_json(&draft.files)?;
    let now = now_ms();
    let current = skills::get(txn, &draft.slug).await?;
    let live = current.as_ref().filter(|r| r.deleted_at.is_none());
    check_expected(
        &format!("skill {}", draft.slug),
        expected_sha256,
        live.map_or("", |r| r.sha256.as_str()),
    )?;
    let by = actor.principal.audit_actor();
    match current {
        None => {
            let row = skills::insert(
                txn,
                Row {
                    id: uuid::Uuid::now_v7().to_string(),
                    slug: draft.slug,
                    display_name: draft.display_name,
                    description: draft.description,
                    manifest: draft.manifest,
                    files,
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
                && old.display_name == draft.display_name
                && old.description == draft.description =>
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
                display_name: draft.display_name,
                description: draft.description,
                manifest: draft.manifest,
                files,
                sha256: sha,
                updated_by: by,
                updated_at: now,
                deleted_at: None,
                ..old.clone()
            };
            if !skills::replace(txn, &row, &old.sha256).await? {
                return Err(Error::failed_precondition(format!(
                    "skill {} was changed concurrently; reload and retry",
                    row.slug
                ))
                .with_reason("sha256_mismatch"));
            }
            Ok((status, row))
        }
    }
}

pub async fn retire(store: &Store, actor: &Actor, slug: &str) -> Result<Row> {
    check_slug(slug)?;
    let txn = store.begin_write().await?;
    let row = skills::get(&txn, slug)
        .await?
        .filter(|r| r.deleted_at.is_none())
        .ok_or_else(|| Error::not_found(format!("skill {slug} not found")))?;
    let now = now_ms();
    let by = actor.principal.audit_actor();
    if !skills::retire(&txn, &row.id, &by, now).await? {
        return Err(Error::not_found(format!("skill {slug} not found")));
    }
    audit::commit(txn, actor.event("skill.retire", format!("skill:{slug}"))).await?;
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

    const MD: &str = "---\nname: deploy\ndescription: Ship a release\n---\nSteps.\n";

    fn draft(files: Vec<SkillFile>) -> Draft {
        Draft {
            slug: "deploy".into(),
            manifest: MD.into(),
            files,
            ..Default::default()
        }
    }

    #[test]
    fn a_lone_skill_md_has_the_digest_of_its_text() {
        assert_eq!(digest(MD, &[]), sha256_hex(MD.as_bytes()));
        let f = |p: &str| SkillFile {
            path: p.into(),
            content: b"x".to_vec(),
            sha256: String::new(),
        };
        assert_eq!(
            digest(MD, &[f("a"), f("b/c")]),
            digest(MD, &[f("b/c"), f("a")])
        );
        assert_ne!(digest(MD, &[f("a")]), digest(MD, &[]));
    }

    #[test]
    fn manifests_and_paths_are_checked() {
        let d = draft(vec![]).checked().unwrap();
        assert_eq!(
            (d.display_name.as_str(), d.description.as_str()),
            ("deploy", "Ship a release")
        );
        let no_meta = Draft {
            manifest: "Just text".into(),
            ..draft(vec![])
        };
        assert!(no_meta.checked().is_err());
        for bad in ["../x", "/etc/x", "a//b", "SKILL.md", ".env", "a\\b"] {
            let file = SkillFile {
                path: bad.into(),
                content: vec![],
                sha256: String::new(),
            };
            assert!(draft(vec![file]).checked().is_err(), "{bad}");
        }
        assert!(
            check_slug("deploy.md").is_ok(),
            "the peer's single-file skills keep their names"
        );
    }
}
