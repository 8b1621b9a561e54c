//! Starting Codex: `codex` on PATH (or `$CDX_CODEX_BIN`), the user's arguments, stdin, stdout
//! and stderr inherited, its exit code passed through (a death by signal n is 128 + n).
//! On unix, SIGTERM and SIGHUP sent to cdx are forwarded to Codex; SIGINT too, unless cdx runs
//! in the terminal's foreground process group (Ctrl-C then reached Codex already, and a second
//! copy would count as a second Ctrl-C).

use std::ffi::OsString;
use std::path::Path;

use crate::error::{CdxError, code};
use crate::state::State;

/// The Codex binary to run.
pub fn codex_bin() -> OsString {
    std::env::var_os("CDX_CODEX_BIN")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "codex".into())
}

fn valid_profile_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s != "config"
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `cdx <profile> …` → `codex -p <profile> …` when that profile exists (its file under
/// CODEX_HOME, or a profile the fleet sent); else the fleet's default profile when the user
/// names none; else the arguments unchanged.
pub fn codex_args(
    args: &[OsString],
    codex_home: &Path,
    state: &State,
    default_profile: Option<&str>,
) -> Vec<OsString> {
    let exists = |name: &str| {
        valid_profile_name(name)
            && (codex_home.join(format!("{name}.config.toml")).is_file()
                || state.profiles.contains_key(name))
    };
    if let Some(first) = args.first().and_then(|a| a.to_str())
        && exists(first)
    {
        let mut out: Vec<OsString> = vec!["-p".into(), first.into()];
        out.extend(args[1..].iter().cloned());
        return out;
    }
    let names_profile = args.iter().any(|a| {
        a.to_str()
            .is_some_and(|s| s == "-p" || s == "--profile" || s.starts_with("--profile="))
    });
    if let Some(d) = default_profile
        && !names_profile
        && codex_home.join(format!("{d}.config.toml")).is_file()
        && valid_profile_name(d)
    {
        let mut out: Vec<OsString> = vec!["-p".into(), d.into()];
        out.extend(args.iter().cloned());
        return out;
    }
    args.to_vec()
}

/// The exit code a shell would report for this status.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    if let Some(c) = status.code() {
        return c;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    code::SOFTWARE
}

/// Runs Codex to completion and returns its exit code.
pub async fn run_codex(bin: &OsString, args: &[OsString]) -> Result<i32, CdxError> {
    let mut child = tokio::process::Command::new(bin)
        .args(args)
        .kill_on_drop(false)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CdxError::Codex(
                format!(
                    "cdx: Codex was not found ({}); install it with `npm install -g @openai/codex`",
                    bin.to_string_lossy()
                ),
                code::NOT_FOUND,
            ),
            _ => CdxError::Codex(
                format!("cdx: cannot start {}: {e}", bin.to_string_lossy()),
                code::NOT_EXECUTABLE,
            ),
        })?;
    #[cfg(unix)]
    {
        forward_signals_until_exit(&mut child).await
    }
    #[cfg(not(unix))]
    {
        let status = child.wait().await?;
        Ok(exit_code(status))
    }
}

#[cfg(unix)]
async fn forward_signals_until_exit(child: &mut tokio::process::Child) -> Result<i32, CdxError> {
    use tokio::signal::unix::{SignalKind, signal};
    let pid = child.id().and_then(|p| i32::try_from(p).ok());
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let send = |sig: i32| {
        if let Some(pid) = pid {
            // SAFETY: kill(2) with a pid we spawned and a valid signal number.
            unsafe {
                libc::kill(pid, sig);
            }
        }
    };
    loop {
        tokio::select! {
            status = child.wait() => return Ok(exit_code(status?)),
            _ = int.recv() => {
                if !in_foreground_of_terminal() {
                    send(libc::SIGINT);
                }
            }
            _ = term.recv() => send(libc::SIGTERM),
            _ = hup.recv() => send(libc::SIGHUP),
        }
    }
}

/// Whether cdx's process group is the foreground group of the terminal on stdin.
#[cfg(unix)]
fn in_foreground_of_terminal() -> bool {
    // SAFETY: plain queries without pointers.
    unsafe {
        let fg = libc::tcgetpgrp(0);
        fg > 0 && fg == libc::getpgrp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn profile_alias() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fast.config.toml"), "").unwrap();
        let st = State::default();
        assert_eq!(
            codex_args(&os(&["fast", "exec", "hi"]), dir.path(), &st, None),
            os(&["-p", "fast", "exec", "hi"])
        );
        assert_eq!(
            codex_args(&os(&["exec", "hi"]), dir.path(), &st, None),
            os(&["exec", "hi"])
        );
        assert_eq!(
            codex_args(&os(&["exec", "hi"]), dir.path(), &st, Some("fast")),
            os(&["-p", "fast", "exec", "hi"])
        );
        assert_eq!(
            codex_args(&os(&["-p", "x", "exec"]), dir.path(), &st, Some("fast")),
            os(&["-p", "x", "exec"])
        );
        // A default whose file is not there is not passed (Codex would fail).
        assert_eq!(
            codex_args(&os(&["exec"]), dir.path(), &st, Some("gone")),
            os(&["exec"])
        );
        assert_eq!(
            codex_args(&os(&["../x"]), dir.path(), &st, None),
            os(&["../x"])
        );
    }

    #[cfg(unix)]
    #[test]
    fn exit_codes_pass_through() {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(exit_code(std::process::ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(std::process::ExitStatus::from_raw(15)), 143);
    }
}
