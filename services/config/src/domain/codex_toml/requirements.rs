//! `requirements.toml`: rendered like `config.toml` (fields, then free blocks verbatim) and
//! checked against what Codex 0.169 parses. Codex refuses to start on a requirements file it
//! cannot parse, and ignores keys it does not know; both are refused here.

use std::collections::HashSet;

use toml_edit::{Array, DocumentMut, value};

use super::model::Requirements;
use super::render::{Block, Rendered, splice};
use crate::domain::content::{check_line, check_text};
use crate::{Error, Result};

/// Top-level keys of requirements.toml in Codex 0.169 (each tried alone on that binary:
/// a known key with a wrong value fails to parse, an unknown one is "ignored").
pub const TOP_LEVEL: &[&str] = &[
    "allowed_approval_policies",
    "allowed_permission_profiles",
    "allowed_sandbox_modes",
    "allowed_web_search_modes",
    "default_permissions",
    "enforce_residency",
    "features",
    "hooks",
    "mcp_servers",
    "otel",
    "permissions",
    "remote_sandbox_config",
    "rules",
];

/// Allowed entries of the allow-lists (requirements accept `untrusted`, unlike config.toml).
pub const APPROVAL_POLICIES: &[&str] = &["untrusted", "on-failure", "on-request", "never"];
pub const WEB_SEARCH_MODES: &[&str] = &["disabled", "cached", "indexed", "live"];

fn check_list(field: &str, values: &[String], allowed: &[&str]) -> Result<()> {
    let mut seen = HashSet::new();
    for (i, v) in values.iter().enumerate() {
        if !allowed.contains(&v.as_str()) {
            return Err(Error::invalid(
                format!("{field}.{i}"),
                format!("must be one of {}", allowed.join(", ")),
            ));
        }
        if !seen.insert(v) {
            return Err(Error::invalid(format!("{field}.{i}"), "listed twice"));
        }
    }
    Ok(())
}

fn check_fields(r: &Requirements) -> Result<()> {
    check_list(
        "requirements.allowed_approval_policies",
        &r.allowed_approval_policies,
        APPROVAL_POLICIES,
    )?;
    check_list(
        "requirements.allowed_sandbox_modes",
        &r.allowed_sandbox_modes,
        super::keys::SANDBOX_MODES,
    )?;
    check_list(
        "requirements.allowed_web_search_modes",
        &r.allowed_web_search_modes,
        WEB_SEARCH_MODES,
    )?;
    for (i, b) in r.free_blocks.iter().enumerate() {
        check_line(&format!("requirements.free_blocks.{i}.name"), &b.name, 128)?;
        check_text(&format!("requirements.free_blocks.{i}.toml"), &b.toml)?;
    }
    Ok(())
}

/// Renders and checks the file; `host_extra` is a host's own block, appended last.
pub fn render_requirements(r: &Requirements, host_extra: Option<(&str, &str)>) -> Result<String> {
    check_fields(r)?;
    let mut root = DocumentMut::new();
    for (key, list) in [
        ("allowed_approval_policies", &r.allowed_approval_policies),
        ("allowed_sandbox_modes", &r.allowed_sandbox_modes),
        ("allowed_web_search_modes", &r.allowed_web_search_modes),
    ] {
        if !list.is_empty() {
            root.insert(key, value(list.iter().collect::<Array>()));
        }
    }
    let mut blocks: Vec<Block<'_>> = r
        .free_blocks
        .iter()
        .enumerate()
        .map(|(i, b)| Block {
            field: format!("requirements.free_blocks.{i}.toml"),
            toml: &b.toml,
        })
        .collect();
    if let Some((field, toml)) = host_extra.filter(|(_, t)| !t.trim().is_empty()) {
        blocks.push(Block {
            field: field.to_string(),
            toml,
        });
    }
    let rendered = splice(&root, &DocumentMut::new(), &blocks)?;
    check_keys(&rendered)?;
    Ok(rendered.text)
}

fn check_keys(r: &Rendered) -> Result<()> {
    let doc = toml_edit::Document::parse(r.text.as_str())
        .map_err(|e| r.error_at(e.span(), e.message().trim()))?;
    let root = doc.as_table();
    for (key, _) in root.iter() {
        if !TOP_LEVEL.contains(&key) {
            let span = root.key(key).and_then(|k| k.span());
            return Err(r.error_at(
                span,
                &format!("unknown requirement `{key}` (Codex 0.169 would ignore it)"),
            ));
        }
    }
    Ok(())
}
