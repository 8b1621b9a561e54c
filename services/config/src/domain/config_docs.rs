//! The fleet's `config.toml` over time: every saved version of the template and its profiles
//! (history, diff, restore, optimistic lock), and the per-host overrides baked on top.

use codex_central_store::audit::{self, Actor};
use codex_central_store::entities::config_documents::Model as Row;
use codex_central_store::entities::host_config_overrides::Model as OverrideRow;
use codex_central_store::{Store, Transaction, config_documents, host_config_overrides, now_ms};

use super::codex_toml::model::{ConfigModel, Profile, Template};
use super::codex_toml::requirements::render_requirements;
use super::codex_toml::{check, render_base, render_config, render_profile};
use super::content::{WriteStatus, check_expected, check_text, sha256_hex};
use crate::{Error, Result};

/// The `config_documents` kind of the config.toml template.
pub const KIND: &str = "config";

/// Most versions one history page lists.
pub const MAX_PAGE: u64 = 200;

/// A stored version with its parsed model.
#[derive(Debug, Clone)]
pub struct Version {
    pub row: Row,
    pub model: ConfigModel,
}

impl Version {
    fn parse(row: Row) -> Result<Version> {
        let model = serde_json::from_str(&row.model).map_err(|e| {
            Error::internal(format!("config version {} is unreadable: {e}", row.version))
        })?;
        Ok(Version { row, model })
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.model.profiles.iter().find(|p| p.name == name)
    }
}

pub async fn current(store: &Store) -> Result<Option<Version>> {
    config_documents::latest(store.db(), KIND)
        .await?
        .map(Version::parse)
        .transpose()
}

pub async fn version(store: &Store, version: i32) -> Result<Version> {
    let row = config_documents::get(store.db(), KIND, version)
        .await?
        .ok_or_else(|| Error::not_found(format!("config version {version} not found")))?;
    Version::parse(row)
}

/// Versions newest first without bodies.
pub async fn history(store: &Store, offset: u64, limit: u64) -> Result<Vec<Row>> {
    Ok(config_documents::list(store.db(), KIND, offset, limit.min(MAX_PAGE)).await?)
}

/// A file a version bakes to: `config.toml` or a profile's `<name>.config.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BakedFile {
    pub name: String,
    pub filename: String,
    pub sha256: String,
    pub content: String,
}

impl BakedFile {
    fn new(name: String, filename: String, content: String) -> Self {
        BakedFile {
            name,
            filename,
            sha256: sha256_hex(content.as_bytes()),
            content,
        }
    }
}

/// The profile files of a version, by name (they hold no host specifics).
pub fn profile_files(model: &ConfigModel) -> Result<Vec<BakedFile>> {
    let mut profiles: Vec<&Profile> = model.profiles.iter().collect();
    profiles.sort_by(|a, b| a.name.cmp(&b.name));
    profiles
        .into_iter()
        .map(|p| {
            Ok(BakedFile::new(
                p.name.clone(),
                p.filename(),
                render_profile(p)?,
            ))
        })
        .collect()
}

/// Every file a version bakes to, without host specifics: `config.toml`, then the profile
/// files by name.
pub fn files(model: &ConfigModel) -> Result<Vec<BakedFile>> {
    let base = render_config(&model.template, None, None)?;
    let mut out = vec![BakedFile::new(
        "config.toml".into(),
        "config.toml".into(),
        base,
    )];
    out.extend(profile_files(model)?);
    Ok(out)
}

/// A unified diff of every file between two versions (`from` → `to`).
pub fn diff(from: &Version, to: &Version) -> Result<String> {
    let a = files(&from.model)?;
    let b = files(&to.model)?;
    let mut names: Vec<&str> = a
        .iter()
        .chain(b.iter())
        .map(|f| f.filename.as_str())
        .collect();
    names.sort();
    names.dedup();
    let content = |files: &[BakedFile], name: &str| {
        files
            .iter()
            .find(|f| f.filename == name)
            .map_or(String::new(), |f| f.content.clone())
    };
    let mut out = String::new();
    for name in names {
        let (old, new) = (content(&a, name), content(&b, name));
        if old == new {
            continue;
        }
        let text = similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("v{}/{name}", from.row.version),
                &format!("v{}/{name}", to.row.version),
            )
            .to_string();
        out.push_str(&text);
    }
    Ok(out)
}

/// Refuses a document that a host's own block would no longer bake with (a key set twice),
/// naming the host: saving it would break that host's sync. `what` names the block.
pub(crate) async fn check_host_blocks<T>(
    txn: &Transaction,
    what: &str,
    bake: impl Fn(&OverrideRow) -> Result<T>,
) -> Result<()> {
    for o in host_config_overrides::all(txn).await? {
        if let Err(e) = bake(&o) {
            let why =
                e.0.fields()
                    .first()
                    .map_or_else(|| e.0.message().to_string(), |f| f.description.clone());
            return Err(Error::failed_precondition(format!(
                "host {}'s extra {what} block would no longer apply ({why}); change that first",
                o.host_id
            )));
        }
    }
    Ok(())
}

/// Appends `model` as the next version after `latest` (unless nothing changed) and audits it.
async fn commit(
    txn: Transaction,
    actor: &Actor,
    latest: Option<Row>,
    model: ConfigModel,
    note: &str,
    action: &str,
) -> Result<(WriteStatus, Version)> {
    let base = render_base(&model.template)?;
    check_host_blocks(&txn, "config", |o| {
        render_config(
            &model.template,
            Some(("host_override.extra_toml", &o.extra_toml)),
            None,
        )
    })
    .await?;
    if let Some(l) = latest.as_ref() {
        let old = Version::parse(l.clone())?;
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
            rendered: base,
            note,
            action,
        },
    )
    .await?;
    Ok((status, Version { row, model }))
}

/// What [`append_version`] stores.
pub(crate) struct NextVersion<'a, M> {
    pub kind: &'static str,
    pub latest: Option<&'a Row>,
    pub model: &'a M,
    pub rendered: String,
    pub note: &'a str,
    pub action: &'a str,
}

/// Appends the version after `latest` of a structured document and audits it in the same
/// transaction; `Created` for the first version.
pub(crate) async fn append_version<M: serde::Serialize>(
    txn: Transaction,
    actor: &Actor,
    v: NextVersion<'_, M>,
) -> Result<(WriteStatus, Row)> {
    let json = serde_json::to_string(v.model)
        .map_err(|e| Error::internal(format!("{} model: {e}", v.kind)))?;
    let sha = sha256_hex(v.rendered.as_bytes());
    let row = config_documents::append(
        &txn,
        Row {
            kind: v.kind.into(),
            version: v.latest.map_or(1, |r| r.version + 1),
            model: json,
            sha256: sha.clone(),
            size_bytes: i64::try_from(v.rendered.len()).unwrap_or(i64::MAX),
            rendered: v.rendered,
            note: v.note.to_string(),
            updated_by: actor.principal.audit_actor(),
            updated_at: now_ms(),
        },
    )
    .await?;
    let event = actor
        .event(v.action, format!("{}:{}", v.kind, row.version))
        .details(serde_json::json!({"sha256": sha, "note": v.note}));
    audit::commit(txn, event).await?;
    let status = if v.latest.is_some() {
        WriteStatus::Updated
    } else {
        WriteStatus::Created
    };
    Ok((status, row))
}

/// Saves the template (profiles stay as they are). `expected_sha256`, when set, must be the
/// current base file's digest.
pub async fn save_template(
    store: &Store,
    actor: &Actor,
    template: Template,
    expected_sha256: &str,
) -> Result<(WriteStatus, Version)> {
    // Refused before the write lock is taken (and before the lock check, as an invalid
    // template is wrong whatever the current version).
    render_base(&template)?;
    let (txn, latest, mut model) = open_latest(store).await?;
    check_expected(
        "config.toml",
        expected_sha256,
        latest.as_ref().map_or("", |r| r.sha256.as_str()),
    )?;
    model.template = template;
    commit(txn, actor, latest, model, "", "config.template.save").await
}

/// Brings back version `from` as a new version.
pub async fn restore(
    store: &Store,
    actor: &Actor,
    from: i32,
    expected_sha256: &str,
) -> Result<Version> {
    let old = version(store, from).await?;
    let txn = store.begin_write().await?;
    let latest = config_documents::latest(&txn, KIND).await?;
    check_expected(
        "config.toml",
        expected_sha256,
        latest.as_ref().map_or("", |r| r.sha256.as_str()),
    )?;
    let note = format!("restored from version {from}");
    let (_, v) = commit(txn, actor, latest, old.model, &note, "config.restore").await?;
    Ok(v)
}

/// Applies `change` to the current profiles in one write transaction.
async fn change_profiles<T>(
    store: &Store,
    actor: &Actor,
    action: &str,
    change: impl FnOnce(&mut Vec<Profile>) -> Result<T>,
) -> Result<T> {
    let (txn, latest, mut model) = open_latest(store).await?;
    let out = change(&mut model.profiles)?;
    commit(txn, actor, latest, model, "", action).await?;
    Ok(out)
}

/// A write transaction and, read in it, the current version and its model.
async fn open_latest(store: &Store) -> Result<(Transaction, Option<Row>, ConfigModel)> {
    let txn = store.begin_write().await?;
    let latest = config_documents::latest(&txn, KIND).await?;
    let model = match latest.clone() {
        Some(row) => Version::parse(row)?.model,
        None => ConfigModel::default(),
    };
    Ok((txn, latest, model))
}

pub async fn create_profile(store: &Store, actor: &Actor, mut p: Profile) -> Result<Profile> {
    render_profile(&p)?;
    change_profiles(store, actor, "config.profile.create", |profiles| {
        if profiles.iter().any(|x| x.name == p.name) {
            return Err(Error::already_exists(format!(
                "profile {} already exists",
                p.name
            )));
        }
        let now = now_ms();
        p.created_at = now;
        p.updated_at = now;
        profiles.push(p.clone());
        Ok(p)
    })
    .await
}

pub async fn update_profile(store: &Store, actor: &Actor, mut p: Profile) -> Result<Profile> {
    render_profile(&p)?;
    change_profiles(store, actor, "config.profile.update", |profiles| {
        let slot = profiles
            .iter_mut()
            .find(|x| x.name == p.name)
            .ok_or_else(|| Error::not_found(format!("profile {} not found", p.name)))?;
        p.created_at = slot.created_at;
        p.updated_at = if same_fields(slot, &p) {
            slot.updated_at
        } else {
            now_ms()
        };
        *slot = p.clone();
        Ok(p)
    })
    .await
}

fn same_fields(a: &Profile, b: &Profile) -> bool {
    Profile {
        created_at: 0,
        updated_at: 0,
        ..a.clone()
    } == Profile {
        created_at: 0,
        updated_at: 0,
        ..b.clone()
    }
}

/// Renames a profile; the host overrides and the fleet default that name it follow.
pub async fn rename_profile(
    store: &Store,
    actor: &Actor,
    name: &str,
    new_name: &str,
) -> Result<Profile> {
    check::check_profile_name("new_name", new_name)?;
    let (txn, latest, mut model) = open_latest(store).await?;
    if model.profiles.iter().any(|x| x.name == new_name) {
        return Err(Error::already_exists(format!(
            "profile {new_name} already exists"
        )));
    }
    let slot = model
        .profiles
        .iter_mut()
        .find(|x| x.name == name)
        .ok_or_else(|| Error::not_found(format!("profile {name} not found")))?;
    slot.name = new_name.to_string();
    slot.updated_at = now_ms();
    let renamed = slot.clone();
    // The defaults that name it follow in the same transaction.
    host_config_overrides::rename_profile(&txn, name, new_name).await?;
    let mut s = super::settings::get(store).await?;
    if s.default_profile == name {
        s.default_profile = new_name.to_string();
        codex_central_store::settings::put_json(
            &txn,
            super::settings::KEY,
            &s,
            &actor.principal.audit_actor(),
        )
        .await?;
    }
    commit(txn, actor, latest, model, "", "config.profile.rename").await?;
    Ok(renamed)
}

/// Deletes a profile; refused while a host override names it as its default.
pub async fn delete_profile(store: &Store, actor: &Actor, name: &str) -> Result<()> {
    if super::settings::get(store).await?.default_profile == name {
        return Err(Error::failed_precondition(format!(
            "profile {name} is the fleet's default profile; change that first"
        )));
    }
    let (txn, latest, mut model) = open_latest(store).await?;
    // Checked in the transaction that deletes it, not before it opens.
    if let Some(host) = host_config_overrides::first_with_profile(&txn, name).await? {
        return Err(Error::failed_precondition(format!(
            "profile {name} is the default profile of host {host}; change that first"
        )));
    }
    let before = model.profiles.len();
    model.profiles.retain(|x| x.name != name);
    if model.profiles.len() == before {
        return Err(Error::not_found(format!("profile {name} not found")));
    }
    commit(txn, actor, latest, model, "", "config.profile.delete").await?;
    Ok(())
}

pub async fn host_override(store: &Store, host_id: i64) -> Result<Option<OverrideRow>> {
    Ok(host_config_overrides::get(store.db(), host_id).await?)
}

/// What an admin sets for one host.
pub struct HostOverride<'a> {
    pub extra_toml: &'a str,
    pub default_profile: &'a str,
    pub requirements_toml: &'a str,
}

/// Sets a host's extra blocks and default profile, checked against the current documents.
pub async fn set_host_override(
    store: &Store,
    actor: &Actor,
    host_id: i64,
    o: HostOverride<'_>,
) -> Result<OverrideRow> {
    let HostOverride {
        extra_toml,
        default_profile,
        requirements_toml,
    } = o;
    check_text("host_override.extra_toml", extra_toml)?;
    check_text("host_override.requirements_toml", requirements_toml)?;
    let requirements = super::requirements_docs::current(store)
        .await?
        .map(|v| v.model)
        .unwrap_or_default();
    render_requirements(
        &requirements,
        Some(("host_override.requirements_toml", requirements_toml)),
    )?;
    let current = current(store).await?;
    let template = current
        .as_ref()
        .map(|v| v.model.template.clone())
        .unwrap_or_default();
    render_config(
        &template,
        Some(("host_override.extra_toml", extra_toml)),
        None,
    )?;
    if !default_profile.is_empty()
        && current
            .as_ref()
            .and_then(|v| v.profile(default_profile))
            .is_none()
    {
        return Err(Error::invalid(
            "host_override.default_profile",
            format!("no profile is named {default_profile}"),
        ));
    }
    let txn = store.begin_write().await?;
    let row = host_config_overrides::put(
        &txn,
        OverrideRow {
            host_id,
            extra_toml: extra_toml.to_string(),
            default_profile: default_profile.to_string(),
            requirements_toml: requirements_toml.to_string(),
            updated_by: actor.principal.audit_actor(),
            updated_at: now_ms(),
        },
    )
    .await?;
    let event = actor
        .event("config.host_override.set", format!("host:{host_id}"))
        .details(serde_json::json!({
            "default_profile": default_profile,
            "extra_toml_bytes": extra_toml.len(),
            "requirements_toml_bytes": requirements_toml.len(),
        }));
    audit::commit(txn, event).await?;
    Ok(row)
}

pub async fn delete_host_override(store: &Store, actor: &Actor, host_id: i64) -> Result<bool> {
    let txn = store.begin_write().await?;
    if !host_config_overrides::delete(&txn, host_id).await? {
        return Ok(false);
    }
    audit::commit(
        txn,
        actor.event("config.host_override.delete", format!("host:{host_id}")),
    )
    .await?;
    Ok(true)
}
