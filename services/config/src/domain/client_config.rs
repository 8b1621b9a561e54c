//! Per-user Codex client config (seed 000, "Codex config import / export"): a bundle that
//! points a user's own Codex at this server's `/v1` (`auth.json`, `config.toml`, `apply.sh`,
//! `apply.ps1`, optionally one zip), imports of what a user already has (archive only,
//! `auth.json` encrypted), and a history: the first import kept forever as `initial`, plus the
//! newest [`KEEP`] apply, restore and import entries. Any entry can be bundled again.

use std::io::Write;
use std::sync::Arc;

use codex_central_common::crypto::Keyring;
use codex_central_store::audit::{self, Actor};
use codex_central_store::entities::client_config_entries::Model as Row;
use codex_central_store::{Store, client_config_entries as entries, now_ms};
use toml_edit::{DocumentMut, Item, Table, value};

use super::codex_toml::render::line_col;
use super::content::check_line;
use super::providers::Providers;
use crate::{Error, Result};

/// Non-initial entries kept per user.
pub const KEEP: u64 = 10;
/// What `auth.json` carries when no token was minted (auth mode off accepts anything).
pub const PLACEHOLDER_KEY: &str = "codex-central-placeholder";
/// The `[model_providers.*]` key of this server in exported configs.
pub const PROVIDER_KEY: &str = "codex-central";
const MAX_IMPORT_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Initial,
    Apply,
    Restore,
    Import,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Initial => entries::INITIAL,
            Kind::Apply => "apply",
            Kind::Restore => "restore",
            Kind::Import => "import",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Initial, Kind::Apply, Kind::Restore, Kind::Import]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// What an export writes now.
pub struct State {
    pub provider_id: String,
    pub model: String,
    pub base_url: String,
    pub config_toml: String,
    pub latest: Option<Row>,
}

pub struct Bundle {
    pub auth_json: String,
    pub config_toml: String,
    pub apply_sh: String,
    pub apply_ps1: String,
    pub zip: Option<Vec<u8>>,
}

pub struct ExportInput<'a> {
    /// Bundle this history entry again; empty: the current state.
    pub entry_id: &'a str,
    /// A token the caller just minted; empty: the placeholder.
    pub api_key: &'a str,
    pub zip: bool,
    pub provider_id: &'a str,
    pub model: &'a str,
}

pub struct ImportInput<'a> {
    pub auth_json: &'a str,
    pub config_toml: &'a str,
    pub provider_id: &'a str,
    pub model: &'a str,
    pub note: &'a str,
}

#[derive(Clone)]
pub struct ClientConfigs {
    store: Store,
    keyring: Arc<Keyring>,
    providers: Providers,
    base_url: Arc<str>,
}

impl ClientConfigs {
    pub fn new(
        store: Store,
        keyring: Arc<Keyring>,
        providers: Providers,
        public_url: &str,
    ) -> Self {
        ClientConfigs {
            store,
            keyring,
            providers,
            base_url: format!("{}/v1", public_url.trim_end_matches('/')).into(),
        }
    }

    /// The provider and model an export uses: the asked ones (a model the gateway serves), else
    /// the latest entry's if the gateway still serves it, else the first model it serves;
    /// `None` when there is none to pick.
    async fn pick(
        &self,
        latest: Option<&Row>,
        provider_id: &str,
        model: &str,
    ) -> Result<Option<(String, String)>> {
        let available = self.providers.available().await?;
        let model = if !model.trim().is_empty() {
            let asked = model.trim();
            if !available.iter().any(|(_, m)| m.id == asked) {
                return Err(Error::invalid(
                    "model",
                    format!("the gateway serves no model named {asked:?}"),
                ));
            }
            asked.to_string()
        } else if let Some(l) = latest.filter(|l| available.iter().any(|(_, m)| m.id == l.model)) {
            l.model.clone()
        } else {
            match available.first() {
                Some((_, m)) => m.id.clone(),
                None => return Ok(None),
            }
        };
        let provider = if !provider_id.trim().is_empty() {
            provider_id.trim().to_string()
        } else {
            available
                .iter()
                .find(|(_, m)| m.id == model)
                .map(|(p, _)| p.id.clone())
                .unwrap_or_default()
        };
        check_line("model", &model, 191)?;
        check_line("provider_id", &provider, 128)?;
        Ok(Some((provider, model)))
    }

    pub async fn state(&self, user_id: &str) -> Result<State> {
        let latest = self.history(user_id).await?.into_iter().next();
        let (provider_id, model) = self
            .pick(latest.as_ref(), "", "")
            .await?
            .unwrap_or_default();
        Ok(State {
            config_toml: if model.is_empty() {
                String::new()
            } else {
                self.config_toml(&model)
            },
            provider_id,
            model,
            base_url: self.base_url.to_string(),
            latest,
        })
    }

    /// `config.toml` pointing Codex at this server: the key comes from `auth.json`.
    pub fn config_toml(&self, model: &str) -> String {
        let mut doc = DocumentMut::new();
        doc.insert("model", value(model));
        doc.insert("model_provider", value(PROVIDER_KEY));
        let mut p = Table::new();
        p.insert("name", value("codex-central"));
        p.insert("base_url", value(self.base_url.as_ref()));
        p.insert("wire_api", value("responses"));
        p.insert("requires_openai_auth", value(true));
        let mut parent = Table::new();
        parent.set_implicit(true);
        parent.insert(PROVIDER_KEY, Item::Table(p));
        doc.insert("model_providers", Item::Table(parent));
        format!(
            "# Written by codex-central: Codex sends its requests to {}\n{doc}",
            self.base_url
        )
    }

    pub async fn export(
        &self,
        actor: &Actor,
        user_id: &str,
        input: ExportInput<'_>,
    ) -> Result<(Bundle, Row)> {
        // The entry keeps an imported auth.json (sealed), so that bundling it again restores it.
        let (kind, provider_id, model, config_toml, auth_json, sealed) =
            if input.entry_id.is_empty() {
                let latest = self.history(user_id).await?.into_iter().next();
                let (p, m) = self
                    .pick(latest.as_ref(), input.provider_id, input.model)
                    .await?
                    .ok_or_else(|| {
                        Error::failed_precondition(
                            "the gateway serves no model yet; add a provider with a model first",
                        )
                    })?;
                let toml = self.config_toml(&m);
                (
                    Kind::Apply,
                    p,
                    m,
                    toml,
                    api_key_auth(input.api_key),
                    String::new(),
                )
            } else {
                let entry = entries::get(self.store.db(), user_id, input.entry_id)
                    .await?
                    .ok_or_else(|| Error::not_found("no such history entry"))?;
                let auth = if entry.auth_json_enc.is_empty() {
                    api_key_auth(input.api_key)
                } else {
                    self.keyring.decrypt_string(&entry.auth_json_enc)?
                };
                (
                    Kind::Restore,
                    entry.provider_id,
                    entry.model,
                    entry.config_toml,
                    auth,
                    entry.auth_json_enc,
                )
            };
        let row = self
            .record(
                actor,
                user_id,
                kind,
                &provider_id,
                &model,
                "",
                &config_toml,
                &sealed,
            )
            .await?;
        let bundle = bundle(auth_json, config_toml, &self.base_url, input.zip)?;
        Ok((bundle, row))
    }

    /// Archives what a user has (their first import becomes `initial`).
    pub async fn import(
        &self,
        actor: &Actor,
        user_id: &str,
        input: ImportInput<'_>,
    ) -> Result<Row> {
        for (field, text) in [
            ("auth_json", input.auth_json),
            ("config_toml", input.config_toml),
        ] {
            if text.len() > MAX_IMPORT_BYTES {
                return Err(Error::invalid(
                    field,
                    format!("{field} is larger than {MAX_IMPORT_BYTES} bytes"),
                ));
            }
        }
        if !input.auth_json.trim().is_empty() {
            let doc: serde_json::Value = serde_json::from_str(input.auth_json)
                .map_err(|e| Error::invalid("auth_json", format!("auth_json is not JSON: {e}")))?;
            if !doc.is_object() {
                return Err(Error::invalid("auth_json", "auth.json is a JSON object"));
            }
        }
        if let Err(e) = input.config_toml.parse::<DocumentMut>() {
            let (line, column) = line_col(input.config_toml, e.span().map_or(0, |s| s.start));
            return Err(Error::invalid(
                "config_toml",
                format!("line {line}, column {column}: {}", e.message().trim()),
            ));
        }
        if input.config_toml.contains('\0') {
            return Err(Error::invalid(
                "config_toml",
                "config_toml contains a NUL byte",
            ));
        }
        check_line("provider_id", input.provider_id, 128)?;
        check_line("model", input.model, 191)?;
        check_line("note", input.note, 500)?;
        let sealed = if input.auth_json.trim().is_empty() {
            String::new()
        } else {
            self.keyring.encrypt_str(input.auth_json)?
        };
        let kind = if entries::has_initial(self.store.db(), user_id).await? {
            Kind::Import
        } else {
            Kind::Initial
        };
        self.record(
            actor,
            user_id,
            kind,
            input.provider_id.trim(),
            input.model.trim(),
            input.note.trim(),
            input.config_toml,
            &sealed,
        )
        .await
    }

    pub async fn history(&self, user_id: &str) -> Result<Vec<Row>> {
        Ok(entries::list(self.store.db(), user_id).await?)
    }

    #[allow(clippy::too_many_arguments)]
    async fn record(
        &self,
        actor: &Actor,
        user_id: &str,
        kind: Kind,
        provider_id: &str,
        model: &str,
        note: &str,
        config_toml: &str,
        auth_json_enc: &str,
    ) -> Result<Row> {
        let txn = self.store.begin_write().await?;
        let row = entries::insert(
            &txn,
            Row {
                id: uuid::Uuid::now_v7().to_string(),
                user_id: user_id.to_string(),
                kind: kind.as_str().into(),
                provider_id: provider_id.to_string(),
                model: model.to_string(),
                note: note.to_string(),
                config_toml: config_toml.to_string(),
                auth_json_enc: auth_json_enc.to_string(),
                created_at: now_ms(),
            },
        )
        .await?;
        entries::prune(&txn, user_id, KEEP).await?;
        let event = actor
            .event(
                &format!("client_config.{}", kind.as_str()),
                format!("user:{user_id}"),
            )
            .details(
                serde_json::json!({"entry": row.id, "provider_id": provider_id, "model": model}),
            );
        audit::commit(txn, event).await?;
        Ok(row)
    }
}

/// An `auth.json` holding an API key, which Codex sends to providers that set
/// `requires_openai_auth`.
fn api_key_auth(key: &str) -> String {
    let key = if key.is_empty() { PLACEHOLDER_KEY } else { key };
    let doc = serde_json::json!({ "OPENAI_API_KEY": key });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&doc).unwrap_or_default()
    )
}

fn bundle(
    auth_json: String,
    config_toml: String,
    base_url: &str,
    with_zip: bool,
) -> Result<Bundle> {
    let apply_sh = super::client_scripts::apply_sh(base_url);
    let apply_ps1 = super::client_scripts::apply_ps1(base_url);
    let zip = if with_zip {
        Some(zip_files(&[
            ("auth.json", auth_json.as_str(), 0o600),
            ("config.toml", config_toml.as_str(), 0o600),
            ("apply.sh", apply_sh.as_str(), 0o755),
            ("apply.ps1", apply_ps1.as_str(), 0o644),
        ])?)
    } else {
        None
    };
    Ok(Bundle {
        auth_json,
        config_toml,
        apply_sh,
        apply_ps1,
        zip,
    })
}

fn zip_files(files: &[(&str, &str, u32)]) -> Result<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body, mode) in files {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(*mode);
        w.start_file(*name, options)
            .map_err(|e| Error::internal(format!("zip: {e}")))?;
        w.write_all(body.as_bytes())
            .map_err(|e| Error::internal(format!("zip: {e}")))?;
    }
    Ok(w.finish()
        .map_err(|e| Error::internal(format!("zip: {e}")))?
        .into_inner())
}
