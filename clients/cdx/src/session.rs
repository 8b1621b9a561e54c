//! While Codex runs: a marker file per cdx run (so only the last run to finish purges auth.json
//! on an insecure host, never one another terminal's Codex still reads), and a background task
//! that keeps auth.json in step with the server (Codex re-reads the file after a 401, so a host
//! never has to refresh tokens itself during a long session).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::api::Api;
use crate::auth_sync;

/// How often a running session re-syncs auth.json (`CDX_AUTH_SYNC_SECS` overrides, ≥ 1).
pub fn auth_sync_interval() -> Duration {
    let secs = std::env::var("CDX_AUTH_SYNC_SECS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s >= 1)
        .unwrap_or(300);
    Duration::from_secs(secs)
}

/// `retrieve` (and `store` when the local copy is newer) every `every` until aborted. Failures
/// are quiet: the next tick tries again and the run's own checks already spoke.
pub fn keep_auth_fresh(
    api: Arc<Api>,
    auth_path: PathBuf,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            let _ = auth_sync::sync(&api, &auth_path).await;
        }
    })
}

/// `<state_dir>/runs/<pid>` while this run's Codex is alive; removed on drop.
pub struct RunMarker {
    path: PathBuf,
}

impl RunMarker {
    pub fn create(state_dir: &Path) -> RunMarker {
        let path = state_dir.join("runs").join(std::process::id().to_string());
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(&path, b"");
        RunMarker { path }
    }

    /// Whether another cdx run (a live process with a marker) is using auth.json.
    pub fn others_alive(&self) -> bool {
        let Some(dir) = self.path.parent() else {
            return false;
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return false;
        };
        entries.flatten().any(|e| {
            let p = e.path();
            if p == self.path {
                return false;
            }
            let alive = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(process_alive);
            if !alive {
                // A run that died without cleaning up.
                let _ = std::fs::remove_file(&p);
            }
            alive
        })
    }
}

impl Drop for RunMarker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(unix)]
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_alive(_pid: u32) -> bool {
    // Without a cheap liveness check, a marker counts as a live run.
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_of_dead_runs_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let me = RunMarker::create(dir.path());
        assert!(!me.others_alive());
        // pid 1 is always alive; a huge pid is not.
        std::fs::write(dir.path().join("runs/1"), b"").unwrap();
        assert!(me.others_alive());
        std::fs::remove_file(dir.path().join("runs/1")).unwrap();
        std::fs::write(dir.path().join("runs/4000000000"), b"").unwrap();
        assert!(!me.others_alive());
        assert!(!dir.path().join("runs/4000000000").exists());
        drop(me);
        assert_eq!(
            std::fs::read_dir(dir.path().join("runs")).unwrap().count(),
            0
        );
    }
}
