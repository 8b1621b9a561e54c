//! Renders the structured documents to TOML with `toml_edit`, and splices free blocks in
//! verbatim: each block's top-level keys join the top-level keys, its tables follow the
//! rendered tables. Text is never re-serialized, so comments, order and formatting survive.

use std::collections::BTreeMap;
use std::ops::Range;

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value, value};

use super::model::{McpServer, ModelProvider, Otel, Template};
use crate::{Error, Result};

/// The `[mcp_servers.cdx]` entry baked into a host's file.
pub struct ManagedMcp<'a> {
    pub url: &'a str,
    pub bearer: &'a str,
}

/// The name the managed entry takes under `[mcp_servers]`.
pub const MANAGED_MCP_NAME: &str = "cdx";

/// Free TOML to splice in, and the request field it came from (for error messages).
pub struct Block<'a> {
    pub field: String,
    pub toml: &'a str,
}

/// A rendered file, and where each of its pieces came from.
pub struct Rendered {
    pub text: String,
    segments: Vec<Segment>,
}

struct Segment {
    /// Byte offset of the piece in the rendered text.
    start: usize,
    /// Where it came from: a request field, or `None` for the structured fields.
    field: Option<String>,
    /// The line of the source the piece starts on (0-based).
    line_base: usize,
}

impl Rendered {
    /// An error at `span` of the rendered text, blamed on the field it came from, with the
    /// line and column in that field's own text.
    pub fn error_at(&self, span: Option<Range<usize>>, message: &str) -> Error {
        let at = span.map_or(0, |s| s.start);
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.start <= at)
            .or(self.segments.first());
        let Some(seg) = seg else {
            return Error::invalid("template", message.to_string());
        };
        let piece = self.text.get(seg.start..).unwrap_or_default();
        let (line, column) = line_col(piece, at.saturating_sub(seg.start));
        let line = seg.line_base + line;
        match &seg.field {
            Some(field) => {
                Error::invalid(field, format!("line {line}, column {column}: {message}"))
            }
            None => Error::invalid("template", message.to_string()),
        }
    }
}

/// The 1-based line and column (in characters) of byte offset `at` of `text`.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Renders `t` with `blocks` spliced in and, when given, the managed MCP entry.
pub fn render(
    t: &Template,
    blocks: &[Block<'_>],
    managed: Option<&ManagedMcp<'_>>,
) -> Result<Rendered> {
    splice(&root_doc(t), &tables_doc(t, managed), blocks)
}

/// The structured top-level keys, then the blocks' top-level keys, then the structured tables,
/// then the blocks' tables.
pub fn splice(root: &DocumentMut, tables: &DocumentMut, blocks: &[Block<'_>]) -> Result<Rendered> {
    let mut pieces: Vec<(Option<String>, usize, String)> = Vec::new();
    pieces.push((None, 0, root.to_string()));
    let mut tails = Vec::new();
    for block in blocks {
        let (head, tail_at) = split_block(block)?;
        pieces.push((Some(block.field.clone()), 0, head.to_string()));
        let line_base = block.toml[..tail_at].matches('\n').count();
        tails.push((
            Some(block.field.clone()),
            line_base,
            block.toml[tail_at..].to_string(),
        ));
    }
    pieces.push((None, 0, tables.to_string()));
    pieces.extend(tails);

    let mut text = String::new();
    let mut segments = Vec::new();
    for (field, line_base, piece) in pieces {
        if piece.trim().is_empty() {
            continue;
        }
        if !text.is_empty() {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            if !text.ends_with("\n\n") {
                text.push('\n');
            }
        }
        segments.push(Segment {
            start: text.len(),
            field,
            line_base,
        });
        text.push_str(&piece);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(Rendered { text, segments })
}

/// Splits a free block where its first table header (or the comments above it) starts.
/// Parse errors are reported against the block's own lines.
fn split_block<'a>(block: &Block<'a>) -> Result<(&'a str, usize)> {
    let doc = toml_edit::Document::parse(block.toml).map_err(|e| {
        let (line, column) = line_col(block.toml, e.span().map_or(0, |s| s.start));
        Error::invalid(
            &block.field,
            format!("line {line}, column {column}: {}", e.message().trim()),
        )
    })?;
    let at = first_header(doc.as_table()).unwrap_or(block.toml.len());
    // Back up to the start of the line, so indentation stays with its header.
    let head = block.toml.get(..at).unwrap_or(block.toml);
    let at = head.rfind('\n').map_or(0, |i| i + 1);
    Ok((&block.toml[..at], at))
}

/// The byte offset of the earliest table header in `table` (with the comments above it).
fn first_header(table: &Table) -> Option<usize> {
    let mut best: Option<usize> = None;
    let mut consider = |at: Option<usize>| {
        if let Some(at) = at {
            best = Some(best.map_or(at, |b: usize| b.min(at)));
        }
    };
    for (_, item) in table.iter() {
        match item {
            Item::Table(t) if t.is_dotted() => {}
            Item::Table(t) => {
                consider(header_start(t));
                consider(first_header(t));
            }
            Item::ArrayOfTables(a) => {
                for t in a.iter() {
                    consider(header_start(t));
                    consider(first_header(t));
                }
            }
            _ => {}
        }
    }
    best
}

fn header_start(t: &Table) -> Option<usize> {
    if t.is_implicit() {
        return None;
    }
    let header = t.span().map(|s| s.start);
    let prefix = t.decor().prefix().and_then(|p| p.span()).map(|s| s.start);
    match (prefix, header) {
        (Some(p), Some(h)) => Some(p.min(h)),
        (p, h) => p.or(h),
    }
}

fn set_str(t: &mut Table, key: &str, v: &str) {
    if !v.is_empty() {
        t.insert(key, value(v));
    }
}

fn str_map(m: &BTreeMap<String, String>) -> Value {
    let mut it = InlineTable::new();
    for (k, v) in m {
        it.insert(k, Value::from(v.as_str()));
    }
    Value::InlineTable(it)
}

fn root_doc(t: &Template) -> DocumentMut {
    let mut d = DocumentMut::new();
    let r = d.as_table_mut();
    set_str(r, "model", &t.model);
    set_str(r, "model_provider", &t.model_provider);
    set_str(r, "model_reasoning_effort", &t.model_reasoning_effort);
    set_str(r, "model_reasoning_summary", &t.model_reasoning_summary);
    set_str(r, "model_verbosity", &t.model_verbosity);
    set_str(r, "approval_policy", &t.approval_policy);
    set_str(r, "sandbox_mode", &t.sandbox_mode);
    if !t.notify.is_empty() {
        r.insert("notify", value(t.notify.iter().collect::<Array>()));
    }
    d
}

fn tables_doc(t: &Template, managed: Option<&ManagedMcp<'_>>) -> DocumentMut {
    let mut d = DocumentMut::new();
    let r = d.as_table_mut();
    if let Some(n) = t.sandbox_network_access {
        let mut s = Table::new();
        s.insert("network_access", value(n));
        r.insert("sandbox_workspace_write", Item::Table(s));
    }
    if !t.history_persistence.is_empty() {
        let mut s = Table::new();
        s.insert("persistence", value(&t.history_persistence));
        r.insert("history", Item::Table(s));
    }
    if let Some(on) = t.web_search {
        let mut s = Table::new();
        s.insert("web_search", value(on));
        r.insert("tools", Item::Table(s));
    }
    for (name, flags) in [("features", &t.features), ("notice", &t.notices)] {
        if !flags.is_empty() {
            let mut s = Table::new();
            for (k, v) in flags {
                s.insert(k, value(*v));
            }
            r.insert(name, Item::Table(s));
        }
    }
    if !t.model_providers.is_empty() {
        let mut parent = implicit();
        for p in &t.model_providers {
            parent.insert(&p.id, Item::Table(provider_table(p)));
        }
        r.insert("model_providers", Item::Table(parent));
    }
    if !t.mcp_servers.is_empty() || managed.is_some() {
        let mut parent = implicit();
        for s in &t.mcp_servers {
            parent.insert(&s.name, Item::Table(mcp_table(s)));
        }
        if let Some(m) = managed {
            let mut s = Table::new();
            s.insert("url", value(m.url));
            let mut headers = InlineTable::new();
            headers.insert("Authorization", Value::from(format!("Bearer {}", m.bearer)));
            s.insert("http_headers", value(headers));
            s.insert("default_tools_approval_mode", value("approve"));
            parent.insert(MANAGED_MCP_NAME, Item::Table(s));
        }
        r.insert("mcp_servers", Item::Table(parent));
    }
    if !t.projects.is_empty() {
        let mut parent = implicit();
        for p in &t.projects {
            let mut s = Table::new();
            s.insert("trust_level", value(&p.trust_level));
            parent.insert(&p.path, Item::Table(s));
        }
        r.insert("projects", Item::Table(parent));
    }
    if let Some(o) = &t.otel {
        r.insert("otel", Item::Table(otel_table(o)));
    }
    d
}

fn implicit() -> Table {
    let mut t = Table::new();
    t.set_implicit(true);
    t
}

fn provider_table(p: &ModelProvider) -> Table {
    let mut s = Table::new();
    let name = if p.display_name.is_empty() {
        &p.id
    } else {
        &p.display_name
    };
    s.insert("name", value(name));
    set_str(&mut s, "base_url", &p.base_url);
    s.insert(
        "wire_api",
        value(if p.wire_api.is_empty() {
            "responses"
        } else {
            &p.wire_api
        }),
    );
    set_str(&mut s, "env_key", &p.env_key);
    if !p.http_headers.is_empty() {
        s.insert("http_headers", value(str_map(&p.http_headers)));
    }
    if let Some(n) = p.request_max_retries {
        s.insert("request_max_retries", value(i64::from(n)));
    }
    if let Some(n) = p.stream_max_retries {
        s.insert("stream_max_retries", value(i64::from(n)));
    }
    if let Some(n) = p.stream_idle_timeout_ms {
        s.insert(
            "stream_idle_timeout_ms",
            value(i64::try_from(n).unwrap_or(i64::MAX)),
        );
    }
    s
}

fn mcp_table(m: &McpServer) -> Table {
    let mut s = Table::new();
    if !m.url.is_empty() {
        s.insert("url", value(&m.url));
        if !m.http_headers.is_empty() {
            s.insert("http_headers", value(str_map(&m.http_headers)));
        }
        if !m.env_http_headers.is_empty() {
            s.insert("env_http_headers", value(str_map(&m.env_http_headers)));
        }
        set_str(&mut s, "bearer_token_env_var", &m.bearer_token_env_var);
    } else {
        s.insert("command", value(&m.command));
        if !m.args.is_empty() {
            s.insert("args", value(m.args.iter().collect::<Array>()));
        }
        if !m.env.is_empty() {
            s.insert("env", value(str_map(&m.env)));
        }
    }
    if let Some(n) = m.startup_timeout_sec {
        s.insert("startup_timeout_sec", value(i64::from(n)));
    }
    if let Some(n) = m.tool_timeout_sec {
        s.insert("tool_timeout_sec", value(i64::from(n)));
    }
    set_str(
        &mut s,
        "default_tools_approval_mode",
        &m.default_tools_approval_mode,
    );
    if m.disabled {
        s.insert("enabled", value(false));
    }
    s
}

fn otel_table(o: &Otel) -> Table {
    let mut s = Table::new();
    if o.exporter == "otlp-http" || o.exporter == "otlp-grpc" {
        let mut target = InlineTable::new();
        target.insert("endpoint", Value::from(o.endpoint.as_str()));
        if o.exporter == "otlp-http" && !o.protocol.is_empty() {
            target.insert("protocol", Value::from(o.protocol.as_str()));
        }
        if !o.headers.is_empty() {
            target.insert("headers", str_map(&o.headers));
        }
        let mut exporter = InlineTable::new();
        exporter.insert(&o.exporter, Value::InlineTable(target));
        s.insert("exporter", value(exporter));
    } else if !o.exporter.is_empty() {
        s.insert("exporter", value(&o.exporter));
    }
    set_str(&mut s, "environment", &o.environment);
    if let Some(on) = o.log_user_prompt {
        s.insert("log_user_prompt", value(on));
    }
    s
}
