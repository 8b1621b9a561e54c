//! Memories (SPEC §8): validation and normalisation of what is stored, owners, and the calls the
//! RPCs and MCP tools share. Errors name the failing field.

use codex_central_common::{Principal, PrincipalKind};
use codex_central_store::entities::memories::Model;
use codex_central_store::memories::{self, Hit, NewMemory, Search, Written};
use codex_central_store::{Store, now_ms};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::settings;
use crate::{Error, Result};

pub const MAX_KEY_CHARS: usize = 128;
pub const MAX_TAGS: usize = 32;
pub const MAX_TAG_CHARS: usize = 64;
pub const MAX_TITLE_CHARS: usize = 512;
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// Whose memories: a host's, a person's, or the fleet's (shared, id empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub kind: &'static str,
    pub id: String,
}

impl Owner {
    pub const FLEET: &str = "fleet";

    pub fn fleet() -> Self {
        Owner {
            kind: Self::FLEET,
            id: String::new(),
        }
    }

    /// The caller's own scope: hosts and people have one; service tokens and the local admin
    /// do not (they write fleet-shared memories).
    pub fn of(p: &Principal) -> Result<Self> {
        match p.kind {
            PrincipalKind::Host => Ok(Owner {
                kind: "host",
                id: p.id.clone(),
            }),
            PrincipalKind::User => Ok(Owner {
                kind: "user",
                id: p.id.clone(),
            }),
            PrincipalKind::ServiceToken | PrincipalKind::LocalAdmin => Err(Error::invalid(
                "shared",
                "this credential has no memories of its own; store with shared = true",
            )),
        }
    }

    fn pair(&self) -> (String, String) {
        (self.kind.to_string(), self.id.clone())
    }
}

/// `[A-Za-z0-9._:-]{1,128}`.
pub fn check_key(field: &str, key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.chars().count() <= MAX_KEY_CHARS
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "must be 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'",
        ))
    }
}

/// Tags trimmed, lowercased, inner whitespace made `-`, empty and repeated ones dropped; at
/// most 32 of at most 64 characters, no control characters.
pub fn normalise_tags(tags: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        let tag = tag
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase();
        if tag.is_empty() || out.contains(&tag) {
            continue;
        }
        if tag.chars().any(char::is_control) {
            return Err(Error::invalid(
                format!("tags.{i}"),
                "must not contain control characters",
            ));
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(Error::invalid(
                format!("tags.{i}"),
                format!("must be at most {MAX_TAG_CHARS} characters"),
            ));
        }
        out.push(tag);
    }
    if out.len() > MAX_TAGS {
        return Err(Error::invalid("tags", format!("at most {MAX_TAGS} tags")));
    }
    Ok(out)
}

/// A JSON object as compact text (`{}` when empty).
fn metadata(text: &str) -> Result<String> {
    if text.trim().is_empty() {
        return Ok("{}".into());
    }
    if text.len() > MAX_METADATA_BYTES {
        return Err(Error::invalid(
            "metadata_json",
            format!("must be at most {MAX_METADATA_BYTES} bytes"),
        ));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v.to_string()),
        Ok(_) => Err(Error::invalid("metadata_json", "must be a JSON object")),
        Err(e) => Err(Error::invalid(
            "metadata_json",
            format!("is not valid JSON: {e}"),
        )),
    }
}

/// What a store writes.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub key: String,
    pub title: String,
    pub content: String,
    pub tags: Vec<String>,
    pub metadata_json: String,
    pub resource_id: String,
    /// The request field that carried the content (`content`, or `text` for appends).
    pub content_field: &'static str,
}

pub async fn store(store_: &Store, owner: &Owner, d: Draft) -> Result<(Written, Model)> {
    let key = if d.key.is_empty() {
        uuid::Uuid::now_v7().to_string()
    } else {
        check_key("id", &d.key)?;
        d.key
    };
    let limits = settings::get(store_).await?;
    let content_field = if d.content_field.is_empty() {
        "content"
    } else {
        d.content_field
    };
    if d.content.is_empty() {
        return Err(Error::invalid(content_field, "is required"));
    }
    if d.content.len() > limits.max_content_bytes as usize {
        return Err(Error::invalid(
            content_field,
            format!("must be at most {} bytes", limits.max_content_bytes),
        ));
    }
    if d.title.chars().count() > MAX_TITLE_CHARS {
        return Err(Error::invalid(
            "title",
            format!("must be at most {MAX_TITLE_CHARS} characters"),
        ));
    }
    if d.content.contains('\0') {
        return Err(Error::invalid(
            content_field,
            "must not contain NUL characters",
        ));
    }
    if d.title.contains('\0') {
        return Err(Error::invalid("title", "must not contain NUL characters"));
    }
    let tags = normalise_tags(&d.tags)?;
    let metadata_json = metadata(&d.metadata_json)?;
    let mut sha = Sha256::new();
    for part in [
        &d.title,
        &d.content,
        &tags.join("\n"),
        &metadata_json,
        &d.resource_id,
    ] {
        sha.update(part.as_bytes());
        sha.update([0]);
    }
    let written = memories::put(
        store_,
        NewMemory {
            record_id: uuid::Uuid::now_v7().to_string(),
            owner_kind: owner.kind.into(),
            owner_id: owner.id.clone(),
            key,
            title: d.title,
            content: d.content,
            tags,
            metadata_json,
            resource_id: d.resource_id,
            content_sha: hex::encode(sha.finalize()),
            now: now_ms(),
        },
    )
    .await?;
    Ok(written)
}

/// Whose memories a read covers: the caller's own plus the fleet's, or (admins) one owner or
/// everyone.
#[derive(Debug, Clone)]
pub enum Scope {
    OwnAndFleet(Owner),
    Only(Owner),
    Everyone,
}

impl Scope {
    fn owners(&self) -> Vec<(String, String)> {
        match self {
            Scope::OwnAndFleet(o) => vec![o.pair(), Owner::fleet().pair()],
            Scope::Only(o) => vec![o.pair()],
            Scope::Everyone => vec![],
        }
    }
}

pub async fn search(
    store_: &Store,
    scope: &Scope,
    query: &str,
    tags: &[String],
    resource_id: Option<String>,
    limit: u64,
) -> Result<Vec<Hit>> {
    let tags = normalise_tags(tags)?;
    Ok(memories::search(
        store_,
        &Search {
            query: query.chars().take(1000).collect(),
            owners: scope.owners(),
            tags,
            resource_id,
            before: None,
            limit,
        },
    )
    .await?)
}

/// A page of the most recent memories and the token of the next one.
pub async fn list(
    store_: &Store,
    scope: &Scope,
    tags: &[String],
    resource_id: Option<String>,
    page_size: u64,
    page_token: &str,
) -> Result<(Vec<Model>, String)> {
    let before = if page_token.is_empty() {
        None
    } else {
        let parsed = page_token
            .split_once('~')
            .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())));
        Some(parsed.ok_or_else(|| Error::invalid("page.page_token", "is not a page token"))?)
    };
    let limit = page_size.clamp(1, 100);
    let hits = memories::search(
        store_,
        &Search {
            query: String::new(),
            owners: scope.owners(),
            tags: normalise_tags(tags)?,
            resource_id,
            before,
            limit: limit + 1,
        },
    )
    .await?;
    let mut rows: Vec<Model> = hits.into_iter().map(|h| h.memory).collect();
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|m| format!("{}~{}", m.updated_at, m.record_id))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok((rows, next))
}
