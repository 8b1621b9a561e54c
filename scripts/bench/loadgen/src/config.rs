//! Helpers for the `/config/retrieve` benchmark (`scripts/bench/config`): storing a template of
//! a given length through the admin API, and each host's own baked digest (the file differs per
//! host by the key in its managed MCP entry), so that every measured request is "unchanged".

use std::path::Path;

use bytes::Bytes;
use http::HeaderValue;
use serde_json::{Value, json};

use crate::auth::{post_json, read_keys, text_at};
use crate::connect;

/// A template of about `lines` lines: the structured fields, providers, MCP servers and
/// projects, then a free block of comments and settings for the rest.
pub fn template(lines: usize) -> Value {
    let mut free = String::from("# Fleet choices kept as typed\n");
    let mut n = 40; // what the structured part renders to
    let mut i = 0;
    while n < lines {
        free.push_str(&format!("# note {i}: keep the default\n"));
        n += 1;
        i += 1;
    }
    free.push_str("hide_agent_reasoning = true\n\n[tui]\nnotifications = true\n");
    json!({
        "model": "gpt-5.1-codex", "model_provider": "central", "model_reasoning_effort": "medium",
        "approval_policy": "on-request", "sandbox_mode": "workspace-write", "sandbox_network_access": true,
        "model_providers": [
            {"id": "central", "name": "Central", "base_url": "https://central.example/v1", "env_key": "CENTRAL_KEY"},
            {"id": "backup", "name": "Backup", "base_url": "https://backup.example/v1", "env_key": "BACKUP_KEY"}
        ],
        "mcp_servers": [
            {"name": "docs", "url": "https://docs.example/mcp", "bearer_token_env_var": "DOCS_TOKEN"},
            {"name": "files", "command": "files-mcp", "args": ["--root", "/srv"], "env": {"A": "b"}}
        ],
        "projects": [
            {"path": "/srv/one", "trust_level": "trusted"},
            {"path": "/srv/two", "trust_level": "trusted"}
        ],
        "free_blocks": [{"name": "more", "toml": free}]
    })
}

/// Stores [`template`] as the fleet's config.toml.
pub async fn store(base_url: &str, token: &str, lines: usize) -> anyhow::Result<()> {
    let mut sender = connect(&crate::authority(&base_url.parse()?)?).await?;
    let bearer = format!("Bearer {token}");
    let answer = post_json(
        &mut sender,
        base_url,
        "/admin/config/store",
        ("authorization", &bearer),
        &json!({ "settings": template(lines) }),
    )
    .await?;
    let content = text_at(&answer, "/data/content")?;
    println!("{}", content.lines().count());
    Ok(())
}

/// Each host's key and the `/config/retrieve` body that names its baked file's digest.
pub async fn host_requests(
    base_url: &str,
    keys_file: &Path,
) -> anyhow::Result<Vec<(HeaderValue, Bytes)>> {
    let mut sender = connect(&crate::authority(&base_url.parse()?)?).await?;
    let mut out = Vec::new();
    for key in read_keys(keys_file)? {
        let answer = post_json(
            &mut sender,
            base_url,
            "/config/retrieve",
            ("x-api-key", &key),
            &json!({}),
        )
        .await?;
        let sha = text_at(&answer, "/data/sha256")?;
        out.push((
            HeaderValue::try_from(key)?,
            Bytes::from(json!({ "sha256": sha }).to_string()),
        ));
    }
    Ok(out)
}
