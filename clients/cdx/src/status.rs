//! `cdx status`: what the last sync settled, from the state file (no network, no tokens).

use serde_json::Value;

use crate::config::{CdxConfig, Paths};
use crate::state::State;

/// A bar like `[#########...........]  45%`, coloured (green, yellow from 80 %, red from 95 %)
/// when `colour`.
pub fn bar(percent: f64, width: usize, colour: bool) -> String {
    let p = if percent.is_finite() {
        percent.clamp(0.0, 100.0)
    } else {
        0.0
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let filled = ((p / 100.0) * width as f64).round() as usize;
    let body = format!(
        "{}{}",
        "#".repeat(filled),
        ".".repeat(width - filled.min(width))
    );
    let text = format!("[{body}] {percent:>3.0}%");
    if !colour {
        return text;
    }
    let code = if p >= 95.0 {
        31
    } else if p >= 80.0 {
        33
    } else {
        32
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The quota lines: ChatGPT windows as bars with their resets, the weekly projection and the
/// month's tokens.
fn quota_lines(quota: &Value, colour: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let usage = quota.get("chatgpt_usage").unwrap_or(&Value::Null);
    for (key, label) in [
        ("primary_window", "chatgpt 5h window"),
        ("secondary_window", "chatgpt weekly"),
    ] {
        let w = usage.get(key).unwrap_or(&Value::Null);
        if let Some(p) = w.get("used_percent").and_then(Value::as_f64) {
            let reset = w
                .get("reset_at")
                .and_then(Value::as_str)
                .map(|r| format!(", resets {r}"))
                .unwrap_or_default();
            out.push((label.to_string(), format!("{}{reset}", bar(p, 20, colour))));
        }
    }
    if let Some(p) = quota.get("quota_projected_percent").and_then(Value::as_f64) {
        out.push(("weekly projection".into(), bar(p, 20, colour)));
    }
    if let Some(t) = quota.get("token_usage_month").and_then(Value::as_u64) {
        out.push(("tokens this month".into(), t.to_string()));
    }
    out
}

pub fn render(cfg: &CdxConfig, paths: &Paths, state: &State) -> String {
    let mut out = Vec::new();
    let mut line = |k: &str, v: String| out.push(format!("{k:<22} {v}"));
    let or_never = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "never".to_string(), |t| t.to_rfc3339())
    };
    line("cdx", env!("CARGO_PKG_VERSION").to_string());
    line("config", cfg.path.display().to_string());
    line("server", cfg.base_url.clone());
    if !cfg.fqdn.is_empty() {
        line("host", cfg.fqdn.clone());
    }
    line(
        "host security",
        match state.host_secure {
            Some(true) => "secure (offline for up to 7 days)".into(),
            Some(false) => "insecure (offline for up to 24 hours)".into(),
            None => "unknown (never synced)".into(),
        },
    );
    line("codex home", paths.codex_home.display().to_string());
    line("last sync", or_never(state.last_sync));
    line(
        "last outcome",
        state.last_outcome.clone().unwrap_or_else(|| "-".into()),
    );
    line(
        "auth.json",
        match (paths.auth_json().is_file(), &state.canonical_last_refresh) {
            (false, _) => "absent".into(),
            (true, Some(lr)) => format!("present; canonical last refresh {lr}"),
            (true, None) => "present".into(),
        },
    );
    line(
        "config.toml",
        state.config_sha256.as_deref().map_or_else(
            || "no fleet config".into(),
            |s| format!("fleet {}", s.chars().take(12).collect::<String>()),
        ),
    );
    let profiles: Vec<&str> = state.profiles.keys().map(String::as_str).collect();
    line(
        "profiles",
        if profiles.is_empty() {
            "-".into()
        } else {
            profiles.join(", ")
        },
    );
    line("last usage push", or_never(state.last_usage_push));
    if !state.pending_usage.is_empty() {
        line(
            "usage pending",
            format!("{} file(s)", state.pending_usage.len()),
        );
    }
    if let Some(v) = &state.versions {
        let s = |k: &str| match v.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "-".into(),
            Some(other) => other.to_string(),
        };
        line("codex target", s("client_version"));
        line("wrapper (server)", s("wrapper_version"));
        line(
            "quota policy",
            format!(
                "hard fail {}, limit {}%, week partition {}",
                s("quota_hard_fail"),
                s("quota_limit_percent"),
                s("quota_week_partition")
            ),
        );
        line("silent", s("cdx_silent"));
    }
    if let Some(q) = &state.quota {
        use std::io::IsTerminal;
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        for (k, v) in quota_lines(q, colour) {
            line(&k, v);
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bars_and_quota_lines() {
        assert_eq!(bar(45.0, 20, false), "[#########...........]  45%");
        assert_eq!(bar(120.0, 10, false), "[##########] 120%");
        assert_eq!(bar(f64::NAN, 4, false), "[....] NaN%");
        assert!(bar(96.0, 4, true).starts_with("\x1b[31m"));
        let q = json!({"chatgpt_usage": {"primary_window": {"used_percent": 12.5, "reset_at": "2026-12-05T15:00:00Z"},
                                         "secondary_window": {"used_percent": 81}},
                       "quota_projected_percent": 97.2, "token_usage_month": 123456});
        let lines = quota_lines(&q, false);
        assert_eq!(lines.len(), 4);
        assert!(
            lines[0].1.ends_with("resets 2026-12-05T15:00:00Z"),
            "{lines:?}"
        );
        assert_eq!(
            lines[3],
            ("tokens this month".to_string(), "123456".to_string())
        );
        assert!(quota_lines(&json!({}), false).is_empty());
    }
}
