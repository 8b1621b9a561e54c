//! Memory search, natively on each backend (FTS5, `tsvector`, InnoDB FULLTEXT) behind one
//! contract: a query is cut into words ([`search_terms`]), every word must match as a prefix,
//! and rows come ranked by the backend's own relevance (bm25, `ts_rank_cd`, `MATCH … AGAINST`),
//! ties newest first. Words InnoDB cannot index (shorter than 3 characters, its default
//! stopwords) are left out on every backend, so all three answer alike.
//!
//! Ranking costs time per matching row, and a broad query over a big store matches thousands.
//! PostgreSQL therefore ranks only the newest [`RANKED_PER_OWNER`] matches of each owner
//! searched: it can find those walking the owner's recency index, where collecting every match
//! through the GIN index would not stop early. The other backends rank every match (FTS5 is
//! fast enough; InnoDB ranks inside its full-text index).

use sea_orm::sea_query::{
    Alias, Asterisk, Cond, Expr, ExprTrait, JoinType, Order, Query, SelectStatement, UnionType,
};
use sea_orm::{ColumnTrait, ConnectionTrait, FromQueryResult, TransactionTrait};

use crate::entities::memories::{Column, Entity, Model};
use crate::entities::memory_tags;
use crate::{Backend, Result, Store};

/// How many of an owner's newest matches PostgreSQL ranks (see the module docs).
pub const RANKED_PER_OWNER: u64 = 500;

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

#[derive(FromQueryResult)]
struct Score {
    score: f64,
}

pub async fn search(store: &Store, s: &Search) -> Result<Vec<Hit>> {
    let terms = search_terms(&s.query);
    let rows = if terms.is_empty() {
        let mut select = newest(s);
        select.from_as(Entity, Alias::new("m"));
        select.expr_as(Expr::val(0.0f64), Alias::new("score"));
        owners(&mut select, &s.owners);
        by_recency(&mut select, "m").limit(s.limit.clamp(1, 200));
        let stmt = store.db().get_database_backend().build(&select);
        store.db().query_all_raw(stmt).await?
    } else if store.backend() == Backend::Postgres {
        postgres(store, s, &terms).await?
    } else {
        let mut select = newest(s);
        full_text(&mut select, store.backend(), &terms);
        owners(&mut select, &s.owners);
        select.order_by(Alias::new("score"), Order::Desc);
        by_recency(&mut select, "m").limit(s.limit.clamp(1, 200));
        let stmt = store.db().get_database_backend().build(&select);
        store.db().query_all_raw(stmt).await?
    };
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        let memory = Model::from_query_result(&row, "")?;
        let score = Score::from_query_result(&row, "")?.score;
        hits.push(Hit { memory, score });
    }
    Ok(hits)
}

/// The live memories' columns as `m`, with the filters other than the owners; the caller adds
/// the table.
fn newest(s: &Search) -> SelectStatement {
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
    filters(&mut select, s);
    select
}

fn by_recency<'a>(select: &'a mut SelectStatement, table: &str) -> &'a mut SelectStatement {
    select
        .order_by((Alias::new(table), Column::UpdatedAt), Order::Desc)
        .order_by((Alias::new(table), Column::RecordId), Order::Desc)
}

/// PostgreSQL: each owner's newest [`RANKED_PER_OWNER`] matches (one subquery per owner, so
/// each can walk its recency index), then ranked together. Planned for the query's own words:
/// a plan cached for any words would pick one strategy for broad and narrow queries alike.
async fn postgres(
    store: &Store,
    s: &Search,
    terms: &[String],
) -> Result<Vec<sea_orm::QueryResult>> {
    // Terms are letters and digits only (search_terms), so quoting them is enough.
    let q = terms
        .iter()
        .map(|t| format!("'{t}':*"))
        .collect::<Vec<_>>()
        .join(" & ");
    // The stored column is `simple`; another configuration has its own expression index (see
    // `memories::use_language`), and its name is checked to be a plain identifier.
    let language = store.text_search_config();
    let vector = |t: &str| match language {
        "simple" => format!("{t}.search"),
        lang => format!(
            "to_tsvector('{lang}'::regconfig, {t}.title || ' ' || {t}.content || ' ' || {t}.tags_text)"
        ),
    };
    let query = format!("to_tsquery('{language}'::regconfig, $1)");
    let scopes: Vec<Option<&(String, String)>> = if s.owners.is_empty() {
        vec![None]
    } else {
        s.owners.iter().map(Some).collect()
    };
    let mut candidates: Option<SelectStatement> = None;
    for (i, owner) in scopes.into_iter().enumerate() {
        let mut select = newest(s);
        select
            .from_as(Entity, Alias::new("m"))
            .column((Alias::new("m"), Alias::new("search")))
            .and_where(Expr::cust_with_values(
                format!("{} @@ {query}", vector("m")),
                [q.clone()],
            ));
        if let Some(owner) = owner {
            owners(&mut select, std::slice::from_ref(owner));
        }
        by_recency(&mut select, "m").limit(RANKED_PER_OWNER);
        let wrapped = Query::select()
            .column(Asterisk)
            .from_subquery(select, Alias::new(format!("o{i}")))
            .to_owned();
        match candidates.as_mut() {
            None => candidates = Some(wrapped),
            Some(all) => {
                all.union(UnionType::All, wrapped);
            }
        }
    }
    let Some(candidates) = candidates else {
        return Ok(Vec::new());
    };
    let mut ranked = Query::select();
    ranked
        .column((Alias::new("c"), Asterisk))
        .expr_as(
            Expr::cust_with_values(format!("ts_rank_cd({}, {query})::float8", vector("c")), [q]),
            Alias::new("score"),
        )
        .from_subquery(candidates, Alias::new("c"))
        .order_by(Alias::new("score"), Order::Desc);
    by_recency(&mut ranked, "c").limit(s.limit.clamp(1, 200));
    let stmt = store.db().get_database_backend().build(&ranked);
    let txn = store.db().begin().await?;
    crate::connect::plan_each_run(&txn, Backend::Postgres).await?;
    let rows = txn.query_all_raw(stmt).await?;
    txn.commit().await?;
    Ok(rows)
}

/// SQLite and MySQL (PostgreSQL searches in [`postgres`]): the backend's own match and rank
/// over `terms` (each a required prefix), and the table.
fn full_text(select: &mut SelectStatement, backend: Backend, terms: &[String]) {
    match backend {
        Backend::Sqlite => {
            // FTS5: `"word"*` is a prefix phrase; juxtaposed phrases must all match.
            let q = terms
                .iter()
                .map(|t| format!("\"{}\"*", t.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" ");
            // The full-text index must drive: SQLite's planner otherwise walks the owner index
            // and runs MATCH once per row (seconds at 100,000 memories). CROSS JOIN fixes its
            // order. (sea-query writes no ON for a cross join: the match goes in WHERE.)
            select
                .from(Alias::new("memories_fts"))
                .join_as(
                    JoinType::CrossJoin,
                    Entity,
                    Alias::new("m"),
                    Expr::cust("memories_fts.rowid = m.rowid"),
                )
                .and_where(Expr::cust("memories_fts.rowid = m.rowid"))
                .and_where(Expr::cust_with_values("memories_fts MATCH ?", [q]))
                // bm25 is lower for better matches.
                .expr_as(Expr::cust("-bm25(memories_fts)"), Alias::new("score"));
        }
        Backend::MySql | Backend::Postgres => {
            let q = terms
                .iter()
                .map(|t| format!("+{t}*"))
                .collect::<Vec<_>>()
                .join(" ");
            let against = "MATCH (m.title, m.content, m.tags_text) AGAINST (? IN BOOLEAN MODE)";
            select
                .from_as(Entity, Alias::new("m"))
                .and_where(Expr::cust_with_values(against, [q.clone()]))
                .expr_as(Expr::cust_with_values(against, [q]), Alias::new("score"));
        }
    }
}

/// Memories of any of `owners` ((kind, id) pairs); none: every owner.
fn owners(select: &mut SelectStatement, owners: &[(String, String)]) {
    if owners.is_empty() {
        return;
    }
    let mut any = Cond::any();
    for (kind, id) in owners {
        any = any.add(
            Cond::all()
                .add(Expr::col((Alias::new("m"), Column::OwnerKind)).eq(kind.as_str()))
                .add(Expr::col((Alias::new("m"), Column::OwnerId)).eq(id.as_str())),
        );
    }
    select.cond_where(any);
}

fn filters(select: &mut SelectStatement, s: &Search) {
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
