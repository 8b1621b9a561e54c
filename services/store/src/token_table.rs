//! What the tables of bearer secrets share (personal and service tokens): rows found by the
//! SHA-256 digest of the secret, never by the secret; string ids (UUIDv7, so they sort by
//! creation time); revocation that keeps the first time; and a `last_used_at` written at most
//! once a minute, so authentication never turns every request into a database write.

use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select};

use crate::{Error, Result, Store};

/// `last_used_at` is written at most this often per token.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// A table of bearer secrets: its columns and what its rows are called in errors.
pub(crate) trait TokenTable: EntityTrait {
    const NOT_FOUND: &'static str;
    fn id() -> Self::Column;
    fn digest() -> Self::Column;
    fn revoked_at() -> Self::Column;
    fn last_used_at() -> Self::Column;
}

pub(crate) async fn find_by_digest<T: TokenTable>(
    store: &Store,
    digest: &str,
) -> Result<Option<T::Model>> {
    Ok(T::find()
        .filter(T::digest().eq(digest))
        .one(store.db())
        .await?)
}

pub(crate) async fn get<T: TokenTable>(db: &impl ConnectionTrait, id: &str) -> Result<T::Model> {
    T::find()
        .filter(T::id().eq(id))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(T::NOT_FOUND.into()))
}

/// One page of `query`, newest first; `before_id` is the previous page's last id.
pub(crate) fn page<T: TokenTable>(
    mut query: Select<T>,
    include_revoked: bool,
    before_id: Option<&str>,
) -> Select<T> {
    if !include_revoked {
        query = query.filter(T::revoked_at().is_null());
    }
    if let Some(id) = before_id {
        query = query.filter(T::id().lt(id));
    }
    query.order_by_desc(T::id())
}

/// Marks the token revoked unless it already was (`scope` narrows which rows may be). Writes
/// before anything reads, so in a SQLite transaction it takes the write lock first.
pub(crate) async fn revoke<T: TokenTable>(
    db: &impl ConnectionTrait,
    id: &str,
    scope: Condition,
    now: i64,
) -> Result<()> {
    T::update_many()
        .col_expr(T::revoked_at(), Expr::value(now))
        .filter(T::id().eq(id))
        .filter(T::revoked_at().is_null())
        .filter(scope)
        .exec(db)
        .await?;
    Ok(())
}

pub(crate) async fn touch_last_used<T: TokenTable>(
    store: &Store,
    id: &str,
    now: i64,
) -> Result<()> {
    T::update_many()
        .col_expr(T::last_used_at(), Expr::value(now))
        .filter(T::id().eq(id))
        .filter(
            Condition::any()
                .add(T::last_used_at().is_null())
                .add(T::last_used_at().lt(now - LAST_USED_RESOLUTION_MS)),
        )
        .exec(store.db())
        .await?;
    Ok(())
}
