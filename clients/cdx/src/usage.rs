//! Usage after Codex exits: the rollout files written during the run
//! (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl` modified since the start) are reported to
//! `POST /usage` in batches. The server keeps each response once (by response id, else turn,
//! else the line's time and ordinal within the session), so a file may be sent again safely:
//! that is how a run that could not report catches up on the next one.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::api::{Api, ApiError};

/// At most this many entries per report (the server takes up to 1,000).
pub const BATCH: usize = 500;

/// Every `rollout-*.jsonl` under `sessions/` with its modification time.
pub fn rollout_files(codex_home: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![codex_home.join("sessions")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            let path = entry.path();
            if meta.is_dir() {
                stack.push(path);
            } else if is_rollout(&path)
                && let Ok(modified) = meta.modified()
            {
                out.push((path, modified));
            }
        }
    }
    out
}

fn is_rollout(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("rollout-") && n.ends_with(".jsonl"))
}

/// The files modified at or after `since` (minus a little slack for coarse file-system clocks).
pub fn written_since(files: &[(PathBuf, SystemTime)], since: SystemTime) -> Vec<PathBuf> {
    let since = since
        .checked_sub(std::time::Duration::from_secs(2))
        .unwrap_or(since);
    let mut out: Vec<PathBuf> = files
        .iter()
        .filter(|(p, t)| *t >= since && is_rollout(p))
        .map(|(p, _)| p.clone())
        .collect();
    out.sort();
    out
}

/// The lines of one rollout file worth reporting, in order: `session_meta` (reduced to its
/// ids), `turn_context` (reduced to its model), `token_usage_record` and `token_count`
/// events, each as the server's rollout-line entry.
pub fn usage_entries(text: &str) -> (Vec<Box<RawValue>>, Option<Box<RawValue>>) {
    let mut entries = Vec::new();
    let mut meta = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
        let payload = v.get("payload");
        let keep = |fields: Value| {
            let mut slim = json!({"type": kind, "payload": fields});
            for k in ["timestamp", "ordinal"] {
                if let Some(x) = v.get(k) {
                    slim[k] = x.clone();
                }
            }
            RawValue::from_string(slim.to_string()).ok()
        };
        let entry = match kind {
            "session_meta" => {
                let p = payload.cloned().unwrap_or(Value::Null);
                let e = keep(json!({"session_id": p.get("session_id"), "id": p.get("id")}));
                meta = e.clone();
                e
            }
            "turn_context" => payload
                .and_then(|p| p.get("model"))
                .and_then(|m| keep(json!({"model": m}))),
            "token_usage_record" => RawValue::from_string(line.to_string()).ok(),
            "event_msg"
                if payload.and_then(|p| p.get("type")).and_then(Value::as_str)
                    == Some("token_count") =>
            {
                RawValue::from_string(line.to_string()).ok()
            }
            _ => None,
        };
        entries.extend(entry);
    }
    (entries, meta)
}

/// Reports: each batch of a file starts with its session line, so the server knows the session.
pub fn batches(
    entries: Vec<Box<RawValue>>,
    meta: Option<Box<RawValue>>,
) -> Vec<Vec<Box<RawValue>>> {
    let has_usage = entries
        .iter()
        .any(|e| !e.get().contains("\"session_meta\""));
    if !has_usage {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut current: Vec<Box<RawValue>> = Vec::new();
    for e in entries {
        if current.len() >= BATCH {
            out.push(std::mem::take(&mut current));
            current.extend(meta.clone());
        }
        current.push(e);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[derive(Debug, Default)]
pub struct UsageOutcome {
    pub recorded: u64,
    pub duplicates: u64,
    /// Files that could not be reported (to retry next run).
    pub failed: Vec<PathBuf>,
    pub error: Option<ApiError>,
}

/// Sends the usage of `files`; a file fails as a whole if any of its batches fails.
pub async fn report(api: &Api, files: &[PathBuf]) -> UsageOutcome {
    let mut out = UsageOutcome::default();
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let (entries, meta) = usage_entries(&text);
        for batch in batches(entries, meta) {
            let items: Vec<&str> = batch.iter().map(|e| e.get()).collect();
            let body = format!("{{\"usages\":[{}]}}", items.join(","));
            match api.call(reqwest::Method::POST, "/usage", Some(body)).await {
                Ok(data) => {
                    out.recorded += data
                        .get("recorded_count")
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    out.duplicates += data
                        .get("duplicates")
                        .and_then(Value::as_array)
                        .map_or(0, |d| d.len() as u64);
                }
                Err(e) => {
                    out.failed.push(file.clone());
                    out.error = Some(e);
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const META: &str = r#"{"timestamp": "2026-11-23T17:56:49.429Z", "ordinal": 0, "type": "session_meta", "payload": {"session_id": "s-1", "id": "s-1", "base_instructions": {"text": "long"}}}"#;
    const COUNT: &str = r#"{"timestamp": "2026-11-23T17:56:49.790Z", "ordinal": 13, "type": "event_msg", "payload": {"type": "token_count", "info": {"last_token_usage": {"input_tokens": 123, "cached_input_tokens": 100, "output_tokens": 7, "reasoning_output_tokens": 2, "total_tokens": 130}}, "rate_limits": null}}"#;
    const STARTED: &str = r#"{"timestamp": "2026-11-23T17:56:49.429Z", "ordinal": 1, "type": "event_msg", "payload": {"type": "task_started"}}"#;
    const TURN: &str = r#"{"timestamp": "2026-11-23T17:56:49.430Z", "ordinal": 2, "type": "turn_context", "payload": {"cwd": "/w", "model": "gpt-5"}}"#;

    #[test]
    fn selects_files_written_during_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("sessions/2026/11/23");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join("rollout-a.jsonl"), "").unwrap();
        std::fs::write(day.join("notes.txt"), "").unwrap();
        let found = rollout_files(dir.path());
        assert_eq!(found.len(), 1);
        let now = SystemTime::now();
        let old = now - Duration::from_secs(3600);
        let list = vec![
            (PathBuf::from("/s/rollout-old.jsonl"), old),
            (PathBuf::from("/s/rollout-new.jsonl"), now),
            (PathBuf::from("/s/other.jsonl"), now),
        ];
        assert_eq!(
            written_since(&list, now - Duration::from_secs(60)),
            vec![PathBuf::from("/s/rollout-new.jsonl")]
        );
    }

    #[test]
    fn keeps_usage_lines_and_slims_the_rest() {
        let text = [META, STARTED, TURN, COUNT, "not json", ""].join("\n");
        let (entries, meta) = usage_entries(&text);
        let kinds: Vec<Value> = entries
            .iter()
            .map(|e| serde_json::from_str::<Value>(e.get()).unwrap())
            .collect();
        assert_eq!(kinds.len(), 3);
        assert_eq!(
            kinds[0]["payload"],
            json!({"session_id": "s-1", "id": "s-1"})
        );
        assert_eq!(kinds[0]["ordinal"], 0);
        assert_eq!(kinds[1]["payload"], json!({"model": "gpt-5"}));
        assert_eq!(entries[2].get(), COUNT);
        assert!(meta.is_some());
    }

    #[test]
    fn batches_repeat_the_session_line() {
        let mut lines = vec![META.to_string()];
        lines.extend((0..(BATCH + 10)).map(|_| COUNT.to_string()));
        let (entries, meta) = usage_entries(&lines.join("\n"));
        let b = batches(entries, meta);
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].len(), BATCH);
        assert!(b[1][0].get().contains("session_meta"));
        assert_eq!(b[1].len(), 12);
        let (entries, meta) = usage_entries(META);
        assert!(batches(entries, meta).is_empty());
    }
}
