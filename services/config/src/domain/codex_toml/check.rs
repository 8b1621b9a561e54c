//! Refuses what Codex 0.169 would refuse at load time: invalid TOML (with line and column),
//! unknown or retired keys (named), a provider that is not on the Responses API, and bad
//! values of the structured fields (named by their field path).

use std::collections::HashSet;

use toml_edit::{Item, TableLike};

use super::keys::{self, NESTED, RETIRED, TOP_LEVEL};
use super::model::{McpServer, ModelProvider, Profile, Template};
use super::render::{MANAGED_MCP_NAME, Rendered};
use crate::domain::content::{check_line, check_text};
use crate::{Error, Result};

/// Largest rendered file accepted.
pub const MAX_FILE_BYTES: usize = 256 * 1024;

/// Parses a rendered file and checks its keys as Codex loads them.
pub fn check_rendered(r: &Rendered) -> Result<()> {
    if r.text.len() > MAX_FILE_BYTES {
        return Err(Error::invalid(
            "template",
            format!("the rendered file is larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    let doc = toml_edit::Document::parse(r.text.as_str())
        .map_err(|e| r.error_at(e.span(), e.message().trim()))?;
    check_keys(doc.as_table(), r)
}

fn key_error(r: &Rendered, table: &dyn TableLike, key: &str, message: String) -> Error {
    let span = table.get_key_value(key).and_then(|(k, _)| k.span());
    r.error_at(span, &message)
}

fn check_keys(root: &dyn TableLike, r: &Rendered) -> Result<()> {
    for (key, item) in root.iter() {
        if let Some((_, why)) = RETIRED.iter().find(|(name, _)| *name == key) {
            return Err(key_error(r, root, key, format!("`{key}`: {why}")));
        }
        if !TOP_LEVEL.contains(&key) {
            return Err(key_error(
                r,
                root,
                key,
                format!("unknown configuration field `{key}` (Codex 0.169 refuses it)"),
            ));
        }
        if key == "features"
            && let Some(t) = item.as_table_like()
            && t.contains_key("rmcp_client")
        {
            let why = RETIRED
                .iter()
                .find(|(n, _)| *n == "features.rmcp_client")
                .map_or("", |(_, w)| w);
            return Err(key_error(
                r,
                t,
                "rmcp_client",
                format!("`features.rmcp_client`: {why}"),
            ));
        }
        for (pattern, allowed) in NESTED {
            let (table, each) = match pattern.strip_suffix(".*") {
                Some(t) => (t, true),
                None => (*pattern, false),
            };
            if table != key {
                continue;
            }
            let Some(t) = item.as_table_like() else {
                return Err(key_error(r, root, key, format!("`{key}` must be a table")));
            };
            if !each {
                check_fields(t, allowed, key, r)?;
                continue;
            }
            for (name, entry) in t.iter() {
                let path = format!("{key}.{name}");
                let Some(e) = entry.as_table_like() else {
                    return Err(key_error(r, t, name, format!("`{path}` must be a table")));
                };
                check_fields(e, allowed, &path, r)?;
                if key == "model_providers" {
                    check_provider_entry(t, name, e, r)?;
                }
            }
        }
    }
    Ok(())
}

fn check_fields(t: &dyn TableLike, allowed: &[&str], path: &str, r: &Rendered) -> Result<()> {
    for (key, _) in t.iter() {
        if !allowed.contains(&key) {
            return Err(key_error(
                r,
                t,
                key,
                format!("unknown configuration field `{path}.{key}` (Codex 0.169 refuses it)"),
            ));
        }
    }
    Ok(())
}

/// Entry `name` of `[model_providers]` (`parent`): a name Codex accepts, the Responses API.
fn check_provider_entry(
    parent: &dyn TableLike,
    name: &str,
    e: &dyn TableLike,
    r: &Rendered,
) -> Result<()> {
    let path = format!("model_providers.{name}");
    let wire = e.get("wire_api").and_then(Item::as_str);
    if let Some(w) = wire
        && w != "responses"
    {
        return Err(key_error(
            r,
            e,
            "wire_api",
            format!("`{path}.wire_api` = \"{w}\": Codex 0.169 supports only \"responses\""),
        ));
    }
    if e.get("name")
        .and_then(Item::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(key_error(
            r,
            parent,
            name,
            format!("`{path}` needs a non-empty `name`"),
        ));
    }
    Ok(())
}

fn one_of(field: &str, v: &str, allowed: &[&str]) -> Result<()> {
    if v.is_empty() || allowed.contains(&v) {
        return Ok(());
    }
    Err(Error::invalid(
        field,
        format!("{field} must be one of {}", allowed.join(", ")),
    ))
}

/// A table key made of `[A-Za-z0-9_-]`, as Codex requires of MCP server names.
fn check_name(field: &str, v: &str, max: usize) -> Result<()> {
    let ok = !v.is_empty()
        && v.len() <= max
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{field} must be 1 to {max} characters of A-Z, a-z, 0-9, _ and -"),
        ))
    }
}

fn check_text_field(field: &str, v: &str) -> Result<()> {
    check_line(field, v, 2048)
}

/// The knobs a template and a profile share.
fn check_knobs(prefix: &str, k: [&str; 5]) -> Result<()> {
    let [approval, sandbox, effort, summary, verbosity] = k;
    one_of(
        &format!("{prefix}approval_policy"),
        approval,
        keys::APPROVAL_POLICIES,
    )?;
    one_of(
        &format!("{prefix}sandbox_mode"),
        sandbox,
        keys::SANDBOX_MODES,
    )?;
    one_of(
        &format!("{prefix}model_reasoning_effort"),
        effort,
        keys::REASONING_EFFORTS,
    )?;
    one_of(
        &format!("{prefix}model_reasoning_summary"),
        summary,
        keys::REASONING_SUMMARIES,
    )?;
    one_of(
        &format!("{prefix}model_verbosity"),
        verbosity,
        keys::VERBOSITIES,
    )
}

/// The structured fields of a template (the free blocks are checked once rendered).
pub fn check_template(t: &Template) -> Result<()> {
    check_text_field("template.model", &t.model)?;
    check_text_field("template.model_provider", &t.model_provider)?;
    check_knobs(
        "template.",
        [
            &t.approval_policy,
            &t.sandbox_mode,
            &t.model_reasoning_effort,
            &t.model_reasoning_summary,
            &t.model_verbosity,
        ],
    )?;
    one_of(
        "template.history_persistence",
        &t.history_persistence,
        keys::HISTORY_PERSISTENCE,
    )?;
    for (i, n) in t.notify.iter().enumerate() {
        check_text_field(&format!("template.notify.{i}"), n)?;
    }
    for (name, flags) in [("features", &t.features), ("notices", &t.notices)] {
        for k in flags.keys() {
            check_name(&format!("template.{name}.{k}"), k, 128)?;
        }
    }
    let mut seen = HashSet::new();
    for (i, p) in t.model_providers.iter().enumerate() {
        check_provider(&format!("template.model_providers.{i}"), p, &mut seen)?;
    }
    let mut seen = HashSet::new();
    for (i, s) in t.mcp_servers.iter().enumerate() {
        check_mcp(&format!("template.mcp_servers.{i}"), s, &mut seen)?;
    }
    let mut seen = HashSet::new();
    for (i, p) in t.projects.iter().enumerate() {
        let f = format!("template.projects.{i}");
        check_text_field(&format!("{f}.path"), &p.path)?;
        if !p.path.starts_with('/') && !is_windows_absolute(&p.path) {
            return Err(Error::invalid(
                format!("{f}.path"),
                "a project path must be absolute",
            ));
        }
        if !seen.insert(p.path.as_str()) {
            return Err(Error::invalid(format!("{f}.path"), "listed twice"));
        }
        if p.trust_level.is_empty() {
            return Err(Error::invalid(
                format!("{f}.trust_level"),
                "trust_level is required",
            ));
        }
        one_of(
            &format!("{f}.trust_level"),
            &p.trust_level,
            keys::TRUST_LEVELS,
        )?;
    }
    if let Some(o) = &t.otel {
        one_of("template.otel.exporter", &o.exporter, keys::OTEL_EXPORTERS)?;
        one_of("template.otel.protocol", &o.protocol, keys::OTEL_PROTOCOLS)?;
        if o.exporter.starts_with("otlp") && o.endpoint.is_empty() {
            return Err(Error::invalid(
                "template.otel.endpoint",
                "an OTLP exporter needs an endpoint",
            ));
        }
        check_text_field("template.otel.endpoint", &o.endpoint)?;
        check_text_field("template.otel.environment", &o.environment)?;
    }
    let mut seen = HashSet::new();
    for (i, b) in t.free_blocks.iter().enumerate() {
        let f = format!("template.free_blocks.{i}");
        check_line(&format!("{f}.name"), &b.name, 128)?;
        if !b.name.is_empty() && !seen.insert(b.name.as_str()) {
            return Err(Error::invalid(format!("{f}.name"), "listed twice"));
        }
        check_text(&format!("{f}.toml"), &b.toml)?;
    }
    Ok(())
}

fn is_windows_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'\\' || b[2] == b'/')
}

fn check_provider<'a>(f: &str, p: &'a ModelProvider, seen: &mut HashSet<&'a str>) -> Result<()> {
    check_name(&format!("{f}.id"), &p.id, 64)?;
    if !seen.insert(p.id.as_str()) {
        return Err(Error::invalid(format!("{f}.id"), "listed twice"));
    }
    check_text_field(&format!("{f}.display_name"), &p.display_name)?;
    if p.base_url.is_empty() {
        return Err(Error::invalid(
            format!("{f}.base_url"),
            "base_url is required",
        ));
    }
    check_text_field(&format!("{f}.base_url"), &p.base_url)?;
    if !p.wire_api.is_empty() && p.wire_api != "responses" {
        return Err(Error::invalid(
            format!("{f}.wire_api"),
            "Codex 0.169 supports only wire_api = \"responses\"",
        ));
    }
    check_text_field(&format!("{f}.env_key"), &p.env_key)?;
    for (k, v) in &p.http_headers {
        check_text_field(&format!("{f}.http_headers.{k}"), v)?;
    }
    Ok(())
}

fn check_mcp<'a>(f: &str, s: &'a McpServer, seen: &mut HashSet<&'a str>) -> Result<()> {
    check_name(&format!("{f}.name"), &s.name, 64)?;
    if s.name == MANAGED_MCP_NAME {
        return Err(Error::invalid(
            format!("{f}.name"),
            "\"cdx\" is the managed entry pointing at this server; pick another name",
        ));
    }
    if !seen.insert(s.name.as_str()) {
        return Err(Error::invalid(format!("{f}.name"), "listed twice"));
    }
    match (s.url.is_empty(), s.command.is_empty()) {
        (false, false) => {
            return Err(Error::invalid(
                format!("{f}.url"),
                "set url (streamable HTTP) or command (stdio), not both",
            ));
        }
        (true, true) => {
            return Err(Error::invalid(
                format!("{f}.url"),
                "set url (streamable HTTP) or command (stdio)",
            ));
        }
        _ => {}
    }
    check_text_field(&format!("{f}.url"), &s.url)?;
    check_text_field(&format!("{f}.command"), &s.command)?;
    for (i, a) in s.args.iter().enumerate() {
        check_text_field(&format!("{f}.args.{i}"), a)?;
    }
    for (name, map) in [
        ("http_headers", &s.http_headers),
        ("env_http_headers", &s.env_http_headers),
        ("env", &s.env),
    ] {
        for (k, v) in map {
            check_text_field(&format!("{f}.{name}.{k}"), v)?;
        }
    }
    one_of(
        &format!("{f}.default_tools_approval_mode"),
        &s.default_tools_approval_mode,
        keys::TOOLS_APPROVAL_MODES,
    )
}

/// A profile's own fields (its `extra_toml` is checked once rendered).
pub fn check_profile(p: &Profile) -> Result<()> {
    check_profile_name("profile.name", &p.name)?;
    check_text_field("profile.model", &p.model)?;
    check_text_field("profile.model_provider", &p.model_provider)?;
    check_knobs(
        "profile.",
        [
            &p.approval_policy,
            &p.sandbox_mode,
            &p.model_reasoning_effort,
            &p.model_reasoning_summary,
            &p.model_verbosity,
        ],
    )?;
    check_text("profile.extra_toml", &p.extra_toml)
}

/// Profile names become file names (`<name>.config.toml`) and `-p` arguments.
pub fn check_profile_name(field: &str, name: &str) -> Result<()> {
    check_name(field, name, 64)?;
    if name == "config" {
        return Err(Error::invalid(field, "\"config\" is reserved"));
    }
    Ok(())
}
