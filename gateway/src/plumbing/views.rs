//! JSON views of wire messages that several surfaces show the same way (the peer's host
//! object, a person, a timestamp).

use codex_central_proto::auth::v1::User;
use codex_central_proto::common::v1::Role;
use codex_central_proto::fleet::v1::{Host, HostStatus};
use codex_central_proto::memory::v1::{Memory, MemoryOwnerKind, MemoryWriteStatus};
use codex_central_proto::usage::v1::{GetLatestQuotaSnapshotResponse, QuotaSnapshot, QuotaWindow};
use serde_json::{Value, json};

/// Converts a protobuf timestamp to RFC 3339 for JSON.
pub fn rfc3339(ts: Option<&prost_types::Timestamp>) -> Value {
    ts.and_then(rfc3339_text).map_or(Value::Null, Value::String)
}

/// A timestamp as RFC 3339 UTC with milliseconds; `None` when out of range.
pub fn rfc3339_text(t: &prost_types::Timestamp) -> Option<String> {
    chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
        .map(|dt| dt.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

pub fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "username": u.username,
        "display_name": u.display_name,
        "role": if u.role == Role::Admin as i32 { "admin" } else { "member" },
        "enabled": u.enabled,
        "has_password": u.has_password,
        "created_at": rfc3339(u.created_at.as_ref()),
        "last_login_at": rfc3339(u.last_login_at.as_ref()),
    })
}

/// The host object of the contract (plus `id`, `ip`, `created_at`, `last_seen_at`).
pub fn host_json(h: &Host) -> Value {
    serde_json::to_value(HostView(h)).unwrap_or(Value::Null)
}

/// The contract's `host` object, serialized straight from the proto (the `/auth` hot path
/// embeds it without building a JSON tree).
pub struct HostView<'a>(pub &'a Host);

/// RFC 3339 text of a timestamp, or null.
struct Ts<'a>(Option<&'a prost_types::Timestamp>);

impl serde::Serialize for Ts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.and_then(|t| {
            chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
        }) {
            Some(dt) => s.collect_str(&dt.format("%Y-%m-%dT%H:%M:%S%.3fZ")),
            None => s.serialize_none(),
        }
    }
}

/// Empty text as null.
fn text(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl serde::Serialize for HostView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let h = self.0;
        let mut m = s.serialize_map(Some(25))?;
        match h.id.parse::<i64>() {
            Ok(id) => m.serialize_entry("id", &id)?,
            Err(_) => m.serialize_entry("id", &h.id)?,
        }
        m.serialize_entry("fqdn", &h.fqdn)?;
        let status = if h.status() == HostStatus::Active {
            "active"
        } else {
            "disabled"
        };
        m.serialize_entry("status", status)?;
        m.serialize_entry("last_refresh", &Ts(h.last_refresh.as_ref()))?;
        m.serialize_entry("created_at", &Ts(h.created_at.as_ref()))?;
        m.serialize_entry("updated_at", &Ts(h.updated_at.as_ref()))?;
        m.serialize_entry("last_seen_at", &Ts(h.last_seen_at.as_ref()))?;
        m.serialize_entry("expires_at", &Ts(h.expires_at.as_ref()))?;
        m.serialize_entry("client_version", &text(&h.client_version))?;
        m.serialize_entry("client_version_override", &text(&h.client_version_override))?;
        m.serialize_entry("wrapper_version", &text(&h.wrapper_version))?;
        m.serialize_entry("api_calls", &h.api_calls)?;
        m.serialize_entry("ip", &text(&h.ip))?;
        m.serialize_entry("allow_roaming_ips", &h.allow_roaming_ips)?;
        m.serialize_entry("secure", &h.secure)?;
        m.serialize_entry("vip", &h.vip)?;
        m.serialize_entry(
            "insecure_enabled_until",
            &Ts(h.insecure_enabled_until.as_ref()),
        )?;
        m.serialize_entry("insecure_grace_until", &Ts(h.insecure_grace_until.as_ref()))?;
        m.serialize_entry("insecure_window_minutes", &h.insecure_window_minutes)?;
        m.serialize_entry("force_ipv4", &h.force_ipv4)?;
        m.serialize_entry("curl_insecure", &h.curl_insecure)?;
        m.serialize_entry("model_override", &text(&h.model_override))?;
        m.serialize_entry(
            "reasoning_effort_override",
            &text(&h.reasoning_effort_override),
        )?;
        m.serialize_entry("temporary", &h.temporary)?;
        m.serialize_entry("provisioned", &h.provisioned)?;
        m.end()
    }
}

/// The contract's `chatgpt_usage` object. Always an object: the peer's wrapper reads its fields
/// without a null check and does integer arithmetic on the windows, so without a snapshot it
/// gets status `unavailable` and integer zeros. The second field is when the server may next
/// poll the usage endpoint (`next_eligible_at`; null when it may now).
pub struct ChatgptUsageView<'a>(
    pub &'a GetLatestQuotaSnapshotResponse,
    pub Option<&'a prost_types::Timestamp>,
);

/// One rate-limit window; whole numbers, as the wrapper's shell arithmetic needs.
struct WindowView<'a>(Option<&'a QuotaWindow>, i64);

impl serde::Serialize for WindowView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let w = self.0.cloned().unwrap_or_default();
        let now = self.1;
        let reset_after = w.resets_at.as_ref().map_or(0, |t| (t.seconds - now).max(0));
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry(
            "used_percent",
            &(w.used_percent.clamp(0.0, 100.0).round() as i64),
        )?;
        m.serialize_entry("limit_seconds", &(i64::from(w.window_minutes) * 60))?;
        m.serialize_entry("reset_after_seconds", &reset_after)?;
        m.serialize_entry("reset_at", &Ts(w.resets_at.as_ref()))?;
        m.end()
    }
}

/// The object without a snapshot, serialized once (every `/auth` answer carries it).
fn unavailable() -> &'static serde_json::value::RawValue {
    static TEXT: std::sync::OnceLock<Box<serde_json::value::RawValue>> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        serde_json::value::to_raw_value(&Snapshot(None, None, None)).unwrap_or_else(|_| {
            serde_json::value::RawValue::from_string("{}".into()).unwrap_or_default()
        })
    })
}

impl serde::Serialize for ChatgptUsageView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match (&self.0.snapshot, self.1) {
            (None, None) => unavailable().serialize(s),
            (snap, next) => Snapshot(snap.as_ref(), self.0.status.as_ref(), next).serialize(s),
        }
    }
}

struct Snapshot<'a>(
    Option<&'a QuotaSnapshot>,
    Option<&'a codex_central_proto::usage::v1::QuotaStatus>,
    Option<&'a prost_types::Timestamp>,
);

impl serde::Serialize for Snapshot<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let now = chrono::Utc::now().timestamp();
        let snap = self.0;
        let status = match snap {
            None => "unavailable",
            Some(q) if q.limit_reached => "limit_reached",
            Some(_) => "ok",
        };
        let limited = snap.is_some_and(|q| q.limit_reached);
        let mut m = s.serialize_map(Some(11))?;
        m.serialize_entry("status", status)?;
        m.serialize_entry(
            "plan_type",
            &snap.map(|q| q.plan_type.as_str()).and_then(text),
        )?;
        m.serialize_entry("rate_allowed", &!limited)?;
        m.serialize_entry("rate_limit_reached", &limited)?;
        m.serialize_entry("fetched_at", &Ts(snap.and_then(|q| q.observed_at.as_ref())))?;
        m.serialize_entry("next_eligible_at", &Ts(self.2))?;
        m.serialize_entry(
            "primary_window",
            &WindowView(snap.and_then(|q| q.primary.as_ref()), now),
        )?;
        m.serialize_entry(
            "secondary_window",
            &WindowView(snap.and_then(|q| q.secondary.as_ref()), now),
        )?;
        // Whole numbers, like the windows (the wrapper does shell arithmetic on them).
        let status = self.1.cloned().unwrap_or_default();
        m.serialize_entry(
            "daily_used_percent",
            &(status.daily_used_percent.clamp(0.0, 100.0).round() as i64),
        )?;
        m.serialize_entry("daily_baseline_at", &Ts(status.daily_baseline_at.as_ref()))?;
        m.end()
    }
}

pub fn chatgpt_usage_json(
    latest: &GetLatestQuotaSnapshotResponse,
    next_eligible_at: Option<&prost_types::Timestamp>,
) -> Value {
    serde_json::to_value(ChatgptUsageView(latest, next_eligible_at)).unwrap_or(Value::Null)
}

/// The canonical auth.json as operators see it: origin, decoded claims (account and user ids
/// masked), token expiry and the planned server refresh. `present: false` and nulls when there
/// is no canonical copy yet.
pub fn codex_auth_json(s: &codex_central_proto::auth::v1::CodexAuthSummary) -> Value {
    use codex_central_proto::auth::v1::CodexAuthMode;
    let c = s.claims.clone().unwrap_or_default();
    let text = |v: &str| if v.is_empty() { Value::Null } else { json!(v) };
    let mode = match c.mode() {
        CodexAuthMode::ApiKey => json!("api_key"),
        CodexAuthMode::Chatgpt => json!("chatgpt"),
        CodexAuthMode::Unspecified => Value::Null,
    };
    let refresh = s.refresh.clone().unwrap_or_default();
    json!({
        "present": s.present,
        "digest": text(&s.digest),
        "last_refresh": rfc3339(s.last_refresh.as_ref()),
        "stored_at": rfc3339(s.stored_at.as_ref()),
        "source_host_id": text(&s.source_host_id),
        "claims": {
            "mode": mode,
            "email": text(&c.email),
            "plan_type": text(&c.plan_type),
            "account_id": text(&c.account_id),
            "chatgpt_user_id": text(&c.chatgpt_user_id),
            "access_token_expires_at": rfc3339(c.access_token_expires_at.as_ref()),
            "id_token_expires_at": rfc3339(c.id_token_expires_at.as_ref()),
        },
        "refresh": {
            "next_due_at": rfc3339(refresh.next_due_at.as_ref()),
            "last_attempt_at": rfc3339(refresh.last_attempt_at.as_ref()),
            "last_success_at": rfc3339(refresh.last_success_at.as_ref()),
            "last_error": text(&refresh.last_error),
            "last_error_code": text(&refresh.last_error_code),
            "consecutive_failures": refresh.consecutive_failures,
            "needs_new_auth_json": refresh.needs_new_auth_json,
        },
        "validation": s.last_validation.as_ref().map(validation_json),
        "refresh_token_custody": custody_name(s.refresh_token_custody()),
    })
}

pub fn custody_name(c: codex_central_proto::auth::v1::RefreshTokenCustody) -> &'static str {
    use codex_central_proto::auth::v1::RefreshTokenCustody;
    match c {
        RefreshTokenCustody::Shared => "shared",
        RefreshTokenCustody::Server | RefreshTokenCustody::Unspecified => "server",
    }
}

fn validation_json(v: &codex_central_proto::auth::v1::CodexAuthValidation) -> Value {
    use codex_central_proto::auth::v1::ValidationState;
    json!({
        "state": match v.state() {
            ValidationState::Ok => "ok",
            ValidationState::Failed => "failed",
            ValidationState::Skipped => "skipped",
            ValidationState::Unspecified => "unknown",
        },
        "reason": v.reason,
        "checked_at": rfc3339(v.checked_at.as_ref()),
        "latency_ms": v.latency_ms,
        "probe_ran": v.probe_ran,
        "refreshed_applied": v.refreshed_applied,
    })
}

/// What operators must act on about the canonical auth.json, for `/admin/overview`.
pub fn codex_auth_alerts(s: &codex_central_proto::auth::v1::CodexAuthSummary) -> Vec<Value> {
    let mut alerts = Vec::new();
    if !s.present {
        return alerts;
    }
    let refresh = s.refresh.clone().unwrap_or_default();
    if refresh.needs_new_auth_json {
        alerts.push(json!({
            "code": "canonical_auth_refresh_rejected",
            "severity": "critical",
            "message": format!(
                "The canonical auth.json's refresh token was not accepted ({}); upload a new auth.json.",
                refresh.last_error_code
            ),
        }));
    } else if refresh.consecutive_failures > 0 {
        alerts.push(json!({
            "code": "canonical_auth_refresh_failing",
            "severity": "warning",
            "message": format!(
                "Refreshing the canonical auth.json failed {} time(s) in a row: {}",
                refresh.consecutive_failures, refresh.last_error
            ),
        }));
    }
    let expires = s
        .claims
        .as_ref()
        .and_then(|c| c.access_token_expires_at.as_ref());
    if let Some(exp) = expires
        && exp.seconds <= chrono::Utc::now().timestamp()
    {
        alerts.push(json!({
            "code": "canonical_auth_expired",
            "severity": "critical",
            "message": "The canonical access token has expired; hosts cannot use it until it is refreshed.",
        }));
    }
    alerts
}

/// The peer's memory object; `host` is the owning host's fqdn, as the service named it.
pub fn memory_json(m: &Memory) -> Value {
    let owner = m.owner.clone().unwrap_or_default();
    let host_id = (owner.kind() == MemoryOwnerKind::Host).then_some(owner.id.as_str());
    let fqdn = host_id
        .and(Some(owner.name.as_str()))
        .filter(|n| !n.is_empty());
    json!({
        "id": m.id,
        "record_id": m.record_id,
        "host_id": host_id,
        "host": fqdn,
        "owner": match owner.kind() {
            MemoryOwnerKind::Host => "host",
            MemoryOwnerKind::User => "user",
            MemoryOwnerKind::Fleet => "fleet",
            MemoryOwnerKind::Unspecified => "unknown",
        },
        "owner_name": owner.name,
        "title": m.title,
        "content": m.content,
        "metadata": serde_json::from_str::<Value>(&m.metadata_json).unwrap_or_else(|_| json!({})),
        "tags": m.tags,
        "created_at": rfc3339(m.created_at.as_ref()),
        "updated_at": rfc3339(m.updated_at.as_ref()),
        "score": m.score,
    })
}

/// What a memory store did, as the peer words it.
pub fn written_text(s: MemoryWriteStatus) -> &'static str {
    match s {
        MemoryWriteStatus::Created => "created",
        MemoryWriteStatus::Unchanged => "unchanged",
        MemoryWriteStatus::Updated | MemoryWriteStatus::Unspecified => "updated",
    }
}
