//! The canonical copy as operators and hosts see it: claims (ids masked), the refresh state and
//! the masked document.

use chrono::{DateTime, Utc};
use codex_central_proto::auth::v1::*;
use codex_central_proto::ms_to_timestamp;

use crate::domain::canonical::{Current, Custody, Lifecycle, Stored};
use crate::domain::codex_auth::{Mode, RefreshPolicy, mask_secret, masked, next_refresh};

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub fn custody_proto(c: Custody) -> RefreshTokenCustody {
    match c {
        Custody::Server => RefreshTokenCustody::Server,
        Custody::Shared => RefreshTokenCustody::Shared,
    }
}

/// Where the server's refresh of `current` stands. A blocked token (rejected, or possibly spent
/// by an interrupted attempt) means no automatic refresh until a new document arrives.
pub fn refresh_state(
    current: Option<&Current>,
    state: &Lifecycle,
    policy: RefreshPolicy,
) -> CodexAuthRefreshState {
    let ms = |v: Option<i64>| v.map(ms_to_timestamp);
    let token_sha = current.and_then(|c| c.refresh_token_sha.as_deref());
    let blocked =
        !state.blocked_token_sha.is_empty() && token_sha == Some(&state.blocked_token_sha);
    let planned = current.and_then(|c| next_refresh(&c.claims, c.at, policy));
    let backing_off = state
        .next_attempt_at
        .and_then(DateTime::from_timestamp_millis);
    let next_due = match (blocked, planned, backing_off) {
        (true, _, _) | (false, None, _) => None,
        (false, Some(p), Some(b)) => Some(p.max(b)),
        (false, Some(p), None) => Some(p),
    };
    CodexAuthRefreshState {
        last_attempt_at: ms(state.last_attempt_at),
        last_success_at: ms(state.last_success_at),
        last_error: state.last_error.clone(),
        consecutive_failures: u32::try_from(state.consecutive_failures).unwrap_or(0),
        next_due_at: next_due.map(timestamp),
        last_error_code: state.last_error_code.clone(),
        needs_new_auth_json: blocked,
    }
}

pub fn validation(state: &Lifecycle) -> Option<CodexAuthValidation> {
    let at = state.validation_at?;
    let v = match state.validation_state.as_str() {
        "ok" => ValidationState::Ok,
        "failed" => ValidationState::Failed,
        "skipped" => ValidationState::Skipped,
        _ => ValidationState::Unspecified,
    };
    Some(CodexAuthValidation {
        state: v as i32,
        reason: state.validation_reason.clone(),
        checked_at: Some(ms_to_timestamp(at)),
        latency_ms: u32::try_from(state.validation_latency_ms).unwrap_or(u32::MAX),
        probe_ran: state.validation_probe_ran,
        refreshed_applied: state.validation_applied,
    })
}

/// The operators' view of the canonical copy: its claims (account and user ids masked), the
/// refresh state and the document with every token masked.
pub fn summary(
    stored: Option<&Stored>,
    state: &Lifecycle,
    custody: Custody,
    policy: RefreshPolicy,
) -> CodexAuthSummary {
    let Some(s) = stored else {
        return CodexAuthSummary {
            refresh: Some(refresh_state(None, state, policy)),
            refresh_token_custody: custody_proto(custody) as i32,
            ..Default::default()
        };
    };
    let c = &s.current.claims;
    let mask_id = |id: &str| {
        if id.is_empty() {
            String::new()
        } else {
            mask_secret(id)
        }
    };
    CodexAuthSummary {
        present: true,
        digest: s.current.digest.clone(),
        last_refresh: Some(timestamp(s.current.at)),
        stored_at: Some(ms_to_timestamp(s.stored_at)),
        source_host_id: s
            .source
            .strip_prefix("host:")
            .unwrap_or_default()
            .to_string(),
        claims: Some(CodexAuthClaims {
            mode: match c.mode {
                Mode::ApiKey => CodexAuthMode::ApiKey,
                Mode::ChatGpt => CodexAuthMode::Chatgpt,
                Mode::Unknown => CodexAuthMode::Unspecified,
            } as i32,
            email: c.email.clone(),
            plan_type: c.plan_type.clone(),
            account_id: mask_id(&c.account_id),
            chatgpt_user_id: mask_id(&c.chatgpt_user_id),
            access_token_expires_at: c.access_expires_at.map(timestamp),
            id_token_expires_at: c.id_expires_at.map(timestamp),
        }),
        last_validation: validation(state),
        refresh: Some(refresh_state(Some(&s.current), state, policy)),
        masked_auth_json: masked(&s.current.text),
        last_refresh_text: s.current.last_refresh.clone(),
        refresh_token_custody: custody_proto(custody) as i32,
    }
}
