//! The MCP file workspace (ADR 0008): each owner's files as rows, never the server's
//! filesystem. Paths arrive validated and normalised by the memory service; here they are byte
//! strings, so equality and prefix ranges compare bytes on every backend whatever its collation.
//! Contents are stored in pieces of [`CHUNK_BYTES`] (see the migration for why).
//!
//! **Quota under concurrency.** The first statement of every write transaction is an upsert that
//! bumps the owner's `workspace_owners` row. That takes the row's lock (PostgreSQL, InnoDB) or
//! the database's write lock (SQLite), held until commit, so the writes of one owner run one at
//! a time: each reads the usage the previous one committed, checks the quota and the file count
//! against it, and stores the new usage. Two concurrent writes therefore cannot both pass the
//! quota. (On MySQL's REPEATABLE READ a transaction's snapshot starts at its first plain read,
//! which comes after the lock; on PostgreSQL's READ COMMITTED every statement sees the latest
//! commits.) Writes of different owners do not wait for each other.
//!
//! **Reads** run in one REPEATABLE READ transaction (a read snapshot on SQLite), so a file's row
//! and its pieces always belong to the same write.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IsolationLevel,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::entities::workspace_file_chunks as chunks;
use crate::entities::workspace_files::{ActiveModel, Column, Entity, Model};
use crate::entities::workspace_owners as owners;
use crate::{Backend, Error, Result, Store};

/// The largest piece of content in one row: far below MySQL's `max_allowed_packet`.
pub const CHUNK_BYTES: usize = 256 * 1024;
/// Files whose pieces one query fetches while searching.
const FILES_PER_QUERY: usize = 64;

/// A file's path as text (paths are validated UTF-8 when written).
pub fn path_of(m: &Model) -> Result<&str> {
    std::str::from_utf8(&m.path).map_err(|_| Error::Corrupt("a workspace path is not UTF-8".into()))
}

/// A file's size in bytes.
pub fn size_of(m: &Model) -> u64 {
    u64::try_from(m.size_bytes).unwrap_or(0)
}

/// What a write asks for. The quota and the file cap are checked under the owner's lock.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub owner_kind: String,
    pub owner_id: String,
    /// Normalised by the caller.
    pub path: String,
    pub content: Vec<u8>,
    pub content_sha: String,
    pub create_if_missing: bool,
    pub overwrite: bool,
    pub quota_bytes: u64,
    pub max_files: u64,
    pub now: i64,
}

/// What a write did, or why it did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Put {
    Written {
        created: bool,
        file: Model,
        /// The owner's usage after the write.
        used_bytes: u64,
    },
    /// The file exists and `overwrite` was false.
    AlreadyExists,
    /// The file does not exist and `create_if_missing` was false.
    NotFound,
    /// The write would take the owner's usage past the quota.
    OverQuota { used_bytes: u64, quota_bytes: u64 },
    /// A new file would exceed the owner's file cap.
    TooManyFiles { max_files: u64 },
    /// Files exist below the path: it is a directory.
    IsDirectory,
    /// The file `file` is one of the path's parents.
    BelowFile { file: String },
}

/// The owner's usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub used_bytes: u64,
    pub files: u64,
}

fn file_key(owner_kind: &str, owner_id: &str, path: &str) -> (String, String, Vec<u8>) {
    (
        owner_kind.to_string(),
        owner_id.to_string(),
        path.as_bytes().to_vec(),
    )
}

/// Takes the owner's write lock for the rest of `txn`, creating the owner's row when missing.
async fn lock_owner(
    txn: &DatabaseTransaction,
    owner_kind: &str,
    owner_id: &str,
    now: i64,
) -> Result<()> {
    let row = owners::ActiveModel {
        owner_kind: Set(owner_kind.to_string()),
        owner_id: Set(owner_id.to_string()),
        used_bytes: Set(0),
        file_count: Set(0),
        writes: Set(1),
        updated_at: Set(now),
    };
    owners::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([owners::Column::OwnerKind, owners::Column::OwnerId])
                .value(
                    owners::Column::Writes,
                    Expr::col((owners::Entity, owners::Column::Writes)).add(1),
                )
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Creates or replaces a file, within the owner's quota and file cap, in one transaction.
pub async fn put(store: &Store, f: NewFile) -> Result<Put> {
    let txn = store.db().begin().await?;
    lock_owner(&txn, &f.owner_kind, &f.owner_id, f.now).await?;
    let owner = owners::Entity::find_by_id((f.owner_kind.clone(), f.owner_id.clone()))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::Corrupt("a workspace owner row vanished under its lock".into()))?;
    let existing = Entity::find_by_id(file_key(&f.owner_kind, &f.owner_id, &f.path))
        .one(&txn)
        .await?;
    // Checked under the lock too, so a file and a directory of one name never both appear.
    if existing.is_none()
        && f.create_if_missing
        && let Some(clash) = tree_clash(&txn, &f).await?
    {
        txn.rollback().await?;
        return Ok(clash);
    }
    let used = u64::try_from(owner.used_bytes).unwrap_or(0);
    let files = u64::try_from(owner.file_count).unwrap_or(0);
    let old_size = existing.as_ref().map_or(0, size_of);
    let new_size = f.content.len() as u64;
    let after = used.saturating_sub(old_size).saturating_add(new_size);
    let refusal = match &existing {
        Some(_) if !f.overwrite => Some(Put::AlreadyExists),
        None if !f.create_if_missing => Some(Put::NotFound),
        None if files >= f.max_files => Some(Put::TooManyFiles {
            max_files: f.max_files,
        }),
        // A write that does not grow the workspace passes even over a lowered quota, so an
        // owner can always shrink back under it.
        _ if after > f.quota_bytes && new_size > old_size => Some(Put::OverQuota {
            used_bytes: used,
            quota_bytes: f.quota_bytes,
        }),
        _ => None,
    };
    if let Some(refusal) = refusal {
        txn.rollback().await?;
        return Ok(refusal);
    }

    let content_id = uuid::Uuid::now_v7().to_string();
    let pieces: Vec<&[u8]> = f.content.chunks(CHUNK_BYTES).collect();
    let chunk_count = i32::try_from(pieces.len())
        .map_err(|_| Error::Conflict("a workspace file has too many pieces".into()))?;
    let file = Model {
        owner_kind: f.owner_kind.clone(),
        owner_id: f.owner_id.clone(),
        path: f.path.as_bytes().to_vec(),
        content_id: content_id.clone(),
        size_bytes: new_size as i64,
        chunk_count,
        content_sha: f.content_sha.clone(),
        created_at: existing.as_ref().map_or(f.now, |e| e.created_at),
        updated_at: f.now,
    };
    match &existing {
        Some(old) => {
            chunks::Entity::delete_many()
                .filter(chunks::Column::ContentId.eq(&old.content_id))
                .exec(&txn)
                .await?;
            Entity::update_many()
                .col_expr(Column::ContentId, Expr::value(content_id.clone()))
                .col_expr(Column::SizeBytes, Expr::value(file.size_bytes))
                .col_expr(Column::ChunkCount, Expr::value(chunk_count))
                .col_expr(Column::ContentSha, Expr::value(file.content_sha.clone()))
                .col_expr(Column::UpdatedAt, Expr::value(f.now))
                .filter(Column::OwnerKind.eq(&f.owner_kind))
                .filter(Column::OwnerId.eq(&f.owner_id))
                .filter(Column::Path.eq(file.path.clone()))
                .exec(&txn)
                .await?;
        }
        None => {
            let row: ActiveModel = file.clone().into();
            Entity::insert(row).exec_without_returning(&txn).await?;
        }
    }
    // One statement per piece keeps every statement small (MySQL's packet limit).
    for (seq, piece) in pieces.into_iter().enumerate() {
        let row = chunks::ActiveModel {
            content_id: Set(content_id.clone()),
            seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
            content: Set(piece.to_vec()),
        };
        chunks::Entity::insert(row)
            .exec_without_returning(&txn)
            .await?;
    }
    let files_after = files + u64::from(existing.is_none());
    owners::Entity::update_many()
        .col_expr(owners::Column::UsedBytes, Expr::value(after as i64))
        .col_expr(owners::Column::FileCount, Expr::value(files_after as i64))
        .col_expr(owners::Column::UpdatedAt, Expr::value(f.now))
        .filter(owners::Column::OwnerKind.eq(&f.owner_kind))
        .filter(owners::Column::OwnerId.eq(&f.owner_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(Put::Written {
        created: existing.is_none(),
        file,
        used_bytes: after,
    })
}

/// Why a new file cannot be at `f.path`: files below it, or a file as one of its parents.
async fn tree_clash(txn: &DatabaseTransaction, f: &NewFile) -> Result<Option<Put>> {
    if !list_under(txn, &f.owner_kind, &f.owner_id, &f.path, 1)
        .await?
        .is_empty()
    {
        return Ok(Some(Put::IsDirectory));
    }
    let parents: Vec<Vec<u8>> = f
        .path
        .match_indices('/')
        .map(|(i, _)| f.path.as_bytes()[..i].to_vec())
        .collect();
    if parents.is_empty() {
        return Ok(None);
    }
    let file = Entity::find()
        .filter(Column::OwnerKind.eq(&f.owner_kind))
        .filter(Column::OwnerId.eq(&f.owner_id))
        .filter(Column::Path.is_in(parents))
        .one(txn)
        .await?;
    Ok(match file {
        Some(m) => Some(Put::BelowFile {
            file: path_of(&m)?.to_string(),
        }),
        None => None,
    })
}

/// A read-only transaction whose reads all see one snapshot.
async fn begin_snapshot(store: &Store) -> Result<DatabaseTransaction> {
    Ok(match store.backend() {
        // A deferred SQLite transaction reads one snapshot from its first read on (WAL).
        Backend::Sqlite => store.db().begin().await?,
        Backend::Postgres | Backend::MySql => {
            store
                .db()
                .begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await?
        }
    })
}

/// The file at `path`, without its content.
pub async fn stat(
    db: &impl ConnectionTrait,
    owner_kind: &str,
    owner_id: &str,
    path: &str,
) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(file_key(owner_kind, owner_id, path))
        .one(db)
        .await?)
}

/// The file at `path` with its content.
pub async fn read(
    store: &Store,
    owner_kind: &str,
    owner_id: &str,
    path: &str,
) -> Result<Option<(Model, Vec<u8>)>> {
    let txn = begin_snapshot(store).await?;
    let Some(file) = stat(&txn, owner_kind, owner_id, path).await? else {
        txn.commit().await?;
        return Ok(None);
    };
    let mut contents = contents(&txn, std::slice::from_ref(&file)).await?;
    txn.commit().await?;
    let content = contents.pop().unwrap_or_default();
    Ok(Some((file, content)))
}

/// The contents of `files`, in their order, assembled from their pieces.
async fn contents(db: &impl ConnectionTrait, files: &[Model]) -> Result<Vec<Vec<u8>>> {
    let ids: Vec<&str> = files.iter().map(|f| f.content_id.as_str()).collect();
    let rows = chunks::Entity::find()
        .filter(chunks::Column::ContentId.is_in(ids))
        .order_by_asc(chunks::Column::ContentId)
        .order_by_asc(chunks::Column::Seq)
        .all(db)
        .await?;
    let mut by_id: HashMap<String, Vec<u8>> = HashMap::new();
    for row in rows {
        by_id
            .entry(row.content_id)
            .or_default()
            .extend_from_slice(&row.content);
    }
    files
        .iter()
        .map(|f| {
            let content = by_id.remove(&f.content_id).unwrap_or_default();
            if content.len() as u64 == size_of(f) {
                Ok(content)
            } else {
                Err(Error::Corrupt(format!(
                    "workspace content {} has {} of {} bytes",
                    f.content_id,
                    content.len(),
                    f.size_bytes
                )))
            }
        })
        .collect()
}

/// The files below directory `dir` (`""`: the whole workspace), by path, at most `limit`.
pub async fn list_under(
    db: &impl ConnectionTrait,
    owner_kind: &str,
    owner_id: &str,
    dir: &str,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut query = Entity::find()
        .filter(Column::OwnerKind.eq(owner_kind))
        .filter(Column::OwnerId.eq(owner_id));
    if !dir.is_empty() {
        // Everything from "dir/" up to "dir0" ('0' follows '/' in every byte order).
        query = query
            .filter(Column::Path.gte(format!("{dir}/").into_bytes()))
            .filter(Column::Path.lt(format!("{dir}0").into_bytes()));
    }
    Ok(query
        .order_by_asc(Column::Path)
        .limit(limit)
        .all(db)
        .await?)
}

/// The owner's usage (zero before the first write).
pub async fn usage(db: &impl ConnectionTrait, owner_kind: &str, owner_id: &str) -> Result<Usage> {
    let row = owners::Entity::find_by_id((owner_kind.to_string(), owner_id.to_string()))
        .one(db)
        .await?;
    Ok(row.map_or(Usage::default(), |r| Usage {
        used_bytes: u64::try_from(r.used_bytes).unwrap_or(0),
        files: u64::try_from(r.file_count).unwrap_or(0),
    }))
}

/// Files a search reads, with their contents.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub files: Vec<(Model, Vec<u8>)>,
    /// Some files that `keep` accepted were left out by `max_files` or `max_bytes`.
    pub truncated: bool,
}

/// Bounds of what a search reads.
#[derive(Debug, Clone, Copy)]
pub struct ScanLimits {
    /// Files looked at (listed) at most.
    pub list_limit: u64,
    /// Files read at most.
    pub max_files: usize,
    /// Bytes read at most, all files together.
    pub max_bytes: u64,
}

/// The files below `dir` whose path `keep` accepts, by path, with their contents, within
/// `limits` (a file that does not fit is left out and the next ones are tried).
pub async fn search_candidates(
    store: &Store,
    owner_kind: &str,
    owner_id: &str,
    dir: &str,
    keep: impl Fn(&str) -> bool,
    limits: ScanLimits,
) -> Result<Candidates> {
    let txn = begin_snapshot(store).await?;
    let listed = list_under(&txn, owner_kind, owner_id, dir, limits.list_limit).await?;
    let mut chosen: Vec<Model> = Vec::new();
    let mut bytes = 0u64;
    let mut truncated = false;
    for file in listed {
        if !keep(path_of(&file)?) {
            continue;
        }
        if chosen.len() >= limits.max_files
            || bytes.saturating_add(size_of(&file)) > limits.max_bytes
        {
            truncated = true;
            continue;
        }
        bytes += size_of(&file);
        chosen.push(file);
    }
    let mut files = Vec::with_capacity(chosen.len());
    for batch in chosen.chunks(FILES_PER_QUERY) {
        let contents = contents(&txn, batch).await?;
        files.extend(batch.iter().cloned().zip(contents));
    }
    txn.commit().await?;
    Ok(Candidates { files, truncated })
}
