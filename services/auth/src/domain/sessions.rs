//! Browser sessions: a random `ccs_` cookie value, stored as its SHA-256 with a 7-day sliding
//! expiry. The CSRF token is derived from the cookie value, so it is bound to the session
//! without being stored and cannot be computed by a page that cannot read the cookie.

use codex_central_common::crypto::{
    Secret, TokenKind, derived_token_value, generate_token, token_digest,
};
use codex_central_common::{Principal, PrincipalKind, Role};
use codex_central_store::entities::sessions::Model;
use codex_central_store::entities::users::Model as UserRow;
use codex_central_store::{Store, leases, now_ms, sessions, users};

use crate::Result;

/// Sliding lifetime of a session (pushed forward on use).
pub const SESSION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
const CSRF_LABEL: &str = "csrf";
const PRUNE_LEASE: &str = "sessions.prune";
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// A session just opened: the cookie value is only ever in here and in the browser.
pub struct Opened {
    pub session: Model,
    pub token: Secret<String>,
    pub csrf: String,
}

/// A session presented with a request, with its user.
pub struct Resolved {
    pub session: Model,
    pub user: UserRow,
    pub principal: Principal,
    pub csrf: String,
}

pub fn csrf_for(token: &str) -> String {
    derived_token_value(CSRF_LABEL, token)
}

pub fn principal_of(user: &UserRow) -> Principal {
    Principal {
        kind: PrincipalKind::User,
        id: user.id.clone(),
        name: user.username.clone(),
        role: if user.role == "admin" {
            Role::Admin
        } else {
            Role::Member
        },
    }
}

fn clip(s: &str, max: usize) -> String {
    s.chars().filter(|c| !c.is_control()).take(max).collect()
}

pub async fn open(
    db: &impl sea_orm::ConnectionTrait,
    user_id: &str,
    client_ip: &str,
    user_agent: &str,
) -> Result<Opened> {
    let token = generate_token(TokenKind::Session)?;
    let now = now_ms();
    let session = sessions::insert(
        db,
        Model {
            id: uuid::Uuid::now_v7().to_string(),
            token_digest: token_digest(token.expose()),
            user_id: user_id.to_string(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + SESSION_TTL_MS,
            client_ip: clip(client_ip, 64),
            user_agent: clip(user_agent, 255),
        },
    )
    .await?;
    let csrf = csrf_for(token.expose());
    Ok(Opened {
        session,
        token,
        csrf,
    })
}

/// The live session for a cookie value, if its user still exists and is enabled. Never cached:
/// logout and disabling a user must take effect on every replica at once.
pub async fn resolve(store: &Store, token: &str) -> Result<Option<Resolved>> {
    let token = token.trim();
    if TokenKind::of_token(token) != Some(TokenKind::Session) {
        return Ok(None);
    }
    let now = now_ms();
    let Some(session) = sessions::find_live(store, &token_digest(token), now).await? else {
        return Ok(None);
    };
    let user = match users::get(store.db(), &session.user_id).await {
        Ok(u) if u.enabled => u,
        Ok(_) | Err(codex_central_store::Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    sessions::slide(store, &session.id, now, SESSION_TTL_MS).await?;
    Ok(Some(Resolved {
        principal: principal_of(&user),
        csrf: csrf_for(token),
        session,
        user,
    }))
}

pub async fn close(db: &impl sea_orm::ConnectionTrait, token: &str) -> Result<bool> {
    Ok(sessions::delete_by_digest(db, &token_digest(token.trim())).await?)
}

/// Deletes expired sessions and sign-in states every ten minutes on whichever replica holds the lease.
pub fn spawn_pruner(store: Store, holder: String) -> tokio::task::JoinHandle<()> {
    leases::spawn_every(
        store,
        PRUNE_LEASE,
        holder,
        PRUNE_EVERY,
        |store| async move {
            match sessions::prune_expired(&store, now_ms()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(count = n, "expired sessions pruned"),
                Err(e) => tracing::warn!(error = %e, "session pruning failed"),
            }
            // Sign-ins that were started and never finished.
            if let Err(e) = codex_central_store::oauth::prune_states(&store, now_ms()).await {
                tracing::warn!(error = %e, "OAuth state pruning failed");
            }
        },
    )
}
