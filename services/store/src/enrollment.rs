//! Single-use installer and seed tokens. Consumption is one conditional UPDATE whose
//! affected-row count decides the single winner, on every backend.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entities::{installer_tokens, seed_tokens};
use crate::{Result, Store};

pub async fn insert_installer(
    db: &impl ConnectionTrait,
    token: installer_tokens::Model,
) -> Result<()> {
    let active: installer_tokens::ActiveModel = token.into();
    active.insert(db).await?;
    Ok(())
}

/// Invalidates a host's unused installers (after a key rotation the old key is useless).
pub async fn revoke_installers_of(db: &impl ConnectionTrait, host_id: i64, now: i64) -> Result<()> {
    installer_tokens::Entity::update_many()
        .col_expr(installer_tokens::Column::UsedAt, Expr::value(now))
        .col_expr(installer_tokens::Column::KeyEnc, Expr::value(""))
        .filter(installer_tokens::Column::HostId.eq(host_id))
        .filter(installer_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn installer(store: &Store, digest: &str) -> Result<Option<installer_tokens::Model>> {
    Ok(installer_tokens::Entity::find_by_id(digest.to_string())
        .one(store.db())
        .await?)
}

/// Marks the installer used if it is still unused and unexpired, erasing the stored key.
/// Returns whether this call won.
pub async fn consume_installer(store: &Store, digest: &str, now: i64) -> Result<bool> {
    let res = installer_tokens::Entity::update_many()
        .col_expr(installer_tokens::Column::UsedAt, Expr::value(now))
        .col_expr(installer_tokens::Column::KeyEnc, Expr::value(""))
        .filter(installer_tokens::Column::TokenDigest.eq(digest))
        .filter(installer_tokens::Column::UsedAt.is_null())
        .filter(installer_tokens::Column::ExpiresAt.gt(now))
        .exec(store.db())
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn insert_seed(db: &impl ConnectionTrait, token: seed_tokens::Model) -> Result<()> {
    let active: seed_tokens::ActiveModel = token.into();
    active.insert(db).await?;
    Ok(())
}

pub async fn seed(store: &Store, digest: &str) -> Result<Option<seed_tokens::Model>> {
    Ok(seed_tokens::Entity::find_by_id(digest.to_string())
        .one(store.db())
        .await?)
}

/// Marks a seed token used if still valid; returns whether this call won.
pub async fn consume_seed(store: &Store, digest: &str, now: i64) -> Result<bool> {
    let res = seed_tokens::Entity::update_many()
        .col_expr(seed_tokens::Column::UsedAt, Expr::value(now))
        .filter(seed_tokens::Column::TokenDigest.eq(digest))
        .filter(seed_tokens::Column::UsedAt.is_null())
        .filter(seed_tokens::Column::ExpiresAt.gt(now))
        .exec(store.db())
        .await?;
    Ok(res.rows_affected == 1)
}
