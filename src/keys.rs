//! The master keyring at start-up (with a check that it matches the database) and
//! `codex-central keys rotate`.

use anyhow::{Context, bail};
use codex_central_common::crypto::{
    KeySource, Keyring, MasterKey, load_keyring, load_keyring_file, write_keyring_file,
};
use codex_central_common::{Principal, PrincipalKind, Role};
use codex_central_store::audit::{self, NewAuditEvent};
use codex_central_store::{Store, byok_keys, canonical_auth, oauth, settings};
use serde_json::json;

use crate::config::{Config, MasterKeyConfig};

/// A small known value encrypted under the master key, so a wrong key is detected at start-up
/// instead of on the first secret read.
pub const KEY_CHECK_SETTING: &str = "crypto.key_check";
const KEY_CHECK_PLAINTEXT: &str = "codex-central master key check v1";

/// Loads the keyring and proves it can read this database. Creates the key file (and the check
/// value) on a fresh install.
pub async fn open_keyring(config: &Config, store: &Store) -> anyhow::Result<Keyring> {
    let check = settings::get(store, KEY_CHECK_SETTING).await?;
    if let (MasterKeyConfig::File { path, create: true }, Some(row)) = (&config.master_key, &check)
        && !path.exists()
    {
        bail!(
            "the master key file {} is missing, but this database holds secrets encrypted with master key id {}; restore the file or set CODEX_CENTRAL_MASTER_KEY",
            path.display(),
            stored_key_id(&row.value)
        );
    }
    let keyring = load(config)?;
    match check {
        Some(row) => {
            if keyring.decrypt(&row.value).is_err() {
                bail!(
                    "the configured master key (id {}) cannot decrypt this database's secrets (encrypted with key id {}); configure the key this database was created with",
                    keyring.current_key_id(),
                    stored_key_id(&row.value)
                );
            }
        }
        None => {
            let value = keyring.encrypt_str(KEY_CHECK_PLAINTEXT)?;
            settings::put(store.db(), KEY_CHECK_SETTING, value, true, "system").await?;
        }
    }
    Ok(keyring)
}

fn load(config: &Config) -> anyhow::Result<Keyring> {
    match &config.master_key {
        MasterKeyConfig::Inline { current, previous } => {
            let (keyring, _) = load_keyring(
                &config.data_dir,
                Some(current.expose().as_str()),
                previous.as_ref().map(|p| p.expose().as_str()),
            )?;
            Ok(keyring)
        }
        MasterKeyConfig::File { path, create: true } => {
            let dir = path.parent().unwrap_or(&config.data_dir);
            let (keyring, source) = load_keyring(dir, None, None)?;
            if let KeySource::Created(path) = source {
                tracing::warn!(
                    file = %path.display(),
                    "created a new master key file; back it up: without it the secrets in the database cannot be read"
                );
            }
            Ok(keyring)
        }
        MasterKeyConfig::File {
            path,
            create: false,
        } => Ok(load_keyring_file(path)
            .with_context(|| format!("master_key_file {}", path.display()))?),
    }
}

fn stored_key_id(stored: &str) -> &str {
    stored.split(':').nth(1).unwrap_or("?")
}

pub struct RotationReport {
    pub key_id: String,
    pub reencrypted: usize,
    pub dropped_previous: bool,
}

/// Re-encrypts every stored secret under the current key. With a key file, first makes a new
/// key current (the old one stays in the file, so values are readable at every step); with an
/// inline key, the operator has already set the new `master_key` and lists the old one in
/// `master_key_previous`. `drop_previous` forgets old keys once nothing needs them.
pub async fn rotate(
    config: &Config,
    store: &Store,
    drop_previous: bool,
) -> anyhow::Result<RotationReport> {
    let mut keyring = open_keyring(config, store).await?;
    if let MasterKeyConfig::File { path, .. } = &config.master_key {
        keyring = keyring.rotated(MasterKey::generate()?);
        write_keyring_file(path, &keyring)?;
    }
    let mut reencrypted = 0;
    for row in settings::list_encrypted(store).await? {
        if let Some(new) = keyring.reencrypt(&row.value)? {
            // A concurrent writer already replaced the value under the current key: keep theirs.
            if settings::swap_encrypted(store, &row.key, &row.value, new).await? {
                reencrypted += 1;
            }
        }
    }
    if let Some(row) = canonical_auth::get(store).await?
        && let Some(new) = keyring.reencrypt(&row.body_enc)?
        && canonical_auth::swap_body(store, &row.body_enc, new).await?
    {
        reencrypted += 1;
    }
    // People's own upstream keys. One that no longer decrypts is already shown as needing
    // re-entry; it cannot be re-encrypted and must not stop the rotation of the others.
    let mut unreadable = 0;
    for row in byok_keys::list_all(store).await? {
        match keyring.reencrypt(&row.ciphertext) {
            Ok(Some(new)) => {
                if byok_keys::swap_ciphertext(store, &row, new).await? {
                    reencrypted += 1;
                }
            }
            Ok(None) => {}
            Err(_) => unreadable += 1,
        }
    }
    if unreadable > 0 {
        eprintln!(
            "{unreadable} personal upstream keys could not be read and were left as they are (their owners must enter them again)"
        );
    }
    for row in oauth::list_providers(store).await? {
        if let Some(old) = &row.client_secret
            && let Some(new) = keyring.reencrypt(old)?
            && oauth::swap_client_secret(store, &row.id, old, new).await?
        {
            reencrypted += 1;
        }
    }
    let stale_byok = byok_keys::list_all(store)
        .await?
        .iter()
        .filter(|r| keyring.decrypt(&r.ciphertext).is_ok() && keyring.needs_rotation(&r.ciphertext))
        .count();
    let stale_oauth = oauth::list_providers(store)
        .await?
        .iter()
        .filter(|r| {
            r.client_secret
                .as_deref()
                .is_some_and(|c| keyring.needs_rotation(c))
        })
        .count();
    let remaining = stale_byok
        + stale_oauth
        + settings::list_encrypted(store)
            .await?
            .iter()
            .filter(|r| keyring.needs_rotation(&r.value))
            .count()
        + canonical_auth::get(store)
            .await?
            .filter(|r| keyring.needs_rotation(&r.body_enc))
            .map_or(0, |_| 1);
    if remaining > 0 {
        bail!("{remaining} secrets are still encrypted under an old key; run `keys rotate` again");
    }
    if drop_previous && let MasterKeyConfig::File { path, .. } = &config.master_key {
        keyring = Keyring::new(keyring.current().clone(), Vec::new());
        write_keyring_file(path, &keyring)?;
    }
    let actor = Principal {
        kind: PrincipalKind::LocalAdmin,
        id: "cli".into(),
        name: "codex-central keys rotate".into(),
        role: Role::Admin,
    };
    // Each secret was re-encrypted by its own compare-and-swap, so an interrupted rotation
    // resumes where it stopped, and the keyring file is no database row: this row records the
    // finished run rather than sharing a transaction with it.
    let target = format!("master_key:{}", keyring.current_key_id());
    let event = NewAuditEvent::new(&actor, "", "master_key.rotate", target)
        .details(json!({ "reencrypted": reencrypted, "dropped_previous": drop_previous }));
    audit::append(store.db(), event).await?;
    Ok(RotationReport {
        key_id: keyring.current_key_id(),
        reencrypted,
        dropped_previous: drop_previous,
    })
}
