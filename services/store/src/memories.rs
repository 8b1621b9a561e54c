//! Memories: writes, reads, soft deletes, and the PostgreSQL search language. The search
//! itself is in [`crate::memory_search`].

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Set, Statement,
};

use crate::entities::memories::{ActiveModel, Column, Entity, Model};
use crate::entities::memory_tags;
use crate::{Backend, Error, Result, Store};

pub use crate::memory_search::{Hit, Search, search, search_terms};

/// One memory to write; `record_id` is used only when the key is new.
#[derive(Debug, Clone)]
pub struct NewMemory {
    pub record_id: String,
    pub owner_kind: String,
    pub owner_id: String,
    pub key: String,
    pub title: String,
    pub content: String,
    /// Normalised by the caller.
    pub tags: Vec<String>,
    pub metadata_json: String,
    pub resource_id: String,
    pub content_sha: String,
    pub now: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    Unchanged,
}

/// Creates or updates the memory under (owner, key); a soft-deleted one comes back. The row
/// and its tags change in one transaction. Two writers of one new key, or a deadlock the
/// database broke, are tried again: the loser then finds the winner's row.
pub async fn put(store: &Store, m: NewMemory) -> Result<(Written, Model)> {
    let mut attempts = 0;
    loop {
        match try_put(store, m.clone()).await {
            Err(Error::Db(err)) if attempts < 3 && retryable(&err) => attempts += 1,
            other => return other,
        }
    }
}

fn retryable(err: &sea_orm::DbErr) -> bool {
    crate::canonical_auth::lost_race(err)
        || matches!(
            err.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        )
}

async fn try_put(store: &Store, m: NewMemory) -> Result<(Written, Model)> {
    // Reads then writes: on SQLite take the write lock first (a read lock cannot be upgraded
    // while another writer holds it).
    let txn = store.begin_write().await?;
    let existing = Entity::find()
        .filter(Column::OwnerKind.eq(&m.owner_kind))
        .filter(Column::OwnerId.eq(&m.owner_id))
        .filter(Column::MemKey.eq(&m.key))
        .one(&txn)
        .await?;
    let tags_text = m.tags.join(" ");
    let (written, record_id, created_at) = match &existing {
        Some(row) if row.deleted_at.is_none() && row.content_sha == m.content_sha => {
            txn.commit().await?;
            return Ok((Written::Unchanged, row.clone()));
        }
        Some(row) => (Written::Updated, row.record_id.clone(), row.created_at),
        None => (Written::Created, m.record_id.clone(), m.now),
    };
    let active = ActiveModel {
        record_id: Set(record_id.clone()),
        owner_kind: Set(m.owner_kind),
        owner_id: Set(m.owner_id),
        mem_key: Set(m.key),
        title: Set(m.title),
        content: Set(m.content),
        tags_text: Set(tags_text),
        metadata_json: Set(m.metadata_json),
        resource_id: Set(m.resource_id),
        content_sha: Set(m.content_sha),
        created_at: Set(created_at),
        updated_at: Set(m.now),
        deleted_at: Set(None),
    };
    let model = if existing.is_some() {
        Entity::update(active).exec(&txn).await?
    } else {
        Entity::insert(active).exec_with_returning(&txn).await?
    };
    // A new row has no tags to drop, and on InnoDB deleting none would take a gap lock that
    // concurrent creates (time-ordered ids) deadlock on.
    if existing.is_some() {
        memory_tags::Entity::delete_many()
            .filter(memory_tags::Column::RecordId.eq(&record_id))
            .exec(&txn)
            .await?;
    }
    if !m.tags.is_empty() {
        let rows = m.tags.iter().map(|tag| memory_tags::ActiveModel {
            record_id: Set(record_id.clone()),
            tag: Set(tag.clone()),
        });
        memory_tags::Entity::insert_many(rows).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok((written, model))
}

/// The live memory under (owner, key).
pub async fn get(
    db: &impl ConnectionTrait,
    owner_kind: &str,
    owner_id: &str,
    key: &str,
) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::OwnerKind.eq(owner_kind))
        .filter(Column::OwnerId.eq(owner_id))
        .filter(Column::MemKey.eq(key))
        .filter(Column::DeletedAt.is_null())
        .one(db)
        .await?)
}

/// The live memory with this global id.
pub async fn get_record(db: &impl ConnectionTrait, record_id: &str) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(record_id.to_string())
        .filter(Column::DeletedAt.is_null())
        .one(db)
        .await?)
}

/// Soft-deletes the live memory with this global id. Returns whether there was one.
pub async fn delete_record(db: &impl ConnectionTrait, record_id: &str, now: i64) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::DeletedAt, Expr::value(now))
        .filter(Column::RecordId.eq(record_id))
        .filter(Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Soft-deletes the live memory under (owner, key). Returns whether there was one.
pub async fn delete(
    db: &impl ConnectionTrait,
    owner_kind: &str,
    owner_id: &str,
    key: &str,
    now: i64,
) -> Result<bool> {
    let res = Entity::update_many()
        .col_expr(Column::DeletedAt, Expr::value(now))
        .filter(Column::OwnerKind.eq(owner_kind))
        .filter(Column::OwnerId.eq(owner_id))
        .filter(Column::MemKey.eq(key))
        .filter(Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Makes memory search on PostgreSQL use the text search configuration `language` (stemming
/// and stopwords: `english`, `german`, …) instead of `simple`: checks that the database has it
/// and builds its GIN expression index once (that can take a while on a big table). Other
/// backends have one behaviour and ignore it.
pub async fn use_language(mut store: Store, language: &str) -> Result<Store> {
    let valid = !language.is_empty()
        && language.len() <= 63
        && language
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        return Err(Error::Conflict(format!(
            "memory_search_language {language:?} is not a text search configuration name"
        )));
    }
    if store.backend() != Backend::Postgres || language == "simple" {
        return Ok(store);
    }
    let exists = store
        .db()
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT cfgname::text AS name FROM pg_ts_config WHERE cfgname = $1",
            [language.into()],
        ))
        .await?
        .is_some();
    if !exists {
        return Err(Error::NotFound(format!(
            "memory_search_language: PostgreSQL has no text search configuration {language:?} \
             (SELECT cfgname FROM pg_ts_config lists them)"
        )));
    }
    let index = format!(
        "CREATE INDEX IF NOT EXISTS idx_memories_search_{language} ON memories USING GIN \
         (to_tsvector('{language}'::regconfig, title || ' ' || content || ' ' || tags_text))"
    );
    store.db().execute_unprepared(&index).await?;
    store.set_text_search_config(language);
    Ok(store)
}
