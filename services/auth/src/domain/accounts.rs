//! Signing in: the first-run admin, password login, open registration and password changes.
//!
//! Password checks are Argon2id and deliberately slow, so they run on the blocking pool behind
//! a small semaphore (a burst of logins queues instead of exhausting memory), and a login for
//! an unknown user verifies against a dummy hash so both failures take the same time.

use std::sync::OnceLock;

use codex_central_common::Principal;
use codex_central_common::crypto::{Secret, hash_password, token_digest, verify_password};
use codex_central_store::audit::{self, NewAuditEvent};
use codex_central_store::auth_failures::{self, Budget};
use codex_central_store::entities::users::{Column, Model as UserRow};
use codex_central_store::{Store, now_ms, settings, users};
use sea_orm::{SqlErr, TransactionTrait};
use serde_json::json;
use tokio::sync::Semaphore;

use super::sessions::{self, Opened};
use super::users::{UserRole, check_password, check_username};
use crate::{Error, Result};

/// Argon2id hashes in flight at once (19 MiB each).
static HASHING: Semaphore = Semaphore::const_new(4);
/// Set once, inside the transaction that creates the first admin: its primary key is what
/// makes two racing setups impossible to both succeed.
const SETUP_MARKER: &str = "setup.first_admin";
const REGISTRATION_KEY: &str = "registration.open";
/// Per username: 10 failures in 10 minutes block it for 15 minutes. The window matches the
/// host failure budget's, whose pruning also clears these rows.
const USER_BUDGET: Budget = Budget {
    max_failures: 10,
    window_ms: 600_000,
    block_ms: 900_000,
};
/// Per client address: more room, since one office or NAT address serves many people.
const IP_BUDGET: Budget = Budget {
    max_failures: 30,
    ..USER_BUDGET
};
const BAD_CREDENTIALS: &str = "invalid username or password";

/// Where a sign-in comes from (session rows and audit).
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: String,
    pub user_agent: String,
}

async fn hash(password: &Secret<String>) -> Result<String> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|_| Error::invalid_argument("server is shutting down"))?;
    let password = password.clone();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| Error::invalid_argument(format!("password hashing failed: {e}")))?
        .map_err(Error::from)
}

async fn verify(password: &Secret<String>, phc: Option<String>) -> Result<bool> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|_| Error::invalid_argument("server is shutting down"))?;
    let password = password.clone();
    let (phc, real) = match phc {
        Some(p) => (p, true),
        None => (dummy_hash()?, false),
    };
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .map_err(|e| Error::invalid_argument(format!("password check failed: {e}")))??;
    Ok(ok && real)
}

fn dummy_hash() -> Result<String> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h.clone());
    }
    let h = hash_password(&Secret::new("codex-central unknown user".to_string()))?;
    Ok(DUMMY.get_or_init(|| h).clone())
}

fn conflict(message: &str) -> Error {
    Error::from(codex_central_store::Error::Conflict(message.into()))
}

/// A person acting on their own account, known here by id only: signing in or up (no principal
/// yet), signing out, changing their password or their linked sign-ins.
pub(crate) fn own_event(user_id: &str, client: &Client, action: &str) -> NewAuditEvent {
    let me = format!("user:{user_id}");
    NewAuditEvent::without_principal(&me, &client.ip, action, me.clone())
}

pub async fn setup_required(store: &Store) -> Result<bool> {
    Ok(users::count(store).await? == 0)
}

/// Creates the first admin and signs them in, only while no user exists. Of any number of
/// racing calls exactly one succeeds; the rest get a conflict.
pub async fn complete_setup(
    store: &Store,
    username: &str,
    display_name: &str,
    password: &Secret<String>,
    client: &Client,
) -> Result<(UserRow, Opened)> {
    const DONE: &str = "setup is already complete: sign in instead";
    let username = check_username(username)?;
    let display_name = super::users::display_or_username(display_name, &username)?;
    check_password(password)?;
    if !setup_required(store).await? {
        return Err(conflict(DONE));
    }
    // The marker goes in first, so only the winner of a race pays for the slow hash; the
    // others wait on the marker's key and then fail on it.
    let txn = store
        .db()
        .begin()
        .await
        .map_err(codex_central_store::Error::from)?;
    let now = now_ms();
    let marker = codex_central_store::entities::settings::ActiveModel {
        key: sea_orm::Set(SETUP_MARKER.into()),
        value: sea_orm::Set(username.clone()),
        encrypted: sea_orm::Set(false),
        updated_at: sea_orm::Set(now),
        updated_by: sea_orm::Set("setup".into()),
    };
    if let Err(e) = sea_orm::EntityTrait::insert(marker).exec(&txn).await {
        let _ = txn.rollback().await;
        return Err(match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => conflict(DONE),
            // SQLite: another setup holds the write lock and is committing.
            _ if users::is_busy(&e) => conflict(DONE),
            _ => codex_central_store::Error::from(e).into(),
        });
    }
    if sea_orm::PaginatorTrait::count(
        <codex_central_store::entities::users::Entity as sea_orm::EntityTrait>::find(),
        &txn,
    )
    .await
    .map_err(codex_central_store::Error::from)?
        > 0
    {
        let _ = txn.rollback().await;
        return Err(conflict(DONE));
    }
    let password_hash = hash(password).await?;
    let user = users::insert(
        &txn,
        UserRow {
            id: uuid::Uuid::new_v4().to_string(),
            username: username.clone(),
            display_name,
            role: UserRole::Admin.as_str().into(),
            enabled: true,
            password_hash: Some(password_hash),
            created_at: now,
            updated_at: now,
            last_login_at: Some(now),
        },
    )
    .await?;
    let opened = sessions::open(&txn, &user.id, &client.ip, &client.user_agent).await?;
    let event =
        own_event(&user.id, client, "setup.complete").details(json!({"username": user.username}));
    audit::commit(txn, event).await?;
    Ok((user, opened))
}

fn budget_keys(ip: &str, username: &str) -> [String; 2] {
    let digest = token_digest(username);
    [
        format!("login-ip:{ip}"),
        format!("login-user:{}", digest.get(..40).unwrap_or(&digest)),
    ]
}

async fn check_not_blocked(store: &Store, keys: &[String; 2], now: i64) -> Result<()> {
    for key in keys {
        if let Some(until) = auth_failures::blocked_until(store, key, now).await? {
            return Err(Error::rate_limited(
                "too many failed sign-ins: try again later",
                u64::try_from((until - now + 999) / 1000)
                    .unwrap_or(1)
                    .max(1),
            ));
        }
    }
    Ok(())
}

/// Password sign-in. Unknown user and wrong password answer the same; a correct password for
/// a disabled account says the account is disabled.
pub async fn login(
    store: &Store,
    username: &str,
    password: &Secret<String>,
    client: &Client,
) -> Result<(UserRow, Opened)> {
    let name = username.trim().to_ascii_lowercase();
    let now = now_ms();
    let keys = budget_keys(&client.ip, &name);
    check_not_blocked(store, &keys, now).await?;
    let user = if name.is_empty() || name.len() > 64 {
        None
    } else {
        users::find_by_username(store, &name).await?
    };
    let phc = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = verify(password, phc).await?;
    let Some(user) = user.filter(|_| ok) else {
        let [ip_key, user_key] = &keys;
        auth_failures::record_failure(store, ip_key, now, IP_BUDGET).await?;
        auth_failures::record_failure(store, user_key, now, USER_BUDGET).await?;
        // Nothing changed but the failure counters, which must count even if this row fails.
        let target = format!("username:{}", name.chars().take(64).collect::<String>());
        let event =
            NewAuditEvent::without_principal("anonymous", &client.ip, "login.failure", target)
                .details(json!({"method": "password"}));
        audit::append(store.db(), event).await?;
        return Err(Error::unauthenticated(BAD_CREDENTIALS));
    };
    if !user.enabled {
        // A refusal changes nothing: the row is all there is to write.
        let event =
            own_event(&user.id, client, "login.refused").details(json!({"reason": "disabled"}));
        audit::append(store.db(), event).await?;
        return Err(Error::permission_denied("this account is disabled"));
    }
    signed_in(store, user, client, "password").await
}

/// Opens a session for a user who just proved who they are, and records it.
pub async fn signed_in(
    store: &Store,
    user: UserRow,
    client: &Client,
    method: &str,
) -> Result<(UserRow, Opened)> {
    let now = now_ms();
    let txn = store
        .db()
        .begin()
        .await
        .map_err(codex_central_store::Error::from)?;
    let user = users::update(
        &txn,
        &user.id,
        vec![(Column::LastLoginAt, Some(now).into())],
    )
    .await?;
    let opened = sessions::open(&txn, &user.id, &client.ip, &client.user_agent).await?;
    let event = own_event(&user.id, client, "login.success")
        .details(json!({"method": method, "session": opened.session.id}));
    audit::commit(txn, event).await?;
    Ok((user, opened))
}

pub async fn logout(store: &Store, token: &str, client: &Client) -> Result<()> {
    if let Some(found) = sessions::resolve(store, token).await? {
        let txn = store.begin().await?;
        sessions::close(&txn, token).await?;
        let event = own_event(&found.user.id, client, "logout")
            .details(json!({"session": found.session.id}));
        audit::commit(txn, event).await?;
    }
    Ok(())
}

pub async fn registration_open(store: &Store) -> Result<bool> {
    Ok(settings::get_json::<bool>(store, REGISTRATION_KEY).await?)
}

pub async fn set_registration_open(
    store: &Store,
    admin: &Principal,
    client: &Client,
    open: bool,
) -> Result<bool> {
    let txn = store.begin().await?;
    settings::put_json(&txn, REGISTRATION_KEY, &open, &admin.audit_actor()).await?;
    let event = NewAuditEvent::new(
        admin,
        &client.ip,
        "settings.registration",
        "setting:registration.open",
    )
    .details(json!({"open_registration": open}));
    audit::commit(txn, event).await?;
    Ok(open)
}

/// Creates a member account and signs it in, when open registration is on.
pub async fn register(
    store: &Store,
    username: &str,
    display_name: &str,
    password: &Secret<String>,
    client: &Client,
) -> Result<(UserRow, Opened)> {
    if !registration_open(store).await? {
        return Err(Error::permission_denied(
            "registration is closed: ask an administrator for an account",
        ));
    }
    let username = check_username(username)?;
    let display_name = super::users::display_or_username(display_name, &username)?;
    check_password(password)?;
    let password_hash = hash(password).await?;
    let now = now_ms();
    let txn = store
        .db()
        .begin()
        .await
        .map_err(codex_central_store::Error::from)?;
    let user = users::insert(
        &txn,
        UserRow {
            id: uuid::Uuid::new_v4().to_string(),
            username,
            display_name,
            role: UserRole::Member.as_str().into(),
            enabled: true,
            password_hash: Some(password_hash),
            created_at: now,
            updated_at: now,
            last_login_at: Some(now),
        },
    )
    .await?;
    let opened = sessions::open(&txn, &user.id, &client.ip, &client.user_agent).await?;
    let event =
        own_event(&user.id, client, "user.register").details(json!({"username": user.username}));
    audit::commit(txn, event).await?;
    Ok((user, opened))
}

/// A signed-in user changes their own password (the current one is required).
pub async fn change_password(
    store: &Store,
    user_id: &str,
    current: &Secret<String>,
    new: &Secret<String>,
    client: &Client,
) -> Result<()> {
    check_password(new).map_err(|_| {
        Error::invalid(
            "new_password",
            format!(
                "new_password must be at least {} characters",
                super::users::MIN_PASSWORD
            ),
        )
    })?;
    let user = users::get(store.db(), user_id).await?;
    if !verify(current, user.password_hash.clone()).await? {
        return Err(Error::invalid(
            "current_password",
            "current_password is not correct",
        ));
    }
    let phc = hash(new).await?;
    let txn = store.begin().await?;
    users::update(
        &txn,
        user_id,
        vec![(Column::PasswordHash, Some(phc).into())],
    )
    .await?;
    let event = own_event(user_id, client, "user.change_password").details(json!({}));
    audit::commit(txn, event).await?;
    Ok(())
}

/// Hashes a password on the blocking pool (the CLI and admin resets use it too).
pub async fn hash_new_password(password: &Secret<String>) -> Result<String> {
    hash(password).await
}
