//! Upstream providers of the OpenAI-compatible gateway: name, kind, base URL, wire API, models,
//! an encrypted shared key, and routing a requested model (or a user's runtime override) to
//! provider + upstream model.

use std::sync::Arc;

use codex_central_common::crypto::Keyring;
use codex_central_common::ttl_cache::TtlCache;
use codex_central_store::audit::{self, Actor};
use codex_central_store::entities::runtime_overrides::Model as OverrideRow;
use codex_central_store::entities::upstream_providers::Model as Row;
use codex_central_store::{Store, now_ms, settings, upstreams};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OpenAi,
    Mimo,
    DeepSeek,
    OpenAiCompatible,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OpenAi => "openai",
            Kind::Mimo => "mimo",
            Kind::DeepSeek => "deepseek",
            Kind::OpenAiCompatible => "openai-compatible",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "openai" => Kind::OpenAi,
            "mimo" => Kind::Mimo,
            "deepseek" => Kind::DeepSeek,
            "openai-compatible" => Kind::OpenAiCompatible,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireApi {
    Responses,
    Chat,
}

impl WireApi {
    pub fn as_str(self) -> &'static str {
        match self {
            WireApi::Responses => "responses",
            WireApi::Chat => "chat",
        }
    }

    pub fn parse(s: &str) -> Option<WireApi> {
        match s {
            "responses" => Some(WireApi::Responses),
            "chat" => Some(WireApi::Chat),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// The name clients request (unique across providers).
    pub id: String,
    /// The name sent upstream.
    pub upstream: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub context_window: Option<u32>,
    #[serde(default)]
    pub reasoning: bool,
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub id: String,
    pub kind: Kind,
    pub base_url: String,
    pub wire_api: WireApi,
    pub models: Vec<Model>,
    pub enabled: bool,
    pub preset: bool,
    /// Last four characters of the shared key, when one is stored.
    pub key_suffix: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an admin sends to create or edit a provider.
#[derive(Debug, Clone)]
pub struct ProviderInput {
    pub id: String,
    pub kind: String,
    pub base_url: String,
    pub wire_api: String,
    pub models: Vec<Model>,
    pub enabled: Option<bool>,
}

/// How a shared key changes on edit.
pub enum KeyChange {
    Keep,
    Set(String),
    Clear,
}

/// Where a `/v1` call goes.
#[derive(Debug, Clone)]
pub struct Route {
    pub provider: Provider,
    pub model: Model,
    /// Decrypted; `None` when the provider has no (usable) shared key.
    pub shared_key: Option<String>,
    pub override_applied: bool,
}

pub const MAX_PROVIDERS: usize = 100;
pub const MAX_MODELS: usize = 200;

fn key_setting(id: &str) -> String {
    format!("upstream.{id}.key")
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::invalid(field.to_string(), message.into())
}

/// Names used in URLs and as model ids: short, no spaces or slashes except within model ids.
fn check_name(field: &str, value: &str, allow_slash: bool) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') || (allow_slash && c == '/')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("{field} must be 1-64 characters of letters, digits, '.', '-' or '_'"),
        ))
    }
}

fn check_input(input: &ProviderInput) -> Result<(Kind, WireApi, String)> {
    check_name("name", &input.id, false)?;
    let kind = Kind::parse(&input.kind).ok_or_else(|| {
        invalid(
            "kind",
            "kind must be openai, mimo, deepseek or openai-compatible",
        )
    })?;
    let wire = WireApi::parse(&input.wire_api)
        .ok_or_else(|| invalid("wire_api", "wire_api must be responses or chat"))?;
    let base = input.base_url.trim().trim_end_matches('/').to_string();
    let parsed = url_ok(&base);
    if !parsed {
        return Err(invalid(
            "base_url",
            "base_url must be an http(s) URL such as https://api.example.com/v1",
        ));
    }
    if input.models.len() > MAX_MODELS {
        return Err(invalid(
            "models",
            format!("at most {MAX_MODELS} models per provider"),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, m) in input.models.iter().enumerate() {
        check_name(&format!("models.{i}.name"), &m.id, true)?;
        if !m.upstream.is_empty()
            && (m.upstream.len() > 191 || m.upstream.chars().any(char::is_control))
        {
            return Err(invalid(
                &format!("models.{i}.upstream"),
                "upstream must be at most 191 printable characters",
            ));
        }
        if !seen.insert(m.id.as_str()) {
            return Err(invalid(
                &format!("models.{i}.name"),
                format!("model {} is listed twice", m.id),
            ));
        }
    }
    Ok((kind, wire, base))
}

fn url_ok(base: &str) -> bool {
    let rest = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && base.len() <= 512
            && !r.starts_with('/')
            && r.chars().all(|c| c.is_ascii_graphic())
            && !r.contains(['?', '#', '@'])
    })
}

/// Every provider with its decrypted shared key, as read at one moment.
struct Snapshot {
    providers: Vec<Provider>,
    /// Provider id -> shared key (absent or undecryptable: `None`).
    keys: std::collections::HashMap<String, Option<String>>,
}

/// Routing reads providers at most this often per process (changes through this process apply
/// at once; other replicas see them within this bound).
const SNAPSHOT_TTL: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Clone)]
pub struct Providers {
    store: Store,
    keyring: Arc<Keyring>,
    snapshot: TtlCache<(), Arc<Snapshot>>,
    /// User id -> runtime override, for routing (same bound as the snapshot).
    overrides: TtlCache<String, Option<OverrideRow>>,
}

impl Providers {
    pub fn new(store: Store, keyring: Arc<Keyring>) -> Self {
        Providers {
            store,
            keyring,
            snapshot: TtlCache::new(SNAPSHOT_TTL, 1),
            overrides: TtlCache::new(SNAPSHOT_TTL, 100_000),
        }
    }
    /// The master keys (shared with the other secrets of the config service).
    pub fn keyring(&self) -> Arc<Keyring> {
        self.keyring.clone()
    }

    fn invalidate(&self) {
        self.snapshot.clear();
    }

    async fn snapshot(&self) -> Result<Arc<Snapshot>> {
        if let Some(snap) = self.snapshot.get(&()) {
            return Ok(snap);
        }
        let providers = self.list().await?;
        let mut keys = std::collections::HashMap::new();
        for p in &providers {
            keys.insert(p.id.clone(), self.shared_key(&p.id).await?);
        }
        let snap = Arc::new(Snapshot { providers, keys });
        self.snapshot.insert((), snap.clone());
        Ok(snap)
    }

    async fn provider_of(&self, row: Row) -> Result<Provider> {
        let models: Vec<Model> = serde_json::from_str(&row.models).map_err(|e| {
            Error::from(codex_central_store::Error::Corrupt(format!(
                "provider {}: {e}",
                row.id
            )))
        })?;
        let key_suffix = match settings::get(&self.store, &key_setting(&row.id)).await? {
            Some(s) => Some(match self.keyring.decrypt_string(&s.value) {
                Ok(key) => {
                    let tail: String = key.chars().rev().take(4).collect();
                    tail.chars().rev().collect()
                }
                // Stored but unreadable (e.g. encrypted with a dropped master key).
                Err(_) => "????".into(),
            }),
            None => None,
        };
        Ok(Provider {
            kind: Kind::parse(&row.kind).unwrap_or(Kind::OpenAiCompatible),
            wire_api: WireApi::parse(&row.wire_api).unwrap_or(WireApi::Chat),
            id: row.id,
            base_url: row.base_url,
            models,
            enabled: row.enabled,
            preset: row.preset,
            key_suffix,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }

    pub async fn list(&self) -> Result<Vec<Provider>> {
        let mut out = Vec::new();
        for row in upstreams::list(&self.store).await? {
            out.push(self.provider_of(row).await?);
        }
        Ok(out)
    }

    pub async fn get(&self, id: &str) -> Result<Provider> {
        let row = upstreams::get(&self.store, id)
            .await?
            .ok_or_else(|| Error::not_found(format!("no provider named {id:?}")))?;
        self.provider_of(row).await
    }

    /// Model ids must be unique across providers: `None` when `models` collide with none.
    async fn colliding_model(&self, id: &str, models: &[Model]) -> Result<Option<String>> {
        for other in self.list().await? {
            if other.id == id {
                continue;
            }
            if let Some(m) = models
                .iter()
                .find(|m| other.models.iter().any(|o| o.id == m.id))
            {
                return Ok(Some(format!(
                    "model {} is already offered by provider {}",
                    m.id, other.id
                )));
            }
        }
        Ok(None)
    }

    fn normalized(models: Vec<Model>) -> Vec<Model> {
        models
            .into_iter()
            .map(|mut m| {
                if m.upstream.is_empty() {
                    m.upstream = m.id.clone();
                }
                m
            })
            .collect()
    }

    pub async fn create(
        &self,
        actor: &Actor,
        input: ProviderInput,
        key: Option<String>,
    ) -> Result<Provider> {
        let (kind, wire, base) = check_input(&input)?;
        if upstreams::list(&self.store).await?.len() >= MAX_PROVIDERS {
            return Err(invalid(
                "name",
                format!("at most {MAX_PROVIDERS} providers"),
            ));
        }
        let models = Self::normalized(input.models);
        if let Some(msg) = self.colliding_model(&input.id, &models).await? {
            return Err(invalid("models", msg));
        }
        let key = key
            .filter(|k| !k.trim().is_empty())
            .map(|k| self.sealed_key(k.trim()))
            .transpose()?;
        let now = now_ms();
        let txn = self.store.begin().await?;
        upstreams::insert(
            &txn,
            Row {
                id: input.id.clone(),
                kind: kind.as_str().into(),
                base_url: base,
                wire_api: wire.as_str().into(),
                models: serde_json::to_string(&models).unwrap_or_else(|_| "[]".into()),
                enabled: input.enabled.unwrap_or(true),
                preset: false,
                created_at: now,
                updated_at: now,
            },
        )
        .await?;
        if let Some(sealed) = key {
            let by = actor.principal.audit_actor();
            settings::put(&txn, &key_setting(&input.id), sealed, true, &by).await?;
        }
        audit::commit(txn, actor.event("upstream.create", input.id.as_str())).await?;
        self.invalidate();
        self.get(&input.id).await
    }

    /// A shared key checked and encrypted for storage.
    fn sealed_key(&self, key: &str) -> Result<String> {
        if key.len() > 4096 || key.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid(
                "api_key",
                "api_key must be one line without spaces",
            ));
        }
        Ok(self.keyring.encrypt_str(key)?)
    }

    /// Replaces a provider's settings. A preset gets enabled when its first key arrives, unless
    /// the edit says otherwise.
    pub async fn update(
        &self,
        actor: &Actor,
        input: ProviderInput,
        key: KeyChange,
    ) -> Result<Provider> {
        let (kind, wire, base) = check_input(&input)?;
        let current = upstreams::get(&self.store, &input.id)
            .await?
            .ok_or_else(|| Error::not_found(format!("no provider named {:?}", input.id)))?;
        let models = Self::normalized(input.models);
        if let Some(msg) = self.colliding_model(&input.id, &models).await? {
            return Err(invalid("models", msg));
        }
        let had_key = settings::get(&self.store, &key_setting(&input.id))
            .await?
            .is_some();
        let sealed = match &key {
            KeyChange::Set(k) => Some(self.sealed_key(k.trim())?),
            KeyChange::Keep | KeyChange::Clear => None,
        };
        let txn = self.store.begin().await?;
        if let Some(enc) = sealed {
            let by = actor.principal.audit_actor();
            settings::put(&txn, &key_setting(&input.id), enc, true, &by).await?;
        } else if matches!(key, KeyChange::Clear) {
            settings::delete(&txn, &key_setting(&input.id)).await?;
        }
        let first_key = !had_key && matches!(key, KeyChange::Set(_));
        let enabled = input
            .enabled
            .unwrap_or(current.enabled || (current.preset && first_key));
        upstreams::update(
            &txn,
            Row {
                id: current.id,
                kind: kind.as_str().into(),
                base_url: base,
                wire_api: wire.as_str().into(),
                models: serde_json::to_string(&models).unwrap_or_else(|_| "[]".into()),
                enabled,
                preset: current.preset,
                created_at: current.created_at,
                updated_at: now_ms(),
            },
        )
        .await?;
        audit::commit(txn, actor.event("upstream.update", input.id.as_str())).await?;
        self.invalidate();
        self.get(&input.id).await
    }

    pub async fn delete(&self, actor: &Actor, id: &str) -> Result<()> {
        let txn = self.store.begin().await?;
        if !upstreams::delete(&txn, id).await? {
            return Err(Error::not_found(format!("no provider named {id:?}")));
        }
        settings::delete(&txn, &key_setting(id)).await?;
        audit::commit(txn, actor.event("upstream.delete", id)).await?;
        self.invalidate();
        Ok(())
    }

    /// The shared key, decrypted; `None` when absent or undecryptable.
    async fn shared_key(&self, id: &str) -> Result<Option<String>> {
        Ok(settings::get(&self.store, &key_setting(id))
            .await?
            .and_then(|s| self.keyring.decrypt_string(&s.value).ok()))
    }

    /// Enabled models of enabled providers, as `(provider, model)`.
    pub async fn available(&self) -> Result<Vec<(Provider, Model)>> {
        let snap = self.snapshot().await?;
        let mut out = Vec::new();
        for p in snap.providers.iter().filter(|p| p.enabled) {
            for m in p.models.iter().filter(|m| m.enabled) {
                out.push((p.clone(), m.clone()));
            }
        }
        Ok(out)
    }

    /// Provider and upstream model for a `/v1` call: the user's runtime override wins when set
    /// (and still names an enabled provider and model), else the requested model.
    pub async fn resolve(&self, user_id: &str, requested: &str) -> Result<Route> {
        let snap = self.snapshot().await?;
        let pick = |provider: &str, model: &str| {
            snap.providers
                .iter()
                .filter(|p| p.enabled && (provider.is_empty() || p.id == provider))
                .find_map(|p| {
                    p.models
                        .iter()
                        .find(|m| m.enabled && m.id == model)
                        .map(|m| (p.clone(), m.clone()))
                })
        };
        let mut override_applied = false;
        let mut chosen = None;
        if !user_id.is_empty()
            && let Some(o) = self.cached_override(user_id).await?
        {
            chosen = pick(&o.provider_id, &o.model);
            override_applied = chosen.is_some();
        }
        let (provider, model) = match chosen.or_else(|| pick("", requested)) {
            Some(found) => found,
            None => {
                return Err(Error::not_found(format!(
                    "The model `{requested}` does not exist or you do not have access to it."
                )));
            }
        };
        let shared_key = snap.keys.get(&provider.id).cloned().flatten();
        Ok(Route {
            provider,
            model,
            shared_key,
            override_applied,
        })
    }

    async fn cached_override(&self, user_id: &str) -> Result<Option<OverrideRow>> {
        if let Some(found) = self.overrides.get(user_id) {
            return Ok(found);
        }
        let found = upstreams::get_override(&self.store, user_id).await?;
        self.overrides.insert(user_id.to_string(), found.clone());
        Ok(found)
    }

    pub async fn get_override(&self, user_id: &str) -> Result<Option<OverrideRow>> {
        Ok(upstreams::get_override(&self.store, user_id).await?)
    }

    /// Sets a user's override; the provider and model must exist and be enabled.
    pub async fn set_override(
        &self,
        actor: &Actor,
        user_id: &str,
        provider: &str,
        model: &str,
    ) -> Result<OverrideRow> {
        let available = self.available().await?;
        if !available.iter().any(|(p, _)| p.id == provider) {
            return Err(invalid(
                "provider",
                format!("no enabled provider named {provider:?}"),
            ));
        }
        if !available
            .iter()
            .any(|(p, m)| p.id == provider && m.id == model)
        {
            return Err(invalid(
                "model",
                format!("provider {provider} offers no enabled model {model:?}"),
            ));
        }
        let row = OverrideRow {
            user_id: user_id.to_string(),
            provider_id: provider.to_string(),
            model: model.to_string(),
            set_at: now_ms(),
        };
        let txn = self.store.begin().await?;
        upstreams::set_override(&txn, row.clone()).await?;
        let event = actor.event("runtime_override.set", format!("user:{user_id}"));
        audit::commit(txn, event).await?;
        self.overrides.remove(user_id);
        Ok(row)
    }

    pub async fn clear_override(&self, actor: &Actor, user_id: &str) -> Result<()> {
        let txn = self.store.begin().await?;
        upstreams::clear_override(&txn, user_id).await?;
        let event = actor.event("runtime_override.clear", format!("user:{user_id}"));
        audit::commit(txn, event).await?;
        self.overrides.remove(user_id);
        Ok(())
    }

    /// Seeds the named kinds once per installation (disabled until a key is set); an admin who
    /// deletes a preset does not get it back.
    pub async fn seed_presets(&self) -> Result<()> {
        const MARKER: &str = "upstream.presets_seeded";
        if !settings::compare_and_put(self.store.db(), MARKER, None, "true".into(), "system")
            .await?
        {
            return Ok(());
        }
        let model = |id: &str, reasoning: bool| Model {
            id: id.into(),
            upstream: id.into(),
            display_name: String::new(),
            enabled: true,
            context_window: None,
            reasoning,
            max_output_tokens: None,
        };
        let presets = [
            (
                "openai",
                Kind::OpenAi,
                "https://api.openai.com/v1",
                WireApi::Responses,
                vec![
                    model("gpt-5", true),
                    model("gpt-5-codex", true),
                    model("gpt-5-mini", true),
                ],
            ),
            (
                "deepseek",
                Kind::DeepSeek,
                "https://api.deepseek.com/v1",
                WireApi::Chat,
                vec![
                    model("deepseek-chat", false),
                    model("deepseek-reasoner", true),
                ],
            ),
            (
                "mimo",
                Kind::Mimo,
                "https://api.xiaomimimo.com/v1",
                WireApi::Chat,
                vec![model("mimo-v2-flash", true)],
            ),
        ];
        let now = now_ms();
        for (id, kind, base, wire, models) in presets {
            if upstreams::get(&self.store, id).await?.is_some() {
                continue;
            }
            let row = Row {
                id: id.into(),
                kind: kind.as_str().into(),
                base_url: base.into(),
                wire_api: wire.as_str().into(),
                models: serde_json::to_string(&models).unwrap_or_else(|_| "[]".into()),
                enabled: false,
                preset: true,
                created_at: now,
                updated_at: now,
            };
            // Another replica seeding at the same moment is fine.
            match upstreams::insert(self.store.db(), row).await {
                Ok(()) | Err(codex_central_store::Error::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}
