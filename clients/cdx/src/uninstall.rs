//! `cdx --uninstall`: deregisters the host (`DELETE /auth`, which retires its key), then removes
//! what cdx put on the machine: the fleet's keys in config.toml and the profile files it wrote,
//! AGENTS.md and prompts still exactly as cdx wrote them, the fleet's auth.json, cdx's state,
//! its configuration (with the CA file the installer wrote beside it) and the binary itself.
//! A person's own Codex settings and edited files stay. When the server cannot be reached
//! nothing is removed unless `--force` is given (the key would stay valid on the server).

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::api::{Api, ApiError};
use crate::config::{CdxConfig, Paths};
use crate::content_sync::{self, Owned};
use crate::error::CdxError;
use crate::state::State;
use crate::{config_sync, files, skills_sync};

pub struct Report {
    pub deregistered: bool,
    pub removed: Vec<String>,
    pub kept: Vec<String>,
}

pub async fn run(
    cfg: &CdxConfig,
    paths: &Paths,
    exe: Option<PathBuf>,
    force: bool,
) -> Result<Report, CdxError> {
    let api = Api::new(cfg).map_err(CdxError::Config)?;
    let deregistered = match api.call(reqwest::Method::DELETE, "/auth", None).await {
        Ok(_) => true,
        // The key no longer works: the host is already gone on the server.
        Err(ApiError::Denied(m)) if m.contains(" 401 ") => true,
        Err(e) if force => {
            eprintln!(
                "cdx: warning: the server did not deregister this host ({e}); removing anyway"
            );
            false
        }
        Err(e) => {
            let hint = "cdx: nothing was removed; `cdx --uninstall --force` removes cdx anyway \
                        (then ask your admin to delete this host on the server)";
            return Err(match CdxError::from(e) {
                CdxError::Denied(m) => CdxError::Denied(format!("{m}\n{hint}")),
                CdxError::KillSwitch(m) => CdxError::KillSwitch(format!("{m}\n{hint}")),
                CdxError::Offline(m) => CdxError::Offline(format!("{m}\n{hint}")),
                other => CdxError::Other(format!("{other}\n{hint}")),
            });
        }
    };
    let mut report = Report {
        deregistered,
        removed: Vec::new(),
        kept: Vec::new(),
    };
    let state_path = paths.state_file();
    let mut state = State::load(&state_path);

    // The fleet's part of config.toml and its profile files, as if the fleet sent nothing.
    let gone = json!({"status": "missing", "profiles": [], "requirements": {"status": "missing"}});
    match config_sync::apply(&gone, paths, &mut state) {
        Ok(out) => report.removed.extend(out.changed),
        Err(e) => report.kept.push(format!("config.toml ({e})")),
    }
    let owned = Owned {
        agents_sha256: state.agents_sha256.clone(),
        prompts: state.prompts.clone(),
    };
    let (removed, kept) = content_sync::remove_owned(&paths.codex_home, &owned);
    report.removed.extend(removed);
    report.kept.extend(kept);
    let (removed, kept) = skills_sync::remove_all(&paths.codex_home, &state.skills);
    report.removed.extend(removed);
    report.kept.extend(kept);

    let mut remove = |path: &Path, label: String| {
        if path.exists() {
            match files::remove(path) {
                Ok(()) => report.removed.push(label),
                Err(e) => report.kept.push(format!("{label} ({e})")),
            }
        }
    };
    remove(&paths.auth_json(), paths.auth_json().display().to_string());
    remove(&state_path, state_path.display().to_string());
    let _ = std::fs::remove_dir(&paths.state_dir);
    if let Some(ca) = &cfg.ca_file
        && ca.parent() == cfg.path.parent()
    {
        remove(ca, ca.display().to_string());
    }
    remove(&cfg.path, cfg.path.display().to_string());
    if let Some(dir) = cfg.path.parent() {
        let _ = std::fs::remove_dir(dir);
    }
    if let Some(exe) = exe {
        remove(&exe, exe.display().to_string());
    }
    Ok(report)
}
