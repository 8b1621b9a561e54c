//! OAuth/OIDC sign-in storage: providers, single-use login states and linked identities.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, SqlErr,
};

use crate::entities::{oauth_providers, oauth_states, user_identities};
use crate::{Error, Result, Store};

pub async fn list_providers(store: &Store) -> Result<Vec<oauth_providers::Model>> {
    Ok(oauth_providers::Entity::find()
        .order_by_asc(oauth_providers::Column::Id)
        .all(store.db())
        .await?)
}

pub async fn get_provider(store: &Store, id: &str) -> Result<oauth_providers::Model> {
    oauth_providers::Entity::find_by_id(id.to_string())
        .one(store.db())
        .await?
        .ok_or_else(|| Error::NotFound(format!("no sign-in provider named {id:?}")))
}

pub async fn insert_provider(db: &impl ConnectionTrait, row: oauth_providers::Model) -> Result<()> {
    let active: oauth_providers::ActiveModel = row.into();
    match active.insert(db).await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Err(
            Error::Conflict("a sign-in provider with this name already exists".into()),
        ),
        Err(e) => Err(e.into()),
    }
}

pub async fn update_provider(db: &impl ConnectionTrait, row: oauth_providers::Model) -> Result<()> {
    let active: oauth_providers::ActiveModel = row.into();
    let active = active.reset_all();
    active.update(db).await?;
    Ok(())
}

/// Replaces a provider's sealed secret if it is still `old` (master key rotation).
pub async fn swap_client_secret(store: &Store, id: &str, old: &str, new: String) -> Result<bool> {
    Ok(oauth_providers::Entity::update_many()
        .col_expr(oauth_providers::Column::ClientSecret, Expr::value(new))
        .filter(oauth_providers::Column::Id.eq(id))
        .filter(oauth_providers::Column::ClientSecret.eq(old))
        .exec(store.db())
        .await?
        .rows_affected
        == 1)
}

pub async fn delete_provider(db: &impl ConnectionTrait, id: &str) -> Result<bool> {
    oauth_states::Entity::delete_many()
        .filter(oauth_states::Column::ProviderId.eq(id))
        .exec(db)
        .await?;
    Ok(oauth_providers::Entity::delete_by_id(id.to_string())
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

pub async fn insert_state(store: &Store, row: oauth_states::Model) -> Result<()> {
    let active: oauth_states::ActiveModel = row.into();
    active.insert(store.db()).await?;
    Ok(())
}

/// Takes a state once: of any number of racing callbacks with the same state, exactly one gets
/// it (the one whose delete removed the row). Expired states are never returned.
pub async fn take_state(
    store: &Store,
    digest: &str,
    now: i64,
) -> Result<Option<oauth_states::Model>> {
    let Some(row) = oauth_states::Entity::find_by_id(digest.to_string())
        .one(store.db())
        .await?
    else {
        return Ok(None);
    };
    let taken = oauth_states::Entity::delete_many()
        .filter(oauth_states::Column::StateDigest.eq(digest))
        .exec(store.db())
        .await?
        .rows_affected
        == 1;
    Ok((taken && row.expires_at > now).then_some(row))
}

pub async fn prune_states(store: &Store, now: i64) -> Result<u64> {
    Ok(oauth_states::Entity::delete_many()
        .filter(oauth_states::Column::ExpiresAt.lte(now))
        .exec(store.db())
        .await?
        .rows_affected)
}

pub async fn find_identity(
    store: &Store,
    provider_id: &str,
    subject: &str,
) -> Result<Option<user_identities::Model>> {
    Ok(user_identities::Entity::find()
        .filter(user_identities::Column::ProviderId.eq(provider_id))
        .filter(user_identities::Column::Subject.eq(subject))
        .one(store.db())
        .await?)
}

/// Links an identity; a conflict when the provider's subject is already linked to someone.
pub async fn insert_identity(db: &impl ConnectionTrait, row: user_identities::Model) -> Result<()> {
    let active: user_identities::ActiveModel = row.into();
    match active.insert(db).await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Err(
            Error::Conflict("this account at the provider is already linked to a user".into()),
        ),
        Err(e) => Err(e.into()),
    }
}

pub async fn touch_identity(store: &Store, id: &str, now: i64) -> Result<()> {
    user_identities::Entity::update_many()
        .col_expr(user_identities::Column::LastLoginAt, Expr::value(now))
        .filter(user_identities::Column::Id.eq(id))
        .exec(store.db())
        .await?;
    Ok(())
}

pub async fn identities_of(store: &Store, user_id: &str) -> Result<Vec<user_identities::Model>> {
    Ok(user_identities::Entity::find()
        .filter(user_identities::Column::UserId.eq(user_id))
        .order_by_asc(user_identities::Column::CreatedAt)
        .all(store.db())
        .await?)
}

pub async fn count_identities(store: &Store, user_id: &str) -> Result<u64> {
    Ok(user_identities::Entity::find()
        .filter(user_identities::Column::UserId.eq(user_id))
        .count(store.db())
        .await?)
}

pub async fn delete_identity(db: &impl ConnectionTrait, user_id: &str, id: &str) -> Result<bool> {
    Ok(user_identities::Entity::delete_many()
        .filter(user_identities::Column::Id.eq(id))
        .filter(user_identities::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

pub async fn delete_identities_of(db: &impl ConnectionTrait, user_id: &str) -> Result<u64> {
    Ok(user_identities::Entity::delete_many()
        .filter(user_identities::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}
