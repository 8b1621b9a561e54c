//! Memories and their full-text search, natively on each backend (FTS5, `tsvector`, InnoDB
//! FULLTEXT) behind one contract: a query is cut into words ([`search_terms`]), every word
//! must match as a prefix, and rows come ranked by the backend's own relevance (bm25,
//! `ts_rank_cd`, `MATCH … AGAINST`), ties newest first. Words InnoDB cannot index (shorter than
//! 3 characters, its default stopwords) are left out on every backend, so all three answer alike.

use sea_orm::sea_query::{Alias, Cond, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, QueryFilter, Set,
    Statement,
};

use crate::entities::memories::{ActiveModel, Column, Entity, Model};
use crate::entities::memory_tags;
use crate::{Backend, Error, Result, Store};

/// InnoDB's default stopword list (`INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD`): a required
/// stopword matches nothing there, so no backend searches for one.
const STOPWORDS: [&str; 36] = [
    "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how",
    "i", "in", "is", "it", "la", "of", "on", "or", "that", "the", "this", "to", "was", "what",
    "when", "where", "who", "will", "with", "und", "the", "www",
];
/// InnoDB's `innodb_ft_min_token_size` default.
const MIN_TERM_CHARS: usize = 3;
const MAX_TERMS: usize = 16;

/// The words of a query that every backend can search for: lowercased, split at anything not a
/// letter or digit, short words and stopwords dropped, at most 16, first occurrence kept.
pub fn search_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() < MIN_TERM_CHARS
            || STOPWORDS.contains(&word.as_str())
            || terms.contains(&word)
        {
            continue;
        }
        terms.push(word);
        if terms.len() == MAX_TERMS {
            break;
        }
    }
    terms
}

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

/// What to look for. An empty `query` (or one with no searchable word) lists the most recent.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub query: String,
    /// (kind, id) pairs whose memories are searched; empty means every owner (admins).
    pub owners: Vec<(String, String)>,
    /// Every tag must be present.
    pub tags: Vec<String>,
    /// Only chunks of this resource, when set.
    pub resource_id: Option<String>,
    /// Listing only (no searchable words): rows older than this (updated_at, record_id).
    pub before: Option<(i64, String)>,
    pub limit: u64,
}

/// A memory with its rank (0 when listing by recency).
#[derive(Debug, Clone)]
pub struct Hit {
    pub memory: Model,
    pub score: f64,
}

/// What PostgreSQL indexes of a memory, as the stored `search` column computes it.
const INDEXED_TEXT: &str = "m.title || ' ' || m.content || ' ' || m.tags_text";

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

#[derive(FromQueryResult)]
struct Score {
    score: f64,
}

pub async fn search(store: &Store, s: &Search) -> Result<Vec<Hit>> {
    let terms = search_terms(&s.query);
    let mut select = Query::select();
    select
        .columns([
            (Alias::new("m"), Column::RecordId),
            (Alias::new("m"), Column::OwnerKind),
            (Alias::new("m"), Column::OwnerId),
            (Alias::new("m"), Column::MemKey),
            (Alias::new("m"), Column::Title),
            (Alias::new("m"), Column::Content),
            (Alias::new("m"), Column::TagsText),
            (Alias::new("m"), Column::MetadataJson),
            (Alias::new("m"), Column::ResourceId),
            (Alias::new("m"), Column::ContentSha),
            (Alias::new("m"), Column::CreatedAt),
            (Alias::new("m"), Column::UpdatedAt),
            (Alias::new("m"), Column::DeletedAt),
        ])
        .and_where(Expr::col((Alias::new("m"), Column::DeletedAt)).is_null());
    if terms.is_empty() || store.backend() != Backend::Sqlite {
        select.from_as(Entity, Alias::new("m"));
    } else {
        // The full-text index must drive: SQLite's planner otherwise walks the owner index and
        // runs MATCH once per row (seconds at 100,000 memories). CROSS JOIN fixes its order.
        // (sea-query writes no ON for a cross join: the match goes in WHERE.)
        select
            .from(Alias::new("memories_fts"))
            .join_as(
                JoinType::CrossJoin,
                Entity,
                Alias::new("m"),
                Expr::cust("memories_fts.rowid = m.rowid"),
            )
            .and_where(Expr::cust("memories_fts.rowid = m.rowid"));
    }
    if terms.is_empty() {
        select.expr_as(Expr::val(0.0f64), Alias::new("score"));
    } else {
        full_text(
            &mut select,
            store.backend(),
            store.text_search_config(),
            &terms,
        );
    }
    filters(&mut select, s);
    if !terms.is_empty() {
        select.order_by(Alias::new("score"), Order::Desc);
    }
    select
        .order_by((Alias::new("m"), Column::UpdatedAt), Order::Desc)
        .order_by((Alias::new("m"), Column::RecordId), Order::Desc)
        .limit(s.limit.clamp(1, 200));
    let stmt = store.db().get_database_backend().build(&select);
    let rows = store.db().query_all_raw(stmt).await?;
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let memory = Model::from_query_result(&row, "")?;
        let score = Score::from_query_result(&row, "")?.score;
        hits.push(Hit { memory, score });
    }
    Ok(hits)
}

/// The backend's own match and rank over `terms` (each a required prefix).
fn full_text(select: &mut SelectStatement, backend: Backend, language: &str, terms: &[String]) {
    match backend {
        Backend::Sqlite => {
            // FTS5: `"word"*` is a prefix phrase; juxtaposed phrases must all match.
            let q = terms
                .iter()
                .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" ");
            select
                .and_where(Expr::cust_with_values("memories_fts MATCH ?", [q]))
                // bm25 is lower for better matches.
                .expr_as(Expr::cust("-bm25(memories_fts)"), Alias::new("score"));
        }
        Backend::Postgres => {
            // Terms are letters and digits only (search_terms), so quoting them is enough.
            let q = terms
                .iter()
                .map(|t| format!("'{t}':*"))
                .collect::<Vec<_>>()
                .join(" & ");
            // The stored column is `simple`; another configuration has its own expression
            // index (see `use_language`), and its name is checked to be a plain identifier.
            let (vector, query) = match language {
                "simple" => (
                    "m.search".to_string(),
                    "to_tsquery('simple', $1)".to_string(),
                ),
                lang => (
                    format!("to_tsvector('{lang}'::regconfig, {INDEXED_TEXT})"),
                    format!("to_tsquery('{lang}'::regconfig, $1)"),
                ),
            };
            select
                .and_where(Expr::cust_with_values(
                    format!("{vector} @@ {query}"),
                    [q.clone()],
                ))
                .expr_as(
                    Expr::cust_with_values(format!("ts_rank_cd({vector}, {query})::float8"), [q]),
                    Alias::new("score"),
                );
        }
        Backend::MySql => {
            let q = terms
                .iter()
                .map(|t| format!("+{t}*"))
                .collect::<Vec<_>>()
                .join(" ");
            let against = "MATCH (m.title, m.content, m.tags_text) AGAINST (? IN BOOLEAN MODE)";
            select
                .and_where(Expr::cust_with_values(against, [q.clone()]))
                .expr_as(Expr::cust_with_values(against, [q]), Alias::new("score"));
        }
    }
}

fn filters(select: &mut SelectStatement, s: &Search) {
    if !s.owners.is_empty() {
        let mut any = Cond::any();
        for (kind, id) in &s.owners {
            any = any.add(
                Cond::all()
                    .add(Expr::col((Alias::new("m"), Column::OwnerKind)).eq(kind.as_str()))
                    .add(Expr::col((Alias::new("m"), Column::OwnerId)).eq(id.as_str())),
            );
        }
        select.cond_where(any);
    }
    if let Some((at, id)) = &s.before {
        let updated = || Expr::col((Alias::new("m"), Column::UpdatedAt));
        select.cond_where(
            Cond::any().add(updated().lt(*at)).add(
                Cond::all()
                    .add(updated().eq(*at))
                    .add(Expr::col((Alias::new("m"), Column::RecordId)).lt(id.as_str())),
            ),
        );
    }
    if let Some(resource) = &s.resource_id {
        select.and_where(Expr::col((Alias::new("m"), Column::ResourceId)).eq(resource.as_str()));
    }
    if !s.tags.is_empty() {
        let tagged = Query::select()
            .column(memory_tags::Column::RecordId)
            .from(memory_tags::Entity)
            .and_where(memory_tags::Column::Tag.is_in(s.tags.iter().map(String::as_str)))
            .group_by_col(memory_tags::Column::RecordId)
            .and_having(
                Expr::col(memory_tags::Column::Tag)
                    .count_distinct()
                    .eq(i64::try_from(s.tags.len()).unwrap_or(i64::MAX)),
            )
            .to_owned();
        select.and_where(Expr::col((Alias::new("m"), Column::RecordId)).in_subquery(tagged));
    }
}
