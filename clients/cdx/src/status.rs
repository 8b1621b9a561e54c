//! `cdx status`: what the last sync settled, from the state file (no network, no tokens).

use serde_json::Value;

use crate::config::{CdxConfig, Paths};
use crate::state::State;

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
    out.join("\n")
}
