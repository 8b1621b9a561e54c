//! The fleet's `requirements.toml` over time: every saved version kept, an optimistic lock on
//! save, restore. Stored beside the config template (kind `requirements`).

use codex_central_store::audit::Actor;
use codex_central_store::entities::config_documents::Model as Row;
use codex_central_store::{Store, config_documents};

use super::codex_toml::model::Requirements;
use super::codex_toml::requirements::render_requirements;
use super::config_docs::{MAX_PAGE, NextVersion, append_version, check_host_blocks};
use super::content::{WriteStatus, check_expected};
use crate::{Error, Result};

pub const KIND: &str = "requirements";

#[derive(Debug, Clone)]
pub struct Version {
    pub row: Row,
    pub model: Requirements,
}

impl Version {
    fn parse(row: Row) -> Result<Version> {
        let model = serde_json::from_str(&row.model).map_err(|e| {
            Error::internal(format!(
                "requirements version {} is unreadable: {e}",
                row.version
            ))
        })?;
        Ok(Version { row, model })
    }
}

pub async fn current(store: &Store) -> Result<Option<Version>> {
    config_documents::latest(store.db(), KIND)
        .await?
        .map(Version::parse)
        .transpose()
}

pub async fn history(store: &Store, offset: u64, limit: u64) -> Result<Vec<Row>> {
    Ok(config_documents::list(store.db(), KIND, offset, limit.min(MAX_PAGE)).await?)
}

/// Saves `model` as the next version unless it is what is current; `expected_sha256`, when
/// set, must be the current file's digest.
pub async fn save(
    store: &Store,
    actor: &Actor,
    model: Requirements,
    expected_sha256: &str,
    note: &str,
) -> Result<(WriteStatus, Version)> {
    let text = render_requirements(&model, None)?;
    let txn = store.begin_write().await?;
    let latest = config_documents::latest(&txn, KIND).await?;
    check_host_blocks(&txn, "requirements", |o| {
        render_requirements(
            &model,
            Some(("host_override.requirements_toml", &o.requirements_toml)),
        )
    })
    .await?;
    check_expected(
        "requirements.toml",
        expected_sha256,
        latest.as_ref().map_or("", |r| r.sha256.as_str()),
    )?;
    if let Some(l) = latest.clone() {
        let old = Version::parse(l)?;
        if old.model == model {
            return Ok((WriteStatus::Unchanged, old));
        }
    }
    let (status, row) = append_version(
        txn,
        actor,
        NextVersion {
            kind: KIND,
            latest: latest.as_ref(),
            model: &model,
            rendered: text,
            note,
            action: "config.requirements.save",
        },
    )
    .await?;
    Ok((status, Version { row, model }))
}

/// Brings back version `from` as a new version.
pub async fn restore(
    store: &Store,
    actor: &Actor,
    from: i32,
    expected_sha256: &str,
) -> Result<Version> {
    let row = config_documents::get(store.db(), KIND, from)
        .await?
        .ok_or_else(|| Error::not_found(format!("requirements version {from} not found")))?;
    let old = Version::parse(row)?;
    let note = format!("restored from version {from}");
    let (_, v) = save(store, actor, old.model, expected_sha256, &note).await?;
    Ok(v)
}
