//! The fleet's skills (`GET /skills`, `POST /skills/retrieve`) as folders under
//! `$CODEX_HOME/skills/<slug>/`: `SKILL.md` (the manifest) and the skill's other files. cdx
//! records what it wrote (file → sha256) and touches a folder only while every file it wrote
//! there is unchanged; a person's own skill of the same name, or one they edited, is kept.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{Api, ApiError};
use crate::content_sync::safe_name;
use crate::digest::sha256_hex;
use crate::files;

/// One skill cdx wrote: the server's digest of it and each file's digest as written.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct OwnedSkill {
    pub sha256: String,
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
pub struct SkillsOutcome {
    pub owned: BTreeMap<String, OwnedSkill>,
    pub changed: Vec<String>,
    pub kept: Vec<String>,
}

/// A relative path inside a skill: 1-8 safe names joined by `/`.
fn safe_path(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() <= 8 && parts.iter().all(|p| safe_name(p))
}

/// Whether every file cdx wrote in the folder is still as written (absent counts as unchanged).
fn untouched(dir: &Path, owned: &OwnedSkill) -> bool {
    owned.files.iter().all(|(rel, sha)| {
        std::fs::read(dir.join(rel))
            .map(|b| &sha256_hex(&b) == sha)
            .unwrap_or(true)
    })
}

/// Removes the files cdx wrote (all unchanged) and the folders left empty.
fn remove_skill(dir: &Path, owned: &OwnedSkill) {
    for rel in owned.files.keys() {
        let _ = files::remove(&dir.join(rel));
        let mut parent = dir.join(rel);
        while parent.pop() && parent.starts_with(dir) {
            if std::fs::remove_dir(&parent).is_err() {
                break;
            }
        }
    }
}

/// Removes every skill cdx wrote that is still as written (uninstall): removed and kept names.
pub fn remove_all(
    codex_home: &Path,
    owned: &BTreeMap<String, OwnedSkill>,
) -> (Vec<String>, Vec<String>) {
    let (mut removed, mut kept) = (Vec::new(), Vec::new());
    for (slug, o) in owned {
        let dir = codex_home.join("skills").join(slug);
        if untouched(&dir, o) {
            remove_skill(&dir, o);
            removed.push(format!("skills/{slug}"));
        } else {
            kept.push(format!("skills/{slug}"));
        }
    }
    (removed, kept)
}

fn io(e: crate::error::CdxError) -> ApiError {
    ApiError::Other(e.to_string())
}

pub async fn run(
    api: &Api,
    codex_home: &Path,
    before: &BTreeMap<String, OwnedSkill>,
) -> Result<SkillsOutcome, ApiError> {
    let root = codex_home.join("skills");
    let mut out = SkillsOutcome {
        owned: before.clone(),
        ..SkillsOutcome::default()
    };
    let list = api.call(reqwest::Method::GET, "/skills", None).await?;
    let items = list
        .get("skills")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut live = Vec::new();
    for item in &items {
        let Some(slug) = item.get("slug").and_then(Value::as_str) else {
            continue;
        };
        let deleted = !item.get("deleted_at").unwrap_or(&Value::Null).is_null();
        if !safe_name(slug) || deleted {
            continue;
        }
        live.push(slug.to_string());
        let want = item.get("sha256").and_then(Value::as_str).unwrap_or("");
        let dir = root.join(slug);
        match out.owned.get(slug) {
            Some(o) if o.sha256 == want => continue,
            Some(o) if !untouched(&dir, o) => {
                out.kept.push(format!("skills/{slug}"));
                continue;
            }
            None if dir.exists() => {
                out.kept.push(format!("skills/{slug}"));
                continue;
            }
            _ => {}
        }
        let data = api
            .post_json("/skills/retrieve", &json!({ "slug": slug }))
            .await?;
        if data.get("status").and_then(Value::as_str) != Some("updated") {
            continue;
        }
        let written = write_skill(&dir, &data).map_err(io)?;
        if let Some(old) = out.owned.get(slug) {
            let stale = OwnedSkill {
                sha256: String::new(),
                files: old
                    .files
                    .iter()
                    .filter(|(rel, _)| !written.contains_key(*rel))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            remove_skill(&dir, &stale);
        }
        let sha = data
            .get("sha256")
            .and_then(Value::as_str)
            .unwrap_or(want)
            .to_string();
        out.owned.insert(
            slug.to_string(),
            OwnedSkill {
                sha256: sha,
                files: written,
            },
        );
        out.changed.push(format!("skills/{slug}"));
    }
    // Skills cdx wrote that the fleet retired or no longer lists.
    let gone: Vec<String> = out
        .owned
        .keys()
        .filter(|k| !live.contains(k))
        .cloned()
        .collect();
    for slug in gone {
        let dir = root.join(&slug);
        if let Some(o) = out.owned.remove(&slug) {
            if untouched(&dir, &o) {
                remove_skill(&dir, &o);
                out.changed.push(format!("-skills/{slug}"));
            } else {
                out.kept.push(format!("skills/{slug}"));
            }
        }
    }
    Ok(out)
}

/// Writes `SKILL.md` and the listed files; returns file → sha256 as written.
fn write_skill(
    dir: &Path,
    data: &Value,
) -> Result<BTreeMap<String, String>, crate::error::CdxError> {
    let mut written = BTreeMap::new();
    let manifest = data.get("manifest").and_then(Value::as_str).unwrap_or("");
    files::write_atomic(&dir.join("SKILL.md"), manifest.as_bytes(), 0o644)?;
    written.insert("SKILL.md".to_string(), sha256_hex(manifest.as_bytes()));
    let b64 = base64::engine::general_purpose::STANDARD;
    for f in data
        .get("files")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let (Some(rel), Some(content)) = (
            f.get("path").and_then(Value::as_str),
            f.get("content_base64").and_then(Value::as_str),
        ) else {
            continue;
        };
        if !safe_path(rel) || rel == "SKILL.md" {
            continue;
        }
        let Ok(bytes) = b64.decode(content) else {
            continue;
        };
        // Scripts stay runnable: a file that starts with `#!` is written executable.
        let mode = if bytes.starts_with(b"#!") {
            0o755
        } else {
            0o644
        };
        files::write_atomic(&dir.join(rel), &bytes, mode)?;
        written.insert(rel.to_string(), sha256_hex(&bytes));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_ownership() {
        assert!(safe_path("scripts/release.sh"));
        for bad in ["", "../x", "a//b", "/abs", ".git/config", "a/../b"] {
            assert!(!safe_path(bad), "{bad}");
        }
        let dir = tempfile::tempdir().unwrap();
        let data = json!({"manifest": "---\nname: x\n---\n", "files": [
            {"path": "scripts/run.sh", "content_base64": "IyEvYmluL3NoCg=="},
            {"path": "../escape", "content_base64": "eA=="}]});
        let written = write_skill(dir.path(), &data).unwrap();
        assert_eq!(written.len(), 2);
        assert!(!dir.path().parent().unwrap().join("escape").exists());
        let owned = OwnedSkill {
            sha256: "s".into(),
            files: written,
        };
        assert!(untouched(dir.path(), &owned));
        std::fs::write(dir.path().join("SKILL.md"), "edited").unwrap();
        assert!(!untouched(dir.path(), &owned));
        std::fs::write(dir.path().join("SKILL.md"), "---\nname: x\n---\n").unwrap();
        remove_skill(dir.path(), &owned);
        assert!(!dir.path().join("scripts").exists());
    }
}
