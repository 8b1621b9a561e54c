//! The sign-in providers admins configure: GitHub, Gitee and any OpenID Connect issuer. Client
//! secrets are sealed with the master key and never returned; editing with a blank secret keeps
//! the stored one.

use std::sync::Arc;

use codex_central_common::crypto::{Keyring, Secret};
use codex_central_store::audit::{self, NewAuditEvent};
use codex_central_store::entities::oauth_providers::Model;
use codex_central_store::{Store, now_ms, oauth};
use serde_json::json;

use crate::domain::service_tokens::Actor;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Github,
    Gitee,
    Oidc,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Github => "github",
            Kind::Gitee => "gitee",
            Kind::Oidc => "oidc",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "github" => Some(Kind::Github),
            "gitee" => Some(Kind::Gitee),
            "oidc" => Some(Kind::Oidc),
            _ => None,
        }
    }

    fn default_scopes(self) -> &'static [&'static str] {
        match self {
            Kind::Github => &["read:user", "user:email"],
            Kind::Gitee => &["user_info"],
            Kind::Oidc => &["openid", "email", "profile"],
        }
    }

    fn default_name(self) -> &'static str {
        match self {
            Kind::Github => "GitHub",
            Kind::Gitee => "Gitee",
            Kind::Oidc => "Single sign-on",
        }
    }
}

/// What an admin sends to create or edit a provider.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub id: String,
    pub kind: String,
    pub display_name: String,
    pub client_id: String,
    /// Blank on edit keeps the stored secret.
    pub client_secret: Option<Secret<String>>,
    pub issuer_url: String,
    pub scopes: Vec<String>,
    pub enabled: bool,
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::invalid(field, message)
}

fn check_id(id: &str) -> Result<String> {
    let id = id.trim().to_ascii_lowercase();
    let ok = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(id)
    } else {
        Err(invalid(
            "name",
            "name must be 1-64 characters of a-z, 0-9, '-' or '_' (it appears in the callback URL)",
        ))
    }
}

fn check_url(field: &str, raw: &str, required: bool) -> Result<String> {
    let raw = raw.trim().trim_end_matches('/');
    if raw.is_empty() {
        return if required {
            Err(invalid(
                field,
                format!("{field} is required for OpenID Connect"),
            ))
        } else {
            Ok(String::new())
        };
    }
    match url::Url::parse(raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(raw.into()),
        _ => Err(invalid(field, format!("{field} must be an http(s) URL"))),
    }
}

fn check_scopes(kind: Kind, scopes: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in scopes {
        let s = s.trim();
        if s.is_empty() {
            continue;
        }
        if s.len() > 128
            || s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"')
        {
            return Err(invalid(
                "scopes",
                "each scope is one word of printable characters",
            ));
        }
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        out = kind
            .default_scopes()
            .iter()
            .map(|s| s.to_string())
            .collect();
    }
    if kind == Kind::Oidc && !out.iter().any(|s| s == "openid") {
        out.insert(0, "openid".into());
    }
    Ok(out)
}

#[derive(Clone)]
pub struct Providers {
    store: Store,
    keyring: Arc<Keyring>,
    public_url: String,
}

impl Providers {
    pub fn new(store: Store, keyring: Arc<Keyring>, public_url: &str) -> Self {
        Providers {
            store,
            keyring,
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// The URL to register at the provider.
    pub fn callback_url(&self, id: &str) -> String {
        format!("{}/oauth/callback/{id}", self.public_url)
    }

    pub fn scopes(row: &Model) -> Vec<String> {
        serde_json::from_str(&row.scopes).unwrap_or_default()
    }

    pub fn kind(row: &Model) -> Result<Kind> {
        Kind::parse(&row.kind)
            .ok_or_else(|| Error::invalid_argument(format!("unknown provider kind {:?}", row.kind)))
    }

    pub fn secret(&self, row: &Model) -> Result<Option<Secret<String>>> {
        row.client_secret
            .as_deref()
            .map(|c| self.keyring.decrypt_string(c).map(Secret::new))
            .transpose()
            .map_err(Error::from)
    }

    pub async fn list(&self) -> Result<Vec<Model>> {
        Ok(oauth::list_providers(&self.store).await?)
    }

    pub async fn get(&self, id: &str) -> Result<Model> {
        Ok(oauth::get_provider(&self.store, id.trim()).await?)
    }

    fn event(actor: &Actor, action: &str, row: &Model) -> NewAuditEvent {
        actor
            .event(action, format!("oauth_provider:{}", row.id))
            .details(json!({"kind": row.kind, "client_id": row.client_id, "issuer_url": row.issuer_url, "enabled": row.enabled}))
    }

    fn sealed(&self, secret: Option<&Secret<String>>) -> Result<Option<String>> {
        match secret.map(|s| s.expose().trim()) {
            None | Some("") => Ok(None),
            Some(s) if s.len() > 1024 => Err(invalid("client_secret", "client_secret is too long")),
            Some(s) => Ok(Some(self.keyring.encrypt_str(s)?)),
        }
    }

    pub async fn create(&self, actor: &Actor, input: Input) -> Result<Model> {
        let id = check_id(&input.id)?;
        let kind = Kind::parse(input.kind.trim())
            .ok_or_else(|| invalid("kind", "kind must be github, gitee or oidc"))?;
        let client_id = input.client_id.trim().to_string();
        if client_id.is_empty() || client_id.len() > 255 {
            return Err(invalid(
                "client_id",
                "client_id is required (at most 255 characters)",
            ));
        }
        let client_secret = self.sealed(input.client_secret.as_ref())?;
        if client_secret.is_none() {
            return Err(invalid("client_secret", "client_secret is required"));
        }
        let now = now_ms();
        let display = input.display_name.trim();
        let row = Model {
            id,
            kind: kind.as_str().into(),
            display_name: if display.is_empty() {
                kind.default_name().into()
            } else {
                display.chars().take(128).collect()
            },
            client_id,
            client_secret,
            issuer_url: check_url("issuer_url", &input.issuer_url, kind == Kind::Oidc)?,
            scopes: serde_json::to_string(&check_scopes(kind, &input.scopes)?)
                .map_err(|e| Error::invalid_argument(e.to_string()))?,
            enabled: input.enabled,
            created_at: now,
            updated_at: now,
        };
        let txn = self.store.begin().await?;
        oauth::insert_provider(&txn, row.clone()).await?;
        audit::commit(txn, Self::event(actor, "oauth_provider.create", &row)).await?;
        Ok(row)
    }

    pub async fn update(&self, actor: &Actor, input: Input) -> Result<Model> {
        let mut row = self.get(&input.id).await?;
        let kind = Self::kind(&row)?;
        let client_id = input.client_id.trim();
        if !client_id.is_empty() {
            if client_id.len() > 255 {
                return Err(invalid("client_id", "client_id is at most 255 characters"));
            }
            row.client_id = client_id.into();
        }
        if let Some(sealed) = self.sealed(input.client_secret.as_ref())? {
            row.client_secret = Some(sealed);
        }
        let display = input.display_name.trim();
        if !display.is_empty() {
            row.display_name = display.chars().take(128).collect();
        }
        if !input.issuer_url.trim().is_empty() {
            row.issuer_url = check_url("issuer_url", &input.issuer_url, false)?;
        }
        if !input.scopes.is_empty() {
            row.scopes = serde_json::to_string(&check_scopes(kind, &input.scopes)?)
                .map_err(|e| Error::invalid_argument(e.to_string()))?;
        }
        row.enabled = input.enabled;
        row.updated_at = now_ms();
        let txn = self.store.begin().await?;
        oauth::update_provider(&txn, row.clone()).await?;
        audit::commit(txn, Self::event(actor, "oauth_provider.update", &row)).await?;
        Ok(row)
    }

    pub async fn delete(&self, actor: &Actor, id: &str) -> Result<()> {
        let row = self.get(id).await?;
        let txn = self.store.begin().await?;
        oauth::delete_provider(&txn, &row.id).await?;
        audit::commit(txn, Self::event(actor, "oauth_provider.delete", &row)).await?;
        Ok(())
    }

    /// Providers from the config file: created, or updated to match, at start.
    pub async fn apply_config(&self, inputs: Vec<Input>) -> Result<()> {
        let actor = Actor {
            principal: codex_central_common::Principal {
                kind: codex_central_common::PrincipalKind::LocalAdmin,
                id: "config".into(),
                name: "config file".into(),
                role: codex_central_common::Role::Admin,
            },
            client_ip: String::new(),
        };
        for input in inputs {
            let exists = oauth::get_provider(&self.store, input.id.trim())
                .await
                .is_ok();
            if exists {
                self.update(&actor, input).await?;
            } else {
                self.create(&actor, input).await?;
            }
        }
        Ok(())
    }
}
