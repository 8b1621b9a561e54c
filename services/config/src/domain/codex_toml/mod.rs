//! Codex's TOML files: the structured model, rendering with free blocks spliced in verbatim,
//! and the checks that keep every baked file loadable by Codex 0.169 (`--strict-config`).

pub mod check;
pub mod keys;
pub mod model;
pub mod render;
pub mod requirements;

use model::{Profile, Template};
use render::{Block, ManagedMcp, render};

use crate::Result;

/// What a preview shows where a host's key goes.
pub const KEY_PLACEHOLDER: &str = "<host key>";

/// The template's free blocks, named by their request fields.
pub fn template_blocks(t: &Template) -> Vec<Block<'_>> {
    t.free_blocks
        .iter()
        .enumerate()
        .map(|(i, b)| Block {
            field: format!("template.free_blocks.{i}.toml"),
            toml: &b.toml,
        })
        .collect()
}

/// Renders and checks `config.toml`: the template, then a host's extra block (if any), and the
/// managed MCP entry (if given).
pub fn render_config(
    t: &Template,
    host_extra: Option<(&str, &str)>,
    managed: Option<&ManagedMcp<'_>>,
) -> Result<String> {
    let mut blocks = template_blocks(t);
    if let Some((field, toml)) = host_extra.filter(|(_, t)| !t.trim().is_empty()) {
        blocks.push(Block {
            field: field.to_string(),
            toml,
        });
    }
    let rendered = render(t, &blocks, managed)?;
    check::check_rendered(&rendered)?;
    Ok(rendered.text)
}

/// Checks a template as every host would receive it (with the managed entry, whose name it
/// must leave free), and returns the base file (without it).
pub fn render_base(t: &Template) -> Result<String> {
    check::check_template(t)?;
    render_config(
        t,
        None,
        Some(&ManagedMcp {
            url: "https://codex-central.invalid/mcp",
            bearer: KEY_PLACEHOLDER,
        }),
    )?;
    render_config(t, None, None)
}

/// Renders and checks one profile's `<name>.config.toml`: its fields, then its extra block.
pub fn render_profile(p: &Profile) -> Result<String> {
    check::check_profile(p)?;
    render_config(
        &p.as_template(),
        Some(("profile.extra_toml", &p.extra_toml)),
        None,
    )
}

#[cfg(test)]
mod tests;
