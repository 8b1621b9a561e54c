//! An optional validation probe for the canonical Codex `auth.json`: run an operator-configured
//! shell command (say `codex exec 'say ok'`) against the document in a throwaway `CODEX_HOME`,
//! and hand back whatever refreshed document the command left behind.
//!
//! Bounded in time (the child is killed on timeout) and in output (only `max_output` bytes are
//! kept, the rest is drained). Known secrets and token-shaped strings never reach the reason.
//!
//! The command runs in its own process group, but without `libc` only the `sh` itself is killed
//! on timeout: grandchildren it started may outlive the probe. They cannot stall it, since the
//! pipes are abandoned on timeout rather than read to the end.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::process::{ChildStderr, ChildStdout, Command};

const AUTH_FILE: &str = "auth.json";
const REDACTED: &str = "[redacted]";
/// Characters of output kept at the end of a failure reason.
const TAIL_CHARS: usize = 400;
/// Shorter strings under `tokens` are not secrets worth hiding (and would redact noise).
const MIN_SECRET_LEN: usize = 8;
/// A secret cut by the output bound is hidden when at least this much of its start survived.
const MIN_PARTIAL_LEN: usize = 4;
/// A rewritten `auth.json` larger than this is not taken back.
const MAX_AUTH_JSON_BYTES: u64 = 1024 * 1024;
/// How long a killed child gets to be reaped.
const REAP_GRACE: Duration = Duration::from_secs(1);

pub struct ProbeConfig {
    /// Run as `sh -c <command>`.
    pub command: String,
    pub timeout: Duration,
    /// Bytes of combined stdout+stderr kept for the reason text (the rest is drained and dropped).
    pub max_output: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub ok: bool,
    /// Short human text: "exit 0" / "exit status 3: <tail of output>" / "timed out after 30 s" /
    /// "could not start: ..."; secrets redacted; at most ~420 chars.
    pub reason: String,
    pub latency: Duration,
    pub exit_code: Option<i32>,
    /// The auth.json text the command left in CODEX_HOME when its bytes differ from what was
    /// written; None otherwise (also None if the file was deleted or is not valid UTF-8). Read
    /// even after a failure or timeout, since Codex may have rotated the refresh token before
    /// failing; the caller must still validate it.
    pub refreshed_auth_json: Option<String>,
}

/// Runs the probe; never fails, every problem is described in the result.
pub async fn run(config: &ProbeConfig, auth_json: &str) -> ProbeResult {
    let started = Instant::now();
    let dir = tempfile::TempDir::new();
    let (outcome, refreshed) = match &dir {
        Ok(dir) => {
            let path = dir.path().join(AUTH_FILE);
            let outcome = run_in(dir.path(), config, auth_json).await;
            (outcome, read_refreshed(&path, auth_json).await)
        }
        Err(e) => (
            Outcome::Failed(format!("could not start: temporary directory: {e}")),
            None,
        ),
    };
    let latency = started.elapsed();
    if let Ok(dir) = dir {
        let closed = tokio::task::spawn_blocking(move || dir.close()).await;
        if let Err(e) = closed.map_err(std::io::Error::other).flatten() {
            tracing::warn!(error = %e, "could not remove the probe's CODEX_HOME");
        }
    }

    let mut secrets = secrets_in(auth_json);
    secrets.extend(refreshed.as_deref().map(secrets_in).unwrap_or_default());
    // Longest first, so a secret containing another is replaced whole.
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    secrets.dedup();

    let (ok, exit_code, reason) = match outcome {
        Outcome::Failed(reason) => (false, None, reason),
        Outcome::TimedOut => (
            false,
            None,
            format!("timed out after {}", human(config.timeout)),
        ),
        Outcome::Exited(status, output) => {
            let tail = output_tail(&output, &secrets);
            let head = match status.code() {
                Some(0) => "exit 0".to_owned(),
                Some(code) => format!("exit status {code}"),
                None => format!("terminated ({status})"),
            };
            let reason = match status.success() || tail.is_empty() {
                true => head,
                false => format!("{head}: {tail}"),
            };
            (status.success(), status.code(), reason)
        }
    };
    tracing::debug!(ok, ?exit_code, ?latency, %reason, "auth probe finished");
    let refreshed_auth_json = refreshed;
    ProbeResult {
        ok,
        reason,
        latency,
        exit_code,
        refreshed_auth_json,
    }
}

enum Outcome {
    /// The full reason: the command could not start, or its status could not be read.
    Failed(String),
    TimedOut,
    Exited(ExitStatus, Captured),
}

async fn run_in(dir: &Path, config: &ProbeConfig, auth_json: &str) -> Outcome {
    if let Err(e) = write_private(&dir.join(AUTH_FILE), auth_json).await {
        return Outcome::Failed(format!("could not start: writing {AUTH_FILE}: {e}"));
    }
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(&config.command)
        .env("CODEX_HOME", dir)
        // The probe tests the document, not keys the server happens to have in its environment.
        .env_remove("OPENAI_API_KEY")
        .env_remove("CODEX_API_KEY")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Outcome::Failed(format!("could not start: {e}")),
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Outcome::Failed("could not start: no output pipes".to_owned());
    };
    let bounded = config.max_output;
    let finished = tokio::time::timeout(config.timeout, async {
        tokio::join!(child.wait(), capture(stdout, stderr, bounded))
    })
    .await;
    match finished {
        Ok((Ok(status), output)) => Outcome::Exited(status, output),
        Ok((Err(e), _)) => Outcome::Failed(format!("lost the command: {e}")),
        Err(_elapsed) => {
            // Dropping the capture abandoned the pipes, so a grandchild holding them is harmless.
            let _ = child.start_kill();
            let _ = tokio::time::timeout(REAP_GRACE, child.wait()).await;
            Outcome::TimedOut
        }
    }
}

async fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(text.as_bytes()).await?;
    file.flush().await
}

async fn read_refreshed(path: &Path, written: &str) -> Option<String> {
    let small = tokio::fs::metadata(path).await.ok()?.len() <= MAX_AUTH_JSON_BYTES;
    let bytes = tokio::fs::read(path).await.ok()?;
    String::from_utf8(bytes)
        .ok()
        .filter(|text| small && text != written)
}

fn human(duration: Duration) -> String {
    match duration.subsec_millis() {
        0 => format!("{} s", duration.as_secs()),
        _ => format!("{} ms", duration.as_millis()),
    }
}

/// The first bytes of each stream, kept apart so a secret is never split by the other stream.
#[derive(Default)]
struct Captured {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stdout_cut: bool,
    stderr_cut: bool,
}

/// Reads both pipes to the end, keeping at most `max` bytes in total.
async fn capture(mut stdout: ChildStdout, mut stderr: ChildStderr, max: usize) -> Captured {
    let mut kept = Captured::default();
    let (mut out_open, mut err_open) = (true, true);
    let (mut out_buf, mut err_buf) = (vec![0u8; 8192], vec![0u8; 8192]);
    while out_open || err_open {
        let room = max.saturating_sub(kept.stdout.len() + kept.stderr.len());
        tokio::select! {
            read = stdout.read(&mut out_buf), if out_open => match read {
                Ok(0) | Err(_) => out_open = false,
                Ok(n) => keep(&mut kept.stdout, &mut kept.stdout_cut, &out_buf[..n], room),
            },
            read = stderr.read(&mut err_buf), if err_open => match read {
                Ok(0) | Err(_) => err_open = false,
                Ok(n) => keep(&mut kept.stderr, &mut kept.stderr_cut, &err_buf[..n], room),
            },
        }
    }
    kept
}

fn keep(into: &mut Vec<u8>, cut: &mut bool, chunk: &[u8], room: usize) {
    let take = chunk.len().min(room);
    into.extend_from_slice(&chunk[..take]);
    *cut |= take < chunk.len();
}

/// Every string of at least [`MIN_SECRET_LEN`] chars under `tokens`, and `OPENAI_API_KEY`.
fn secrets_in(auth_json: &str) -> Vec<String> {
    fn collect(value: &Value, into: &mut Vec<String>) {
        match value {
            Value::String(s) if s.len() >= MIN_SECRET_LEN => into.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| collect(v, into)),
            Value::Object(map) => map.values().for_each(|v| collect(v, into)),
            _ => {}
        }
    }
    let mut secrets = Vec::new();
    let doc = serde_json::from_str::<Value>(auth_json).unwrap_or_default();
    for value in ["tokens", "OPENAI_API_KEY"]
        .iter()
        .filter_map(|key| doc.get(key))
    {
        collect(value, &mut secrets);
    }
    secrets
}

/// The redacted, printable last [`TAIL_CHARS`] characters of stdout followed by stderr.
fn output_tail(output: &Captured, secrets: &[String]) -> String {
    let stdout = redact_known(&output.stdout, output.stdout_cut, secrets);
    let stderr = redact_known(&output.stderr, output.stderr_cut, secrets);
    // An empty stream leaves only a newline at an edge, which the trim removes.
    let text = redact_patterns(&printable(&format!("{stdout}\n{stderr}")));
    let text = text.trim();
    let count = text.chars().count();
    if count <= TAIL_CHARS {
        return text.to_owned();
    }
    let tail: String = text.chars().skip(count - TAIL_CHARS).collect();
    format!("…{}", tail.trim_start())
}

/// `bytes` as text with every known secret replaced; when the output bound cut the stream,
/// a trailing start of a secret is replaced too.
fn redact_known(bytes: &[u8], cut: bool, secrets: &[String]) -> String {
    let mut text = String::from_utf8_lossy(bytes).into_owned();
    for secret in secrets {
        text = text.replace(secret.as_str(), REDACTED);
    }
    if cut {
        let partial = secrets.iter().find_map(|secret| {
            (MIN_PARTIAL_LEN..secret.len())
                .rev()
                .filter(|&k| secret.is_char_boundary(k))
                .find(|&k| text.ends_with(&secret[..k]))
        });
        if let Some(k) = partial {
            text.truncate(text.len() - k);
            text.push_str(REDACTED);
        }
    }
    text
}

/// `text` without ANSI escape sequences and control characters (newlines kept, tabs as spaces).
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters up to a final byte in @..~
                Some('[') => while chars.next().is_some_and(|c| !('@'..='~').contains(&c)) {},
                // OSC: up to BEL or ESC \
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `text` with JWT-shaped (`eyJ…`) and OpenAI-key-shaped (`sk-` + 8 or more) strings redacted.
fn redact_patterns(text: &str) -> String {
    fn token_len(bytes: &[u8], dots: bool) -> usize {
        let ok =
            |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-' || (dots && *b == b'.');
        bytes.iter().take_while(|b| ok(b)).count()
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied) = (0, 0);
    while i < bytes.len() {
        let rest = &bytes[i..];
        let len = if rest.starts_with(b"eyJ") {
            Some(3 + token_len(&rest[3..], true))
        } else if rest.starts_with(b"sk-") {
            Some(3 + token_len(&rest[3..], false)).filter(|&n| n >= 3 + 8)
        } else {
            None
        };
        match len {
            // Matches start and end on ASCII bytes, so these are char boundaries.
            Some(len) => {
                out.push_str(&text[copied..i]);
                out.push_str(REDACTED);
                i += len;
                copied = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCESS: &str = "opaque-access-token-0123456789";
    const REFRESH: &str = "rt_refresh_secret_abcdefghijkl";
    const ID_TOKEN: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln";

    async fn probe(command: &str, timeout_ms: u64) -> ProbeResult {
        let tokens = serde_json::json!({"id_token": ID_TOKEN, "access_token": ACCESS, "refresh_token": REFRESH});
        let auth_json = serde_json::json!({"tokens": tokens, "last_refresh": "2025-01-01"});
        let timeout = Duration::from_millis(timeout_ms);
        let config = ProbeConfig {
            command: command.to_owned(),
            timeout,
            max_output: 4096,
        };
        run(&config, &auth_json.to_string()).await
    }

    #[tokio::test]
    async fn success_is_ok_with_nothing_refreshed() {
        let r = probe("true", 10_000).await;
        assert!(
            r.ok && r.exit_code == Some(0) && r.reason == "exit 0",
            "{r:?}"
        );
        assert_eq!(r.refreshed_auth_json, None);
    }

    #[tokio::test]
    async fn failure_reports_status_and_output() {
        let r = probe("echo boom >&2; exit 3", 10_000).await;
        assert!(!r.ok && r.exit_code == Some(3), "{r:?}");
        assert_eq!(r.reason, "exit status 3: boom");
    }

    #[tokio::test]
    async fn timeout_kills_the_command() {
        let started = Instant::now();
        let r = probe("sleep 30", 300).await;
        assert!(!r.ok && r.exit_code.is_none(), "{r:?}");
        assert_eq!(r.reason, "timed out after 300 ms");
        assert!(started.elapsed() < Duration::from_secs(5), "{r:?}");
    }

    #[tokio::test]
    async fn output_is_bounded() {
        let r = probe("head -c 10000000 /dev/zero | tr '\\0' a; exit 1", 30_000).await;
        assert!(r.reason.starts_with("exit status 1: …aaa"), "{r:?}");
        assert!(r.reason.chars().count() <= 420, "{r:?}");
    }

    #[tokio::test]
    async fn secrets_are_redacted() {
        let cat = "cat \"$CODEX_HOME/auth.json\"; printf 'sk-abcdefgh123 \\033[31mred'; exit 1";
        let r = probe(cat, 10_000).await;
        for secret in [ACCESS, REFRESH, ID_TOKEN, "sk-abcdefgh", "\u{1b}"] {
            assert!(!r.reason.contains(secret), "{secret} in {r:?}");
        }
        assert!(r.reason.contains(r#""access_token":"[redacted]""#), "{r:?}");
        assert!(r.reason.ends_with("[redacted] red"), "{r:?}");
    }

    #[test]
    fn a_secret_cut_by_the_bound_is_redacted() {
        let secrets = [REFRESH.to_owned()];
        let text = format!("token: {}", &REFRESH[..10]);
        assert_eq!(
            redact_known(text.as_bytes(), true, &secrets),
            "token: [redacted]"
        );
        assert_eq!(redact_known(text.as_bytes(), false, &secrets), text);
    }

    #[tokio::test]
    async fn a_rewritten_document_is_returned() {
        let new = r#"{"tokens":{"access_token":"new"}}"#;
        let r = probe(
            &format!("printf '%s' '{new}' > \"$CODEX_HOME/auth.json\""),
            10_000,
        )
        .await;
        assert!(r.ok, "{r:?}");
        assert_eq!(r.refreshed_auth_json.as_deref(), Some(new));
    }

    #[tokio::test]
    async fn an_unchanged_or_deleted_document_is_not_returned() {
        let rewrite = "cp \"$CODEX_HOME/auth.json\" x && mv x \"$CODEX_HOME/auth.json\"";
        for command in [rewrite, "rm \"$CODEX_HOME/auth.json\""] {
            let r = probe(command, 10_000).await;
            assert!(r.ok && r.refreshed_auth_json.is_none(), "{command}: {r:?}");
        }
    }

    #[tokio::test]
    async fn codex_home_is_a_private_temporary_directory() {
        let command = r#"case "$(ls -l "$CODEX_HOME/auth.json")" in -rw-------*) ;; *) exit 8;; esac
            [ "$(cat auth.json)" = "$(cat "$CODEX_HOME/auth.json")" ] || exit 9
            printf '%s' "$CODEX_HOME"; exit 1"#;
        let r = probe(command, 10_000).await;
        let home = r
            .reason
            .strip_prefix("exit status 1: /")
            .unwrap_or_default();
        assert!(!home.is_empty(), "{r:?}");
        assert_ne!(Some(format!("/{home}")), std::env::var("CODEX_HOME").ok());
        assert!(
            !Path::new(&format!("/{home}")).exists(),
            "{home} was not removed"
        );
    }
}
