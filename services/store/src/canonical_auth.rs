//! The canonical Codex auth.json (one row, id = 1). Writes are a compare-and-set on the
//! document's `last_refresh`, so concurrent stores serialize in the database and the newest
//! always wins, with no lock held across statements.

use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, RuntimeErr, Set, SqlErr,
};

use crate::entities::canonical_auth::{ActiveModel, Column, Entity, Model};
use crate::{Result, Store};

const ROW_ID: i32 = 1;

pub async fn get(store: &Store) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(ROW_ID).one(store.db()).await?)
}

/// The document to write; `last_refresh_us` is the instant of `last_refresh` in microseconds.
#[derive(Debug, Clone)]
pub struct NewCanonical {
    pub body_enc: String,
    pub digest: String,
    pub last_refresh: String,
    pub last_refresh_us: i64,
    pub source: String,
    pub now: i64,
}

/// Writes `doc` if there is no canonical copy, it is newer, or it has the same instant and a
/// different digest. Returns whether it was written; `false` also when the database picked
/// this writer to lose a race, so re-read and decide again. In a transaction, roll it back on
/// `false` (the refused insert or the deadlock has aborted it).
pub async fn put_if_newer(db: &impl ConnectionTrait, doc: NewCanonical) -> Result<bool> {
    match try_put(db, doc).await {
        Err(err) if lost_race(&err) => Ok(false),
        other => other.map_err(Into::into),
    }
}

/// A deadlock or serialization failure (SQLSTATE 40001, or 40P01 on PostgreSQL). Two
/// transactions that both find no row and then insert it deadlock on MySQL's gap locks.
pub(crate) fn lost_race(err: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "40001" || code == "40P01")
}

async fn try_put(db: &impl ConnectionTrait, doc: NewCanonical) -> std::result::Result<bool, DbErr> {
    let updated = Entity::update_many()
        .col_expr(Column::BodyEnc, Expr::value(doc.body_enc.clone()))
        .col_expr(Column::Digest, Expr::value(doc.digest.clone()))
        .col_expr(Column::LastRefresh, Expr::value(doc.last_refresh.clone()))
        .col_expr(Column::LastRefreshUs, Expr::value(doc.last_refresh_us))
        .col_expr(Column::Source, Expr::value(doc.source.clone()))
        .col_expr(Column::UpdatedAt, Expr::value(doc.now))
        .filter(Column::Id.eq(ROW_ID))
        .filter(
            Condition::any()
                .add(Column::LastRefreshUs.lt(doc.last_refresh_us))
                .add(
                    Condition::all()
                        .add(Column::LastRefreshUs.eq(doc.last_refresh_us))
                        .add(Column::Digest.ne(doc.digest.as_str())),
                ),
        )
        .exec(db)
        .await?;
    if updated.rows_affected == 1 {
        return Ok(true);
    }
    let row = ActiveModel {
        id: Set(ROW_ID),
        body_enc: Set(doc.body_enc),
        digest: Set(doc.digest),
        last_refresh: Set(doc.last_refresh),
        last_refresh_us: Set(doc.last_refresh_us),
        source: Set(doc.source),
        updated_at: Set(doc.now),
    };
    match Entity::insert(row).exec(db).await {
        Ok(_) => Ok(true),
        // A copy exists and is at least as new (or another writer inserted first).
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Ok(false)
        }
        Err(err) => Err(err),
    }
}

/// Replaces the document only while it still is the one with digest `expected` (a server-side
/// refresh: a host that stored something else meanwhile wins). Returns whether it was written.
pub async fn replace_if_digest(
    db: &impl ConnectionTrait,
    expected: &str,
    doc: NewCanonical,
) -> Result<bool> {
    let updated = Entity::update_many()
        .col_expr(Column::BodyEnc, Expr::value(doc.body_enc))
        .col_expr(Column::Digest, Expr::value(doc.digest))
        .col_expr(Column::LastRefresh, Expr::value(doc.last_refresh))
        .col_expr(Column::LastRefreshUs, Expr::value(doc.last_refresh_us))
        .col_expr(Column::Source, Expr::value(doc.source))
        .col_expr(Column::UpdatedAt, Expr::value(doc.now))
        .filter(Column::Id.eq(ROW_ID))
        .filter(Column::Digest.eq(expected))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Replaces the encrypted body only if it still is `old` (master-key rotation).
pub async fn swap_body(store: &Store, old: &str, new: String) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::BodyEnc, Expr::value(new))
        .filter(Column::Id.eq(ROW_ID))
        .filter(Column::BodyEnc.eq(old))
        .exec(store.db())
        .await?;
    Ok(res.rows_affected == 1)
}
