//! Key/value settings (JSON documents), the backing of every policy-style read.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::audit::{self, NewAuditEvent};
use crate::entities::settings::{ActiveModel, Column, Entity, Model};
use crate::{Error, Result, Store, now_ms};

pub async fn get(store: &Store, key: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(key.to_string()).one(store.db()).await?)
}

/// Reads a plain (unencrypted) JSON setting, or `T::default()` when it was never written.
pub async fn get_json<T: DeserializeOwned + Default>(store: &Store, key: &str) -> Result<T> {
    match get(store, key).await? {
        None => Ok(T::default()),
        Some(row) if row.encrypted => Err(Error::Corrupt(format!(
            "setting {key} is encrypted and cannot be read as plain JSON"
        ))),
        Some(row) => serde_json::from_str(&row.value)
            .map_err(|e| Error::Corrupt(format!("setting {key}: {e}"))),
    }
}

/// Inserts or replaces a setting (one statement; last writer wins).
pub async fn put(
    db: &impl ConnectionTrait,
    key: &str,
    value: String,
    encrypted: bool,
    by: &str,
) -> Result<()> {
    let row = ActiveModel {
        key: Set(key.to_string()),
        value: Set(value),
        encrypted: Set(encrypted),
        updated_at: Set(now_ms()),
        updated_by: Set(by.to_string()),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::Key)
                .update_columns([
                    Column::Value,
                    Column::Encrypted,
                    Column::UpdatedAt,
                    Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

pub async fn put_json<T: Serialize>(
    db: &impl ConnectionTrait,
    key: &str,
    value: &T,
    by: &str,
) -> Result<()> {
    let text = serde_json::to_string(value)
        .map_err(|e| Error::Corrupt(format!("setting {key} does not serialize: {e}")))?;
    put(db, key, text, false, by).await
}

/// Every encrypted setting, for master-key rotation.
pub async fn list_encrypted(store: &Store) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::Encrypted.eq(true))
        .order_by_asc(Column::Key)
        .all(store.db())
        .await?)
}

/// Replaces an encrypted value only if it still holds `old` (so a concurrent write is not lost
/// by a rotation). Returns whether the row changed.
pub async fn swap_encrypted(store: &Store, key: &str, old: &str, new: String) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::Value, sea_orm::sea_query::Expr::value(new))
        .filter(Column::Key.eq(key))
        .filter(Column::Value.eq(old))
        .exec(store.db())
        .await?;
    Ok(res.rows_affected == 1)
}

/// Writes `new` only if the stored value is still `old` (`None`: not written yet). Returns
/// whether it was written; on `false` re-read and retry, so concurrent read-modify-write
/// updates of one document never lose each other's changes.
pub async fn compare_and_put(
    db: &impl ConnectionTrait,
    key: &str,
    old: Option<&str>,
    new: String,
    by: &str,
) -> Result<bool> {
    match old {
        Some(old) => {
            let res = Entity::update_many()
                .col_expr(Column::Value, sea_orm::sea_query::Expr::value(new))
                .col_expr(Column::UpdatedAt, sea_orm::sea_query::Expr::value(now_ms()))
                .col_expr(Column::UpdatedBy, sea_orm::sea_query::Expr::value(by))
                .filter(Column::Key.eq(key))
                .filter(Column::Value.eq(old))
                .exec(db)
                .await?;
            Ok(res.rows_affected == 1)
        }
        None => {
            let row = ActiveModel {
                key: Set(key.to_string()),
                value: Set(new),
                encrypted: Set(false),
                updated_at: Set(now_ms()),
                updated_by: Set(by.to_string()),
            };
            match Entity::insert(row).exec(db).await {
                Ok(_) => Ok(true),
                Err(e)
                    if matches!(
                        e.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
                {
                    Ok(false)
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// Read-modify-write of a JSON setting with [`compare_and_put`], retried on conflicts. The
/// event `audit` gives for the new value, if any, is appended in the write's transaction.
pub async fn update_json<T, F, A>(
    store: &Store,
    key: &str,
    by: &str,
    mut change: F,
    audit: A,
) -> Result<T>
where
    T: Serialize + DeserializeOwned + Default,
    F: FnMut(&mut T) -> Result<()>,
    A: Fn(&T) -> Option<NewAuditEvent>,
{
    for _ in 0..16 {
        let row = get(store, key).await?;
        let mut value: T = match &row {
            None => T::default(),
            Some(r) => serde_json::from_str(&r.value)
                .map_err(|e| Error::Corrupt(format!("setting {key}: {e}")))?,
        };
        change(&mut value)?;
        let text = serde_json::to_string(&value)
            .map_err(|e| Error::Corrupt(format!("setting {key} does not serialize: {e}")))?;
        let txn = store.begin().await?;
        if compare_and_put(&txn, key, row.as_ref().map(|r| r.value.as_str()), text, by).await? {
            match audit(&value) {
                Some(event) => audit::commit(txn, event).await?,
                None => txn.commit().await?,
            }
            return Ok(value);
        }
        txn.rollback().await?;
    }
    Err(Error::Conflict(format!(
        "setting {key} is changing too often; retry"
    )))
}

/// Removes a setting; false when there was none.
pub async fn delete(db: &impl ConnectionTrait, key: &str) -> Result<bool> {
    Ok(Entity::delete_by_id(key.to_string())
        .exec(db)
        .await?
        .rows_affected
        == 1)
}
