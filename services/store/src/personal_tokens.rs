//! Personal API tokens (`m2c_…`). Only the SHA-256 digest of a token is stored.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect,
};

use crate::entities::personal_tokens::{ActiveModel, Column, Entity, Model};
use crate::token_table::{self, TokenTable};
use crate::{Error, Result, Store};

impl TokenTable for Entity {
    const NOT_FOUND: &'static str = "Token not found";
    fn id() -> Column {
        Column::Id
    }
    fn digest() -> Column {
        Column::TokenDigest
    }
    fn revoked_at() -> Column {
        Column::RevokedAt
    }
    fn last_used_at() -> Column {
        Column::LastUsedAt
    }
}

/// (id, name) of the tokens with these ids, revoked ones included.
pub async fn names(store: &Store, ids: Vec<String>) -> Result<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Name)
        .filter(Column::Id.is_in(ids))
        .into_tuple()
        .all(store.db())
        .await?)
}

pub async fn insert(db: &impl ConnectionTrait, token: Model) -> Result<Model> {
    let active: ActiveModel = token.into();
    Ok(active.insert(db).await?)
}

pub async fn find_by_digest(store: &Store, digest: &str) -> Result<Option<Model>> {
    token_table::find_by_digest::<Entity>(store, digest).await
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Model> {
    token_table::get::<Entity>(db, id).await
}

/// A user's tokens, newest first; `before_id` is the previous page's last id.
pub async fn list_for_user(
    store: &Store,
    user_id: &str,
    include_revoked: bool,
    before_id: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>> {
    let mine = Entity::find().filter(Column::UserId.eq(user_id));
    Ok(token_table::page(mine, include_revoked, before_id)
        .limit(limit)
        .all(store.db())
        .await?)
}

pub async fn count_active_for_user(store: &Store, user_id: &str) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(Entity::find()
        .filter(Column::UserId.eq(user_id))
        .filter(Column::RevokedAt.is_null())
        .count(store.db())
        .await?)
}

/// Revokes one of `user_id`'s tokens (idempotent: the first revocation time is kept).
pub async fn revoke(db: &impl ConnectionTrait, user_id: &str, id: &str, now: i64) -> Result<Model> {
    let theirs = Condition::all().add(Column::UserId.eq(user_id));
    token_table::revoke::<Entity>(db, id, theirs, now).await?;
    let token = get(db, id).await?;
    if token.user_id != user_id {
        return Err(Error::NotFound("Token not found".into()));
    }
    Ok(token)
}

pub async fn set_policy(db: &impl ConnectionTrait, id: &str, policy: String) -> Result<Model> {
    Entity::update_many()
        .col_expr(Column::Policy, Expr::value(policy))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    get(db, id).await
}

pub async fn touch_last_used(store: &Store, id: &str, now: i64) -> Result<()> {
    token_table::touch_last_used::<Entity>(store, id, now).await
}

/// Removes a deleted user's tokens.
pub async fn delete_all_for_user(db: &impl ConnectionTrait, user_id: &str) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected)
}
