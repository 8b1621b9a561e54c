//! One `cdx` run: sync, judge, start Codex, then report usage and a refreshed auth.json.

use std::ffi::OsString;
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::api::Api;
use crate::auth_sync::{self, LocalAuth};
use crate::config::{CdxConfig, Paths};
use crate::error::CdxError;
use crate::offline::{self, Verdict};
use crate::session::{self, RunMarker};
use crate::state::State;
use crate::{run, sync, usage};

pub struct Ui {
    pub verbose: bool,
    /// The fleet's `cdx_silent`: warnings that do not stop the run are not shown (unless
    /// `--verbose`); errors always are.
    pub silent: bool,
}

impl Ui {
    pub fn info(&self, line: &str) {
        if self.verbose {
            eprintln!("cdx: {line}");
        }
    }

    pub fn warn(&self, line: &str) {
        if self.verbose || !self.silent {
            eprintln!("{line}");
        }
    }
}

pub async fn main_run(
    cfg: &CdxConfig,
    paths: &Paths,
    args: &[OsString],
    ui: &mut Ui,
) -> Result<i32, CdxError> {
    let api = Arc::new(Api::new(cfg).map_err(CdxError::Config)?);
    let state_path = paths.state_file();
    let mut state = State::load(&state_path);

    let started = std::time::Instant::now();
    let was_silent = state
        .versions
        .as_ref()
        .and_then(|v| v.get("cdx_silent"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let report = crate::progress::spin(
        "syncing with the server",
        crate::progress::allowed(was_silent),
        sync::run(&api, paths, &mut state),
    )
    .await;
    ui.info(&format!("sync took {} ms", started.elapsed().as_millis()));
    ui.silent = report.silent();

    let mut default_profile = None;
    match &report.auth {
        Ok(a) => ui.info(&format!(
            "auth.json: {}{}",
            a.status,
            if a.wrote {
                " (updated from the server)"
            } else {
                ""
            }
        )),
        Err(e) => ui.info(&format!("auth.json: {e}")),
    }
    match &report.config {
        Ok(c) => {
            ui.info(&format!("config: {} {}", c.status, c.changed.join(" ")));
            if let Some(w) = &c.warning {
                ui.warn(&format!("cdx: warning: {w}"));
            }
            default_profile = c.default_profile.clone();
        }
        Err(e) => ui.info(&format!("config: {e}")),
    }
    match &report.content {
        Ok(c) => {
            ui.info(&format!("AGENTS.md and prompts: {}", c.changed.join(" ")));
            if !c.kept.is_empty() {
                ui.info(&format!("kept your own version of {}", c.kept.join(" ")));
            }
        }
        Err(e) => ui.info(&format!("AGENTS.md and prompts: {e}")),
    }
    match &report.skills {
        Ok(s) => {
            ui.info(&format!("skills: {}", s.changed.join(" ")));
            if !s.kept.is_empty() {
                ui.info(&format!("kept your own version of {}", s.kept.join(" ")));
            }
        }
        Err(e) => ui.info(&format!("skills: {e}")),
    }
    if let Err(e) = &report.versions {
        ui.info(&format!("versions: {e}"));
    }

    let verdict = if report.api_disabled() {
        Some(Verdict::Stop(CdxError::KillSwitch(
            "cdx: the fleet's API is disabled by an administrator; Codex is not started".into(),
        )))
    } else {
        report.blocking_error().map(|err| {
            offline::judge(
                &err,
                state.last_sync,
                state.host_secure.or(cfg.secure),
                paths.auth_json().is_file(),
                Utc::now(),
            )
        })
    };
    let online = verdict.is_none();
    match verdict {
        Some(Verdict::Stop(e)) => {
            state.last_outcome = Some(format!("refused: {e}"));
            let _ = state.save(&state_path);
            return Err(e);
        }
        Some(Verdict::Continue(warning)) => {
            ui.warn(&warning);
            state.last_outcome = Some("offline: cached auth.json".into());
        }
        None => {}
    }
    if let Ok(a) = &report.auth
        && a.quota_exceeded
    {
        let why = a
            .quota_reason
            .as_deref()
            .unwrap_or("the fleet is over its quota");
        state.last_outcome = Some(format!("refused: quota ({why})"));
        let _ = state.save(&state_path);
        return Err(CdxError::Quota(format!(
            "cdx: quota policy: {why}; Codex is not started (ask your fleet admin)"
        )));
    }
    codex_version_hint(&mut state, ui).await;
    state.save(&state_path)?;

    let codex_args = run::codex_args(args, &paths.codex_home, &state, default_profile.as_deref());
    let run_start = SystemTime::now();
    let marker = RunMarker::create(&paths.state_dir);
    let fresh = online.then(|| {
        session::keep_auth_fresh(
            api.clone(),
            paths.auth_json(),
            session::auth_sync_interval(),
        )
    });
    let ran = run::run_codex(&run::codex_bin(), &codex_args).await;
    if let Some(task) = fresh {
        task.abort();
    }
    let code = ran?;

    let stored = after_run(&api, paths, &mut state, run_start, online, ui).await;
    if state.host_secure.or(cfg.secure) == Some(false) {
        purge_auth(paths, &mut state, &marker, stored, ui);
    }
    drop(marker);
    state.save(&state_path)?;
    Ok(code)
}

/// A one-line hint when the installed Codex is not the fleet's version. `codex --version` runs
/// only when the target changed since the last look (it costs a Node start-up).
async fn codex_version_hint(state: &mut State, ui: &Ui) {
    let Some(target) =
        crate::update::codex_target(state.codex_pin.as_deref(), state.versions.as_ref())
    else {
        return;
    };
    let known = state.codex_seen.as_ref().filter(|(t, _)| *t == target);
    let installed = match known {
        Some((_, installed)) => installed.clone(),
        None => {
            let installed = crate::update::installed_codex(&run::codex_bin()).await;
            state.codex_seen = Some((target.clone(), installed.clone()));
            installed
        }
    };
    if let Some(have) = installed
        && have != target
    {
        ui.warn(&format!(
            "cdx: Codex {have} is installed, the fleet runs {target}: `cdx --update` installs it"
        ));
    }
}

/// Insecure hosts keep no credentials between runs: auth.json goes when the last cdx run on the
/// host ends. A copy Codex refreshed that could not reach the server is kept (and warned
/// about): its rotated refresh token may be the only valid one, for the whole fleet.
fn purge_auth(paths: &Paths, state: &mut State, marker: &RunMarker, stored: bool, ui: &Ui) {
    if marker.others_alive() {
        ui.info("auth.json: kept, another cdx run on this host still uses it");
        return;
    }
    if !stored {
        ui.warn(
            "cdx: warning: auth.json was refreshed by Codex but not stored on the server; \
             it stays until the next run stores it (insecure host)",
        );
        return;
    }
    match crate::files::remove(&paths.auth_json()) {
        Ok(()) => {
            state.auth_digest = None;
            ui.info("auth.json: removed (insecure host)");
        }
        Err(e) => ui.warn(&format!("cdx: warning: could not remove auth.json: {e}")),
    }
}

/// Usage and a refreshed auth.json. Failures here never change Codex's exit code: usage is
/// retried next run, a refreshed auth.json is offered again on the next sync.
async fn after_run(
    api: &Api,
    paths: &Paths,
    state: &mut State,
    run_start: SystemTime,
    online: bool,
    ui: &Ui,
) -> bool {
    let mut files = usage::written_since(&usage::rollout_files(&paths.codex_home), run_start);
    for p in std::mem::take(&mut state.pending_usage) {
        if !files.contains(&p) && p.is_file() {
            files.push(p);
        }
    }
    if !files.is_empty() {
        let out = usage::report(api, &files).await;
        if let Some(e) = &out.error {
            ui.info(&format!("usage: kept for the next run ({e})"));
        } else {
            state.last_usage_push = Some(Utc::now());
        }
        ui.info(&format!(
            "usage: {} recorded, {} already known, {} file(s) pending",
            out.recorded,
            out.duplicates,
            out.failed.len()
        ));
        state.pending_usage = out.failed;
    }

    if online {
        let pushed = crate::content_sync::push_edits(
            api,
            &paths.codex_home,
            &mut state.prompts,
            &mut state.prompts_offered,
        )
        .await;
        for (name, status) in &pushed.pushed {
            ui.info(&format!(
                "prompts/{name}: your edit offered to the fleet ({status})"
            ));
        }
        if let Some(why) = &pushed.refused {
            ui.info(&format!("prompt edits stay local: {why}"));
        }
    }

    // Codex refreshed its tokens during the run: give the server the newer copy.
    let local = LocalAuth::read(&paths.auth_json());
    let Some(compact) = &local.compact else {
        return true;
    };
    let changed = state.auth_digest.as_deref() != Some(local.digest.as_str());
    if !changed || !newer(&local.last_refresh, state.canonical_last_refresh.as_deref()) {
        return true;
    }
    if !online {
        ui.info("auth.json: refreshed by Codex while offline; stored on the next sync");
        return false;
    }
    match auth_sync::store(api, compact).await {
        Ok((data, _)) => {
            let status = data.get("status").and_then(|s| s.as_str()).unwrap_or("?");
            ui.info(&format!("auth.json: refreshed by Codex, store {status}"));
            state.auth_digest = Some(local.digest.clone());
            if let Some(lr) = data.get("canonical_last_refresh").and_then(|s| s.as_str()) {
                state.canonical_last_refresh = Some(lr.to_string());
            }
            true
        }
        Err(e) => {
            ui.info(&format!("auth.json: store failed ({e}); retried next run"));
            false
        }
    }
}

/// Whether `local` is a later instant than `canonical` (unparseable: not newer).
pub fn newer(local: &str, canonical: Option<&str>) -> bool {
    let parse = |s: &str| DateTime::parse_from_rfc3339(s).ok();
    match (parse(local), canonical.and_then(parse)) {
        (Some(l), Some(c)) => l > c,
        (Some(_), None) => canonical.is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_compares_instants() {
        assert!(newer(
            "2026-11-23T18:00:00Z",
            Some("2026-11-23T17:57:41.929059500Z")
        ));
        assert!(!newer(
            "2026-11-23T17:00:00Z",
            Some("2026-11-23T18:30:00+01:00")
        ));
        assert!(newer(
            "2026-11-23T17:31:00Z",
            Some("2026-11-23T18:30:00+01:00")
        ));
        assert!(!newer("soon", Some("2026-11-23T17:00:00Z")));
        assert!(newer("2026-11-23T17:00:00Z", None));
    }
}
