//! People's accounts: create, list, change, delete. Passwords are Argon2id; the last enabled
//! admin can be neither demoted, disabled nor deleted (decided under a serializing guard).

use codex_central_common::crypto::Secret;
use codex_central_store::entities::users::{Column, Model};
use codex_central_store::{Store, audit, byok_keys, now_ms, personal_tokens, sessions, users};

use super::service_tokens::Actor;
use crate::{Error, Result};

pub const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRole {
    Admin,
    Member,
}

impl UserRole {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::Member => "member",
        }
    }
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::invalid(field, message)
}

/// Usernames: 2–64 of lowercase letters, digits, `.`, `_`, `-` (they appear in URLs and logs).
pub fn check_username(raw: &str) -> Result<String> {
    let u = raw.trim().to_ascii_lowercase();
    let ok = (2..=64).contains(&u.len())
        && u.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(u)
    } else {
        Err(invalid(
            "username",
            "username must be 2-64 characters of a-z, 0-9, '.', '_' or '-'",
        ))
    }
}

pub fn check_password(password: &Secret<String>) -> Result<()> {
    let n = password.expose().chars().count();
    if n < MIN_PASSWORD {
        return Err(invalid(
            "password",
            format!("password must be at least {MIN_PASSWORD} characters"),
        ));
    }
    if password.expose().len() > MAX_PASSWORD {
        return Err(invalid("password", "password is too long"));
    }
    Ok(())
}

/// The display name, or the username when none is given.
pub(crate) fn display_or_username(raw: &str, username: &str) -> Result<String> {
    let d = check_display_name(raw)?;
    Ok(if d.is_empty() {
        username.to_string()
    } else {
        d
    })
}

fn check_display_name(raw: &str) -> Result<String> {
    let d = raw.trim();
    if d.chars().count() > 191 || d.chars().any(char::is_control) {
        return Err(invalid(
            "display_name",
            "display_name must be at most 191 printable characters",
        ));
    }
    Ok(d.to_string())
}

fn event(actor: &Actor, action: &str, user: &Model) -> audit::NewAuditEvent {
    actor.event(action, format!("user:{}", user.id)).details(
        serde_json::json!({"username": user.username, "role": user.role, "enabled": user.enabled}),
    )
}

pub async fn create(
    store: &Store,
    actor: &Actor,
    username: &str,
    display_name: &str,
    password: &Secret<String>,
    role: UserRole,
) -> Result<Model> {
    let username = check_username(username)?;
    let display_name = display_or_username(display_name, &username)?;
    check_password(password)?;
    let password_hash = super::accounts::hash_new_password(password).await?;
    let now = now_ms();
    let txn = store.begin().await?;
    let user = users::insert(
        &txn,
        Model {
            id: uuid::Uuid::new_v4().to_string(),
            display_name,
            username,
            role: role.as_str().into(),
            enabled: true,
            password_hash: Some(password_hash),
            created_at: now,
            updated_at: now,
            last_login_at: None,
        },
    )
    .await?;
    audit::commit(txn, event(actor, "user.create", &user)).await?;
    Ok(user)
}

pub async fn set_display_name(store: &Store, actor: &Actor, id: &str, name: &str) -> Result<Model> {
    let name = check_display_name(name)?;
    let txn = store.begin().await?;
    let user = users::update(&txn, id, vec![(Column::DisplayName, name.into())]).await?;
    audit::commit(txn, event(actor, "user.update", &user)).await?;
    Ok(user)
}

/// Applies `change`, or deletes the user with everything that signs them in (`None`), with its
/// audit row, unless it would leave no enabled admin. Returns the user after the change (before
/// it, for a delete).
async fn guarded_change(
    store: &Store,
    actor: &Actor,
    action: &'static str,
    id: &str,
    change: Option<Vec<(Column, sea_orm::Value)>>,
) -> Result<Model> {
    let id = id.to_string();
    let actor = actor.clone();
    let out = users::guarded(store, move |txn| {
        let id = id.clone();
        let change = change.clone();
        let actor = actor.clone();
        Box::pin(async move {
            let before = users::get(txn, &id).await?;
            let was_admin = before.role == "admin" && before.enabled;
            let after = match change {
                Some(c) => Some(users::update(txn, &id, c).await?),
                None => {
                    sessions::delete_all_for_user(txn, &id).await?;
                    personal_tokens::delete_all_for_user(txn, &id).await?;
                    byok_keys::delete_all_for_user(txn, &id).await?;
                    codex_central_store::oauth::delete_identities_of(txn, &id).await?;
                    users::delete(txn, &id).await?;
                    None
                }
            };
            let still_admin = after
                .as_ref()
                .is_some_and(|a| a.role == "admin" && a.enabled);
            if was_admin && !still_admin && users::enabled_admins(txn).await? == 0 {
                return Err(codex_central_store::Error::Conflict(
                    "the last enabled admin cannot be demoted, disabled or deleted".into(),
                ));
            }
            let user = after.unwrap_or(before);
            audit::append(txn, event(&actor, action, &user)).await?;
            Ok(user)
        })
    })
    .await?;
    Ok(out)
}

pub async fn set_role(store: &Store, actor: &Actor, id: &str, role: UserRole) -> Result<Model> {
    let change = vec![(Column::Role, role.as_str().into())];
    guarded_change(store, actor, "user.set_role", id, Some(change)).await
}

pub async fn set_enabled(store: &Store, actor: &Actor, id: &str, enabled: bool) -> Result<Model> {
    let action = if enabled {
        "user.enable"
    } else {
        "user.disable"
    };
    let change = vec![(Column::Enabled, enabled.into())];
    guarded_change(store, actor, action, id, Some(change)).await
}

pub async fn delete(store: &Store, actor: &Actor, id: &str) -> Result<()> {
    guarded_change(store, actor, "user.delete", id, None).await?;
    Ok(())
}

pub async fn reset_password(
    store: &Store,
    actor: &Actor,
    id: &str,
    password: &Secret<String>,
) -> Result<Model> {
    check_password(password)?;
    let hash = super::accounts::hash_new_password(password).await?;
    let txn = store.begin().await?;
    let user = users::update(&txn, id, vec![(Column::PasswordHash, Some(hash).into())]).await?;
    sessions::delete_all_for_user(&txn, &user.id).await?;
    audit::commit(txn, event(actor, "user.reset_password", &user)).await?;
    Ok(user)
}

/// The account rules on a real (temporary SQLite) store, without a server in front.
#[cfg(test)]
mod tests {
    use codex_central_common::Principal;
    use codex_central_common::error::Kind;

    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        (dir, Store::connect_and_migrate(&url).await.unwrap())
    }

    fn admin() -> Actor {
        Actor {
            principal: Principal::local_admin(),
            client_ip: String::new(),
        }
    }

    fn pw(text: &str) -> Secret<String> {
        Secret::new(text.to_string())
    }

    #[test]
    fn usernames_and_passwords() {
        assert_eq!(check_username(" Alice.B ").unwrap(), "alice.b");
        for bad in ["a", "has space", "ümlaut", &"x".repeat(65)] {
            assert_eq!(
                check_username(bad).unwrap_err().fields()[0].field,
                "username"
            );
        }
        assert!(check_password(&pw("12345678")).is_ok());
        assert_eq!(
            check_password(&pw("1234567")).unwrap_err().fields()[0].field,
            "password"
        );
        assert!(check_password(&pw(&"p".repeat(MAX_PASSWORD + 1))).is_err());
        assert_eq!(display_or_username("", "bob").unwrap(), "bob");
        assert!(display_or_username("bad\u{7}", "bob").is_err());
    }

    /// Refusals are conflicts (409), decided in the same transaction as the change.
    #[tokio::test]
    async fn the_last_enabled_admin_stays() {
        let (_dir, store) = store().await;
        let a = create(
            &store,
            &admin(),
            "ada",
            "",
            &pw("a-long-password"),
            UserRole::Admin,
        )
        .await
        .unwrap();
        for refused in [
            set_role(&store, &admin(), &a.id, UserRole::Member).await,
            set_enabled(&store, &admin(), &a.id, false).await,
        ] {
            assert_eq!(refused.unwrap_err().kind(), Kind::AlreadyExists);
        }
        assert_eq!(
            delete(&store, &admin(), &a.id).await.unwrap_err().kind(),
            Kind::AlreadyExists
        );
        let b = create(
            &store,
            &admin(),
            "bea",
            "",
            &pw("a-long-password"),
            UserRole::Admin,
        )
        .await
        .unwrap();
        assert!(set_enabled(&store, &admin(), &a.id, false).await.is_ok());
        assert_eq!(
            set_role(&store, &admin(), &b.id, UserRole::Member)
                .await
                .unwrap_err()
                .kind(),
            Kind::AlreadyExists
        );
        let dup = create(
            &store,
            &admin(),
            "ADA",
            "",
            &pw("a-long-password"),
            UserRole::Member,
        )
        .await;
        assert_eq!(dup.unwrap_err().kind(), Kind::AlreadyExists);
    }
}
