//! Wire messages of the fleet service from its domain types.

use codex_central_proto::fleet::v1::{
    CodexVersionPolicy, EnrollmentTokenState, FleetPolicy, Host, HostStatus,
};
use codex_central_proto::ms_to_timestamp;

use crate::domain::enrollment::TokenState;
use crate::domain::policy;

pub(crate) fn token_state(state: TokenState) -> EnrollmentTokenState {
    match state {
        TokenState::Valid => EnrollmentTokenState::Valid,
        TokenState::Used => EnrollmentTokenState::Used,
        TokenState::Expired => EnrollmentTokenState::Expired,
    }
}

pub(crate) fn opt_ts(ms: Option<i64>) -> Option<prost_types::Timestamp> {
    ms.map(ms_to_timestamp)
}

pub(crate) fn host_to_proto(h: codex_central_store::entities::hosts::Model) -> Host {
    let status = if h.status == "active" {
        HostStatus::Active
    } else {
        HostStatus::Disabled
    };
    Host {
        id: h.id.to_string(),
        fqdn: h.fqdn,
        status: status as i32,
        secure: h.secure,
        vip: h.vip,
        allow_roaming_ips: h.allow_roaming,
        force_ipv4: h.force_ipv4,
        curl_insecure: h.curl_insecure,
        ip: h.ip.unwrap_or_default(),
        client_version: h.client_version.unwrap_or_default(),
        client_version_override: h.client_version_override.unwrap_or_default(),
        wrapper_version: h.wrapper_version.unwrap_or_default(),
        api_calls: u64::try_from(h.api_calls).unwrap_or(0),
        last_refresh: None,
        created_at: Some(ms_to_timestamp(h.created_at)),
        updated_at: Some(ms_to_timestamp(h.updated_at)),
        last_seen_at: opt_ts(h.last_seen_at),
        temporary: h.expires_at.is_some(),
        expires_at: opt_ts(h.expires_at),
        insecure_enabled_until: opt_ts(h.insecure_enabled_until),
        insecure_grace_until: opt_ts(h.insecure_grace_until),
        insecure_window_minutes: u32::try_from(h.insecure_window_minutes).unwrap_or(0),
        model_override: h.model_override.unwrap_or_default(),
        reasoning_effort_override: h.reasoning_effort_override.unwrap_or_default(),
        provisioned: h.provisioned_at.is_some(),
        installation_id: String::new(),
    }
}

pub(crate) fn policy_to_proto(p: policy::FleetPolicy) -> FleetPolicy {
    FleetPolicy {
        api_enabled: p.api_enabled,
        silent_mode: p.silent_mode,
        prune_inactive_days: p.prune_inactive_days,
        codex_version: Some(CodexVersionPolicy {
            pinned: p.codex_version.pinned,
            version: p.codex_version.version,
        }),
    }
}
