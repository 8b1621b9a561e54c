//! The fleet's `AGENTS.md` (`POST /agents/retrieve`) and prompts (`GET /slash-commands`,
//! `POST /slash-commands/retrieve`) under CODEX_HOME. A file is written when it is absent or
//! still exactly what cdx wrote last time, and removed on the same condition: a person's own
//! `AGENTS.md` or prompt edits are never overwritten; edits of the fleet's prompts are offered
//! back to the server after a run (`push_edits`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::api::{Api, ApiError};
use crate::digest::sha256_hex;
use crate::files;

/// What cdx owns: AGENTS.md's digest and prompt file name → digest, as written.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Owned {
    pub agents_sha256: Option<String>,
    pub prompts: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
pub struct ContentOutcome {
    pub owned: Owned,
    pub changed: Vec<String>,
    /// Files left alone because the person changed them.
    pub kept: Vec<String>,
}

fn local_sha(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|b| sha256_hex(&b))
}

/// Absent, or exactly what cdx wrote (`recorded`).
fn ours(path: &Path, recorded: Option<&str>) -> bool {
    match local_sha(path) {
        None => true,
        Some(have) => recorded == Some(have.as_str()),
    }
}

/// A name the server may give a prompt file: `[A-Za-z0-9._-]`, no leading dot, no `..`.
pub fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.contains("..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Removes AGENTS.md and the prompts cdx wrote that are still exactly as written (uninstall);
/// returns the names removed and the names kept because the person changed them.
pub fn remove_owned(codex_home: &Path, owned: &Owned) -> (Vec<String>, Vec<String>) {
    let mut files_owned: Vec<(std::path::PathBuf, String, &str)> = Vec::new();
    if let Some(sha) = &owned.agents_sha256 {
        files_owned.push((codex_home.join("AGENTS.md"), "AGENTS.md".into(), sha));
    }
    for (name, sha) in &owned.prompts {
        if safe_name(name) {
            files_owned.push((
                codex_home.join("prompts").join(name),
                format!("prompts/{name}"),
                sha,
            ));
        }
    }
    let (mut removed, mut kept) = (Vec::new(), Vec::new());
    for (path, label, sha) in files_owned {
        if !path.exists() {
            continue;
        }
        if ours(&path, Some(sha)) && files::remove(&path).is_ok() {
            removed.push(label);
        } else {
            kept.push(label);
        }
    }
    (removed, kept)
}

/// What pushing local prompt edits did.
#[derive(Debug, Default)]
pub struct PushOutcome {
    /// Prompt name → the server's answer (`updated`, `proposed`, `unchanged`).
    pub pushed: Vec<(String, String)>,
    /// The fleet does not take pushes from hosts (403): nothing more is tried this run.
    pub refused: Option<String>,
}

/// Offers the fleet the person's edits of prompts cdx wrote (`POST /slash-commands/store`).
/// The server decides: stored, kept for an admin's review (202) or refused (403). An edit is
/// offered once (`offered` remembers its digest); a stored one becomes the fleet's and so cdx's.
pub async fn push_edits(
    api: &Api,
    codex_home: &Path,
    owned: &mut BTreeMap<String, String>,
    offered: &mut BTreeMap<String, String>,
) -> PushOutcome {
    let mut out = PushOutcome::default();
    offered.retain(|name, _| owned.contains_key(name));
    let names: Vec<String> = owned.keys().cloned().collect();
    for name in names {
        let path = codex_home.join("prompts").join(&name);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let have = sha256_hex(&bytes);
        if owned.get(&name) == Some(&have) || offered.get(&name) == Some(&have) {
            continue;
        }
        let Ok(prompt) = String::from_utf8(bytes) else {
            continue;
        };
        let body = json!({"filename": name, "prompt": prompt, "sha256": have});
        match api.post_json("/slash-commands/store", &body).await {
            Ok(data) => {
                let status = data
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string();
                if status == "updated" || status == "unchanged" || status == "created" {
                    owned.insert(name.clone(), have.clone());
                }
                offered.insert(name.clone(), have);
                out.pushed.push((name, status));
            }
            Err(ApiError::Denied(m)) => {
                out.refused = Some(m);
                break;
            }
            Err(e) => {
                out.refused = Some(e.to_string());
                break;
            }
        }
    }
    out
}

fn io(e: crate::error::CdxError) -> ApiError {
    ApiError::Other(e.to_string())
}

pub async fn run(api: &Api, codex_home: &Path, before: &Owned) -> Result<ContentOutcome, ApiError> {
    let mut out = ContentOutcome {
        owned: before.clone(),
        ..ContentOutcome::default()
    };
    agents(api, codex_home, &mut out).await?;
    prompts(api, codex_home, &mut out).await?;
    Ok(out)
}

async fn agents(api: &Api, codex_home: &Path, out: &mut ContentOutcome) -> Result<(), ApiError> {
    let path = codex_home.join("AGENTS.md");
    let have = local_sha(&path);
    let data = api
        .post_json("/agents/retrieve", &json!({ "sha256": have }))
        .await?;
    let status = data
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let recorded = out.owned.agents_sha256.clone();
    match status {
        "updated" => {
            let content = data.get("content").and_then(Value::as_str).unwrap_or("");
            if ours(&path, recorded.as_deref()) {
                files::write_atomic(&path, content.as_bytes(), 0o644).map_err(io)?;
                out.owned.agents_sha256 = Some(sha256_hex(content.as_bytes()));
                out.changed.push("AGENTS.md".into());
            } else {
                out.kept.push("AGENTS.md".into());
            }
        }
        // The person's file already is the fleet's: from now on it is kept in step.
        "unchanged" => out.owned.agents_sha256 = have,
        "missing" => {
            if recorded.is_some() && have.is_some() && ours(&path, recorded.as_deref()) {
                files::remove(&path).map_err(io)?;
                out.changed.push("-AGENTS.md".into());
            }
            out.owned.agents_sha256 = None;
        }
        _ => {}
    }
    Ok(())
}

async fn prompts(api: &Api, codex_home: &Path, out: &mut ContentOutcome) -> Result<(), ApiError> {
    let dir = codex_home.join("prompts");
    let list = api
        .call(reqwest::Method::GET, "/slash-commands", None)
        .await?;
    let items = list
        .get("commands")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut listed = Vec::new();
    for item in items {
        let Some(name) = item.get("filename").and_then(Value::as_str) else {
            continue;
        };
        if !safe_name(name) {
            continue;
        }
        listed.push(name.to_string());
        let path = dir.join(name);
        let recorded = out.owned.prompts.get(name).cloned();
        let deleted = !item.get("deleted_at").unwrap_or(&Value::Null).is_null();
        if deleted {
            if recorded.is_some() && local_sha(&path).is_some() && ours(&path, recorded.as_deref())
            {
                files::remove(&path).map_err(io)?;
                out.changed.push(format!("-prompts/{name}"));
            }
            out.owned.prompts.remove(name);
            continue;
        }
        let want = item
            .get("sha256")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let have = local_sha(&path);
        if have.as_deref() == Some(want) {
            out.owned.prompts.insert(name.to_string(), want.to_string());
            continue;
        }
        if !ours(&path, recorded.as_deref()) {
            out.kept.push(format!("prompts/{name}"));
            continue;
        }
        let data = api
            .post_json("/slash-commands/retrieve", &json!({ "filename": name }))
            .await?;
        if data.get("status").and_then(Value::as_str) == Some("updated")
            && let Some(text) = data.get("prompt").and_then(Value::as_str)
        {
            files::write_atomic(&path, text.as_bytes(), 0o644).map_err(io)?;
            out.owned
                .prompts
                .insert(name.to_string(), sha256_hex(text.as_bytes()));
            out.changed.push(format!("prompts/{name}"));
        }
    }
    // Prompts cdx wrote that the fleet no longer lists at all.
    let gone: Vec<String> = out
        .owned
        .prompts
        .keys()
        .filter(|k| !listed.contains(k))
        .cloned()
        .collect();
    for name in gone {
        let path = dir.join(&name);
        let recorded = out.owned.prompts.remove(&name);
        if local_sha(&path).is_some() && ours(&path, recorded.as_deref()) {
            files::remove(&path).map_err(io)?;
            out.changed.push(format!("-prompts/{name}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_and_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("AGENTS.md");
        assert!(ours(&p, None));
        std::fs::write(&p, "mine").unwrap();
        assert!(!ours(&p, None));
        assert!(ours(&p, Some(&sha256_hex(b"mine"))));
        assert!(!ours(&p, Some(&sha256_hex(b"fleet"))));
        assert!(safe_name("review.md"));
        for bad in ["", ".hidden", "../x", "a/b", "a..b"] {
            assert!(!safe_name(bad), "{bad}");
        }
    }
}
