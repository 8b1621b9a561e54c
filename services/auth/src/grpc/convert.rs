//! Domain rows to proto messages, for the conversions more than one adapter answers with.

use codex_central_proto::auth::v1::*;
use codex_central_proto::common::v1::Role as ProtoRole;
use codex_central_proto::ms_to_timestamp;
use codex_central_store::entities::personal_tokens::Model as TokenRow;
use codex_central_store::entities::sessions::Model as SessionRow;
use codex_central_store::entities::users::Model as UserRow;
use codex_central_store::now_ms;

use crate::domain::personal_tokens::{self, BudgetPeriod as Period, Policy};
use crate::domain::sessions::Opened;

pub(super) fn user_to_proto(u: UserRow) -> User {
    User {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        role: if u.role == "admin" {
            ProtoRole::Admin
        } else {
            ProtoRole::Member
        } as i32,
        enabled: u.enabled,
        created_at: Some(ms_to_timestamp(u.created_at)),
        last_login_at: u.last_login_at.map(ms_to_timestamp),
        has_password: u.password_hash.is_some(),
    }
}

/// `current` is the id of the caller's own session, flagged in the answer.
pub(super) fn session_to_proto(s: SessionRow, current: Option<&str>) -> Session {
    Session {
        current: current == Some(s.id.as_str()),
        id: s.id,
        user_id: s.user_id,
        created_at: Some(ms_to_timestamp(s.created_at)),
        last_seen_at: Some(ms_to_timestamp(s.last_seen_at)),
        expires_at: Some(ms_to_timestamp(s.expires_at)),
        client_ip: s.client_ip,
        user_agent: s.user_agent,
    }
}

fn policy_to_proto(p: &Policy) -> TokenPolicy {
    TokenPolicy {
        allowed_models: p.allowed_models.clone(),
        requests_per_minute: p.requests_per_minute,
        tokens_per_minute: p.tokens_per_minute,
        budget_period: match p.budget_period {
            None => BudgetPeriod::Unspecified,
            Some(Period::Day) => BudgetPeriod::Day,
            Some(Period::Week) => BudgetPeriod::Week,
            Some(Period::Month) => BudgetPeriod::Month,
        } as i32,
        budget_micros: p.budget_micros,
        budget_alert_percent: p.budget_alert_percent,
    }
}

pub(super) fn personal_token_to_proto(t: TokenRow) -> PersonalToken {
    let status = match personal_tokens::status(&t, now_ms()) {
        "revoked" => PersonalTokenStatus::Revoked,
        "expired" => PersonalTokenStatus::Expired,
        _ => PersonalTokenStatus::Active,
    };
    PersonalToken {
        policy: Some(policy_to_proto(&personal_tokens::policy_of(&t))),
        id: t.id,
        user_id: t.user_id,
        name: t.name,
        prefix: t.prefix,
        status: status as i32,
        created_at: Some(ms_to_timestamp(t.created_at)),
        expires_at: t.expires_at.map(ms_to_timestamp),
        last_used_at: t.last_used_at.map(ms_to_timestamp),
        revoked_at: t.revoked_at.map(ms_to_timestamp),
    }
}

/// The session fields of the answers that sign someone in (setup, register, login).
pub(super) struct SignedIn {
    pub user: User,
    pub session: Session,
    pub session_token: String,
    pub csrf_token: String,
}

pub(super) fn signed_in(user: UserRow, opened: Opened) -> SignedIn {
    let current = opened.session.id.clone();
    SignedIn {
        user: user_to_proto(user),
        session: session_to_proto(opened.session, Some(&current)),
        session_token: opened.token.expose().clone(),
        csrf_token: opened.csrf,
    }
}
