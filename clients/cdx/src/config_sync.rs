//! `config.toml` and profile files (`POST /config/retrieve`). The fleet's base config is merged
//! into the person's own `config.toml` (see `merge`); profile files
//! (`$CODEX_HOME/<name>.config.toml`) belong to the fleet and are written whole. A file or key
//! is removed only when cdx wrote it before (recorded in the state file).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::api::{Api, ApiError};
use crate::config::Paths;
use crate::digest::sha256_hex;
use crate::files;
use crate::merge;
use crate::state::{ProfileFile, State};

/// What the config exchange changed, and the profile the fleet wants by default.
#[derive(Debug, Default)]
pub struct ConfigOutcome {
    pub status: String,
    pub default_profile: Option<String>,
    pub changed: Vec<String>,
    /// A problem that did not stop the run (e.g. the person's config.toml is not valid TOML).
    pub warning: Option<String>,
}

/// The body of `/config/retrieve`: the digests of what cdx applied, or none when the local
/// files were changed since (so the server sends the content again).
pub fn request_body(paths: &Paths, state: &State) -> Value {
    let local_sha = |p: &Path| {
        files::read_optional(p)
            .ok()
            .flatten()
            .map(|t| sha256_hex(t.as_bytes()))
    };
    let mut body = json!({});
    if state.config_sha256.is_some() && local_sha(&paths.config_toml()).is_some() {
        body["sha256"] = json!(state.config_sha256);
    }
    let profiles: BTreeMap<&str, String> = state
        .profiles
        .iter()
        .map(|(name, f)| {
            let have = local_sha(&paths.codex_home.join(&f.filename));
            let sha = if have.as_deref() == Some(f.sha256.as_str()) {
                f.sha256.clone()
            } else {
                String::new()
            };
            (name.as_str(), sha)
        })
        .collect();
    body["profiles"] = json!(profiles);
    if let Some(req) = paths.requirements_toml()
        && let Some(sha) = &state.requirements_sha256
        && local_sha(&req).as_deref() == Some(sha.as_str())
    {
        body["requirements_sha256"] = json!(sha);
    }
    body
}

pub async fn fetch(api: &Api, paths: &Paths, state: &State) -> Result<Value, ApiError> {
    api.post_json("/config/retrieve", &request_body(paths, state))
        .await
}

/// A profile file name the server may name: `<name>.config.toml`, no path separators.
fn safe_filename(name: &str) -> bool {
    !name.is_empty()
        && name.ends_with(".config.toml")
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Applies a `/config/retrieve` answer to the files and the state.
pub fn apply(data: &Value, paths: &Paths, state: &mut State) -> Result<ConfigOutcome, String> {
    let status = data
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut out = ConfigOutcome {
        default_profile: data
            .get("default_profile")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        ..ConfigOutcome::default()
    };
    let e = |e: crate::error::CdxError| e.to_string();
    let path = paths.config_toml();
    match status.as_str() {
        "updated" => {
            let fleet = data.get("content").and_then(Value::as_str).unwrap_or("");
            match base_config(&path, fleet, state) {
                Ok(changed) => {
                    state.config_sha256 = data
                        .get("sha256")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    if changed {
                        out.changed.push("config.toml".into());
                    }
                }
                Err(msg) => out.warning = Some(msg),
            }
        }
        "missing" => {
            if !state.config_keys.is_empty() {
                match base_config(&path, "", state) {
                    Ok(_) => out.changed.push("config.toml".into()),
                    Err(msg) => out.warning = Some(msg),
                }
            }
            state.config_sha256 = None;
        }
        _ => {}
    }
    // Profiles: listed ones are written when the answer carries their content; profiles cdx
    // wrote before that are no longer listed are removed.
    let listed: Vec<&Value> = match data.get("profiles") {
        Some(Value::Array(a)) => a.iter().collect(),
        _ => Vec::new(),
    };
    let mut keep = BTreeMap::new();
    for p in listed {
        let (Some(name), Some(filename)) = (
            p.get("name").and_then(Value::as_str),
            p.get("filename").and_then(Value::as_str),
        ) else {
            continue;
        };
        if !safe_filename(filename) || filename == "config.toml" {
            continue;
        }
        let sha = p.get("sha256").and_then(Value::as_str).unwrap_or_default();
        if let Some(content) = p.get("content").and_then(Value::as_str) {
            let target = paths.codex_home.join(filename);
            let have = files::read_optional(&target).map_err(e)?;
            if have.as_deref() != Some(content) {
                files::write_atomic(&target, content.as_bytes(), files::SECRET).map_err(e)?;
                out.changed.push(filename.to_string());
            }
        }
        keep.insert(
            name.to_string(),
            ProfileFile {
                filename: filename.to_string(),
                sha256: sha.to_string(),
            },
        );
    }
    for (name, f) in &state.profiles {
        if !keep.contains_key(name) && !keep.values().any(|k| k.filename == f.filename) {
            files::remove(&paths.codex_home.join(&f.filename)).map_err(e)?;
            out.changed.push(format!("-{}", f.filename));
        }
    }
    state.profiles = keep;
    if let Some(path) = paths.requirements_toml() {
        requirements(data.get("requirements"), &path, state, &mut out).map_err(e)?;
    }
    out.status = status;
    Ok(out)
}

/// The fleet's enforced policy in Codex's system directory (root only). A requirements.toml
/// cdx did not write (the machine's own) is never replaced or removed.
fn requirements(
    answer: Option<&Value>,
    path: &Path,
    state: &mut State,
    out: &mut ConfigOutcome,
) -> Result<(), crate::error::CdxError> {
    let Some(answer) = answer else {
        return Ok(());
    };
    let have = files::read_optional(path)?.map(|t| sha256_hex(t.as_bytes()));
    let ours = match (&have, &state.requirements_sha256) {
        (None, _) => true,
        (Some(h), Some(r)) => h == r,
        (Some(_), None) => false,
    };
    match answer.get("status").and_then(Value::as_str) {
        Some("updated") => {
            let content = answer.get("content").and_then(Value::as_str).unwrap_or("");
            if !ours {
                out.warning = Some(format!(
                    "{} was not written by cdx; the fleet's requirements were not installed",
                    path.display()
                ));
                return Ok(());
            }
            // World-readable: Codex run by any user on the machine enforces it.
            files::write_atomic(path, content.as_bytes(), 0o644)?;
            state.requirements_sha256 = Some(sha256_hex(content.as_bytes()));
            out.changed.push(path.display().to_string());
        }
        Some("missing") => {
            if have.is_some() && ours && state.requirements_sha256.is_some() {
                files::remove(path)?;
                out.changed.push(format!("-{}", path.display()));
            }
            state.requirements_sha256 = None;
        }
        _ => {}
    }
    Ok(())
}

/// Merges the fleet's base config (empty: none) into config.toml; true when the file changed.
fn base_config(path: &Path, fleet: &str, state: &mut State) -> Result<bool, String> {
    let current = files::read_optional(path).map_err(|e| e.to_string())?;
    let (text, keys) = match &current {
        // Nothing of the person's: the fleet's file as it was baked, comments included.
        None => {
            state.config_created = true;
            let keys = fleet
                .parse::<toml_edit::DocumentMut>()
                .map(|d| merge::leaf_paths(&d))
                .map_err(|e| {
                    format!(
                        "the fleet's config.toml is not valid TOML ({})",
                        e.message()
                    )
                })?;
            (fleet.to_string(), keys)
        }
        Some(user) => merge::merge(user, fleet, &state.config_keys)
            .map_err(|m| format!("{m}; {} left as it is", path.display()))?,
    };
    state.config_keys = keys;
    if text.trim().is_empty() && state.config_created {
        files::remove(path).map_err(|e| e.to_string())?;
        state.config_created = false;
        return Ok(current.is_some());
    }
    if current.as_deref() == Some(text.as_str()) {
        return Ok(false);
    }
    if current.is_none() && text.is_empty() {
        return Ok(false);
    }
    files::write_atomic(path, text.as_bytes(), files::SECRET).map_err(|e| e.to_string())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(dir: &Path) -> Paths {
        Paths {
            codex_home: dir.join("codex"),
            state_dir: dir.join("state"),
            system_dir: Some(dir.join("etc-codex")),
        }
    }

    const FLEET: &str = "model = \"gpt-5\"\n\n[mcp_servers.cdx]\nurl = \"http://x/mcp\"\n";

    #[test]
    fn writes_merges_and_removes_only_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        let mut st = State::default();
        let answer = json!({"status": "updated", "sha256": "s1", "content": FLEET,
            "profiles": [{"name": "fast", "filename": "fast.config.toml", "sha256": "f1", "content": "model = \"mini\"\n"},
                         {"name": "evil", "filename": "../evil.config.toml", "sha256": "x", "content": "x"}],
            "default_profile": "fast"});
        let out = apply(&answer, &p, &mut st).unwrap();
        assert_eq!(out.default_profile.as_deref(), Some("fast"));
        assert_eq!(std::fs::read_to_string(p.config_toml()).unwrap(), FLEET);
        assert!(p.codex_home.join("fast.config.toml").exists());
        assert!(!dir.path().join("evil.config.toml").exists());
        assert_eq!(st.config_sha256.as_deref(), Some("s1"));
        assert!(st.config_created);
        // The person adds their own server; the fleet's next version drops its MCP entry.
        let mine = format!("{FLEET}\n# mine\n[mcp_servers.mine]\ncommand = \"srv\"\n");
        std::fs::write(p.config_toml(), &mine).unwrap();
        let body = request_body(&p, &st);
        assert_eq!(body["sha256"], "s1");
        assert_eq!(body["profiles"]["fast"], "");
        let answer = json!({"status": "updated", "sha256": "s2", "content": "model = \"gpt-5.1\"\n", "profiles": []});
        apply(&answer, &p, &mut st).unwrap();
        let text = std::fs::read_to_string(p.config_toml()).unwrap();
        assert!(
            text.contains("# mine") && text.contains("command = \"srv\""),
            "{text}"
        );
        assert!(
            text.contains("gpt-5.1") && !text.contains("mcp_servers.cdx"),
            "{text}"
        );
        assert!(!p.codex_home.join("fast.config.toml").exists());
        // No fleet config any more: the person's part stays.
        apply(&json!({"status": "missing", "profiles": []}), &p, &mut st).unwrap();
        let text = std::fs::read_to_string(p.config_toml()).unwrap();
        assert!(
            !text.contains("model") && text.contains("[mcp_servers.mine]"),
            "{text}"
        );
        assert_eq!(st.config_sha256, None);
    }

    #[test]
    fn requirements_go_to_the_system_dir_and_the_machines_own_stays() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        let req = p.requirements_toml().unwrap();
        let mut st = State::default();
        let policy = "allowed_sandbox_modes = [\"read-only\"]\n";
        let answer = json!({"status": "unchanged", "profiles": [],
            "requirements": {"status": "updated", "content": policy}});
        apply(&answer, &p, &mut st).unwrap();
        assert_eq!(std::fs::read_to_string(&req).unwrap(), policy);
        assert_eq!(
            request_body(&p, &st)["requirements_sha256"],
            sha256_hex(policy.as_bytes())
        );
        let gone = json!({"status": "unchanged", "requirements": {"status": "missing"}});
        apply(&gone, &p, &mut st).unwrap();
        assert!(!req.exists());
        // The machine's own file is neither replaced nor removed.
        std::fs::write(&req, "mine = true\n").unwrap();
        let out = apply(&answer, &p, &mut st).unwrap();
        assert!(out.warning.is_some());
        apply(&gone, &p, &mut st).unwrap();
        assert_eq!(std::fs::read_to_string(&req).unwrap(), "mine = true\n");
        // Not root: nothing is written there.
        let user = Paths {
            system_dir: None,
            ..p.clone()
        };
        std::fs::remove_file(&req).unwrap();
        apply(&answer, &user, &mut State::default()).unwrap();
        assert!(!req.exists());
    }

    #[test]
    fn missing_removes_a_file_cdx_created_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        let mut st = State::default();
        apply(&json!({"status": "missing"}), &p, &mut st).unwrap();
        assert!(!p.config_toml().exists());
        std::fs::create_dir_all(&p.codex_home).unwrap();
        std::fs::write(p.config_toml(), "model = \"mine\"\n").unwrap();
        apply(&json!({"status": "missing"}), &p, &mut st).unwrap();
        assert_eq!(
            std::fs::read_to_string(p.config_toml()).unwrap(),
            "model = \"mine\"\n"
        );
        std::fs::remove_file(p.config_toml()).unwrap();
        apply(
            &json!({"status": "updated", "sha256": "a", "content": FLEET}),
            &p,
            &mut st,
        )
        .unwrap();
        apply(&json!({"status": "missing"}), &p, &mut st).unwrap();
        assert!(!p.config_toml().exists());
    }
}
