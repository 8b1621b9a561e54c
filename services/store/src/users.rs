//! User rows. Changes that could remove the last enabled admin go through [`guarded`], which
//! serializes them on every backend (see there).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};

use crate::entities::settings;
use crate::entities::users::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, Store, now_ms};

pub async fn insert(db: &impl ConnectionTrait, user: Model) -> Result<Model> {
    let active: ActiveModel = user.into();
    active.insert(db).await.map_err(|err| match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::Conflict("a user with this username already exists".into())
        }
        _ => Error::Db(err),
    })
}

pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Model> {
    Entity::find_by_id(id.to_string())
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound("User not found".into()))
}

/// The usernames of the users among `ids` (ones that are gone are left out).
pub async fn usernames(store: &Store, ids: Vec<String>) -> Result<Vec<(String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(Entity::find()
        .select_only()
        .column(Column::Id)
        .column(Column::Username)
        .filter(Column::Id.is_in(ids))
        .into_tuple()
        .all(store.db())
        .await?)
}

pub async fn find_by_username(store: &Store, username: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Username.eq(username))
        .one(store.db())
        .await?)
}

pub async fn count(store: &Store) -> Result<u64> {
    Ok(Entity::find().count(store.db()).await?)
}

/// Users ordered by username, after `after` (keyset), matching `query` in username or name.
pub async fn list(
    store: &Store,
    query: &str,
    include_disabled: bool,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut q = Entity::find();
    if !query.is_empty() {
        q = q.filter(
            Column::Username
                .contains(query)
                .or(Column::DisplayName.contains(query)),
        );
    }
    if !include_disabled {
        q = q.filter(Column::Enabled.eq(true));
    }
    if let Some(a) = after {
        q = q.filter(Column::Username.gt(a));
    }
    Ok(q.order_by_asc(Column::Username)
        .limit(limit)
        .all(store.db())
        .await?)
}

/// Sets columns of one user (and `updated_at`); returns the row after.
pub async fn update(
    db: &impl ConnectionTrait,
    id: &str,
    changes: Vec<(Column, sea_orm::Value)>,
) -> Result<Model> {
    let mut q = Entity::update_many()
        .col_expr(Column::UpdatedAt, Expr::value(now_ms()))
        .filter(Column::Id.eq(id));
    for (column, value) in changes {
        q = q.col_expr(column, Expr::value(value));
    }
    if q.exec(db).await?.rows_affected == 0 {
        return Err(Error::NotFound("User not found".into()));
    }
    get(db, id).await
}

pub async fn delete(db: &impl ConnectionTrait, id: &str) -> Result<bool> {
    Ok(Entity::delete_by_id(id.to_string())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

pub async fn enabled_admins(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(Entity::find()
        .filter(Column::Role.eq("admin"))
        .filter(Column::Enabled.eq(true))
        .count(db)
        .await?)
}

const GUARD_KEY: &str = "users.admin_guard";

/// Runs `change` in a transaction that also bumps a guard row with a compare-and-set. Two
/// changes racing on the set of admins cannot both commit: the second's compare fails after
/// the first commits (row locks on PostgreSQL/MySQL, one writer on SQLite), it is rolled back
/// and retried, and then sees the first one's effect. So "never remove the last enabled admin"
/// holds under concurrency on every backend.
pub async fn guarded<T, F>(store: &Store, mut change: F) -> Result<T>
where
    F: for<'c> FnMut(
        &'c DatabaseTransaction,
    )
        -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'c>>,
{
    for attempt in 0..20u64 {
        match guarded_once(store, &mut change).await {
            Ok(Some(out)) => return Ok(out),
            Ok(None) => {}
            // SQLite answers a second writer's lock upgrade with "busy" at once: retry it too.
            Err(Error::Db(e)) if is_busy(&e) => {}
            Err(e) => return Err(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(5 + 5 * attempt)).await;
    }
    Err(Error::Conflict(
        "users are changing too often; retry".into(),
    ))
}

/// SQLite's answer to a second writer while the first holds the write lock ("database is
/// locked", `SQLITE_BUSY`).
pub fn is_busy(e: &sea_orm::DbErr) -> bool {
    let text = e.to_string();
    text.contains("database is locked") || text.contains("(code: 5)")
}

/// One attempt: `Ok(None)` when another change committed first (try again).
async fn guarded_once<T, F>(store: &Store, change: &mut F) -> Result<Option<T>>
where
    F: for<'c> FnMut(
        &'c DatabaseTransaction,
    )
        -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'c>>,
{
    let txn = store.db().begin().await?;
    let current = settings::Entity::find_by_id(GUARD_KEY.to_string())
        .one(&txn)
        .await?
        .map(|r| r.value);
    let out = change(&txn).await?;
    let next = current
        .as_deref()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
        + 1;
    let swapped = match &current {
        Some(v) => {
            settings::Entity::update_many()
                .col_expr(settings::Column::Value, Expr::value(next.to_string()))
                .filter(settings::Column::Key.eq(GUARD_KEY))
                .filter(settings::Column::Value.eq(v.as_str()))
                .exec(&txn)
                .await?
                .rows_affected
                == 1
        }
        None => settings::Entity::insert(settings::ActiveModel {
            key: sea_orm::Set(GUARD_KEY.to_string()),
            value: sea_orm::Set(next.to_string()),
            encrypted: sea_orm::Set(false),
            updated_at: sea_orm::Set(now_ms()),
            updated_by: sea_orm::Set("system".into()),
        })
        .exec(&txn)
        .await
        .is_ok(),
    };
    if swapped {
        txn.commit().await?;
        Ok(Some(out))
    } else {
        txn.rollback().await?;
        Ok(None)
    }
}
