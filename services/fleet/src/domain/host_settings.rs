//! Per-host settings an admin changes (contract §3 `/admin/hosts/{id}/...`).

use codex_central_store::entities::hosts::{Column, Model};
use codex_central_store::{Store, hosts, now_ms};
use sea_orm::Value;
use serde_json::json;

use super::hosts::{Actor, DEFAULT_INSECURE_WINDOW_MINUTES};
use crate::{Error, Result};

/// The longest insecure window an admin may open (SPEC §4).
pub const MAX_INSECURE_WINDOW_MINUTES: u32 = 480;

#[derive(Debug, Clone)]
pub enum HostChange {
    Enabled(bool),
    Roaming(bool),
    Secure(bool),
    Vip(bool),
    /// Forcing IPv4 also unbinds the IP (the host will come back over another address).
    ForceIpv4(bool),
    CurlInsecure(bool),
    InsecureEnable(Option<u32>),
    InsecureDisable,
    Model {
        model: Option<String>,
        reasoning_effort: Option<String>,
    },
    /// `None` follows the fleet policy.
    CodexVersion(Option<String>),
    ClearSync,
}

impl HostChange {
    fn action(&self) -> &'static str {
        match self {
            HostChange::Enabled(_) => "host.set_enabled",
            HostChange::Roaming(_) => "host.set_roaming",
            HostChange::Secure(_) => "host.set_secure",
            HostChange::Vip(_) => "host.set_vip",
            HostChange::ForceIpv4(_) => "host.set_force_ipv4",
            HostChange::CurlInsecure(_) => "host.set_curl_insecure",
            HostChange::InsecureEnable(_) => "host.insecure_enable",
            HostChange::InsecureDisable => "host.insecure_disable",
            HostChange::Model { .. } => "host.set_model",
            HostChange::CodexVersion(_) => "host.set_codex_version",
            HostChange::ClearSync => "host.clear_sync",
        }
    }
}

/// Normalizes a Codex version selection: `global`/`fleet`/`default`/empty → follow the fleet,
/// else `x.y.z` (prefixes `codex-`, `rust-`, `v` stripped).
pub fn parse_version_selection(field: &str, raw: &str) -> Result<Option<String>> {
    let s = raw.trim();
    if matches!(
        s.to_ascii_lowercase().as_str(),
        "" | "global" | "fleet" | "default"
    ) {
        return Ok(None);
    }
    let v = s
        .trim_start_matches("codex-")
        .trim_start_matches("rust-")
        .trim_start_matches('v');
    let parts: Vec<&str> = v.split('.').collect();
    let numeric = |p: &str| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit());
    let (core, ok_pre) = match v.split_once('-') {
        Some((core, pre)) => (
            core,
            !pre.is_empty()
                && pre.len() <= 32
                && pre.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'),
        ),
        None => (v, true),
    };
    let core_parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || core_parts.len() != 3
        || !core_parts.iter().all(|p| numeric(p))
        || !ok_pre
    {
        return Err(Error::invalid(
            field,
            "expected a Codex version such as 0.169.0, or \"global\"",
        ));
    }
    Ok(Some(v.to_string()))
}

fn optional_text(field: &str, value: Option<String>, max: usize) -> Result<Value> {
    match value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    {
        None => Ok(Value::String(None)),
        Some(v) if v.chars().count() > max || v.chars().any(char::is_control) => {
            Err(Error::invalid(
                field,
                format!("{field} must be at most {max} printable characters"),
            ))
        }
        Some(v) => Ok(Value::String(Some(v))),
    }
}

pub async fn apply(store: &Store, actor: &Actor, id: i64, change: HostChange) -> Result<Model> {
    let now = now_ms();
    let txn = store.begin().await?;
    let host = hosts::get(&txn, id).await?;
    let bool_value = |b: bool| Value::Bool(Some(b));
    let changes: Vec<(Column, Value)> = match &change {
        HostChange::Enabled(on) => vec![(
            Column::Status,
            Value::String(Some(if *on { "active" } else { "disabled" }.to_string())),
        )],
        HostChange::Roaming(on) => vec![(Column::AllowRoaming, bool_value(*on))],
        HostChange::Secure(on) => {
            let mut c = vec![(Column::Secure, bool_value(*on))];
            if *on {
                c.push((Column::InsecureEnabledUntil, Value::BigInt(None)));
                c.push((Column::InsecureGraceUntil, Value::BigInt(None)));
            }
            c
        }
        HostChange::Vip(on) => vec![(Column::Vip, bool_value(*on))],
        HostChange::ForceIpv4(on) => vec![
            (Column::ForceIpv4, bool_value(*on)),
            (Column::Ip, Value::String(None)),
        ],
        HostChange::CurlInsecure(on) => vec![(Column::CurlInsecure, bool_value(*on))],
        HostChange::InsecureEnable(minutes) => {
            if host.secure {
                return Err(Error::invalid(
                    "secure",
                    "the host is secure; insecure windows apply to insecure hosts only",
                ));
            }
            let minutes = minutes.unwrap_or_else(|| {
                u32::try_from(host.insecure_window_minutes)
                    .unwrap_or(DEFAULT_INSECURE_WINDOW_MINUTES as u32)
            });
            if minutes > MAX_INSECURE_WINDOW_MINUTES {
                return Err(Error::invalid(
                    "duration_minutes",
                    "duration_minutes must be between 0 and 480",
                ));
            }
            let from = now.max(host.insecure_enabled_until.unwrap_or(0));
            vec![
                (
                    Column::InsecureEnabledUntil,
                    Value::BigInt(Some(from + i64::from(minutes) * 60_000)),
                ),
                (Column::InsecureGraceUntil, Value::BigInt(None)),
                (
                    Column::InsecureWindowMinutes,
                    Value::Int(Some(i32::try_from(minutes).unwrap_or(0))),
                ),
            ]
        }
        HostChange::InsecureDisable => vec![
            (Column::InsecureEnabledUntil, Value::BigInt(None)),
            (Column::InsecureGraceUntil, Value::BigInt(None)),
        ],
        HostChange::Model {
            model,
            reasoning_effort,
        } => vec![
            (
                Column::ModelOverride,
                optional_text("model_override", model.clone(), 128)?,
            ),
            (
                Column::ReasoningEffortOverride,
                optional_text("reasoning_effort_override", reasoning_effort.clone(), 32)?,
            ),
        ],
        HostChange::CodexVersion(version) => vec![(
            Column::ClientVersionOverride,
            Value::String(version.clone()),
        )],
        HostChange::ClearSync => {
            hosts::clear_sync_state(&txn, id).await?;
            Vec::new()
        }
    };
    let updated = hosts::update_columns(&txn, id, changes, now).await?;
    let event = actor
        .event(change.action(), format!("host:{id}"))
        .details(json!({ "fqdn": host.fqdn, "change": format!("{change:?}") }));
    codex_central_store::audit::commit(txn, event).await?;
    Ok(updated)
}

/// Rotates a host's key; the old one stops working at once.
pub async fn rotate_key(
    store: &Store,
    actor: &Actor,
    id: i64,
) -> Result<(Model, codex_central_common::crypto::Secret<String>)> {
    let host = hosts::get(store.db(), id).await?;
    let registered = super::hosts::register(
        store,
        actor,
        super::hosts::Registration {
            fqdn: host.fqdn,
            rotate: true,
            ..Default::default()
        },
    )
    .await?;
    Ok((registered.host, registered.api_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_selection() {
        assert_eq!(parse_version_selection("s", "global").unwrap(), None);
        assert_eq!(parse_version_selection("s", "").unwrap(), None);
        assert_eq!(
            parse_version_selection("s", "rust-v0.169.0")
                .unwrap()
                .as_deref(),
            Some("0.169.0")
        );
        assert_eq!(
            parse_version_selection("s", "codex-0.170.1-alpha.2")
                .unwrap()
                .as_deref(),
            Some("0.170.1-alpha.2")
        );
        for bad in ["latest!", "1.2", "1.2.3.4", "a.b.c", "0.1.2-"] {
            assert!(parse_version_selection("s", bad).is_err(), "{bad}");
        }
    }
}
