//! Memories for Codex (issue 15): one row per owner-scoped key, soft-deleted, with the tags in a
//! side table for filtering and a native full-text index on each backend: an FTS5 table kept in
//! step by triggers (SQLite), a generated `tsvector` column with a GIN index (PostgreSQL, the
//! `simple` configuration), an InnoDB FULLTEXT index (MySQL/MariaDB).

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::{prelude::*, schema::*};

use crate::long_text;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_FTS: [&str; 4] = [
    "CREATE VIRTUAL TABLE memories_fts USING fts5(title, content, tags_text, \
     content='memories', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN \
     INSERT INTO memories_fts(rowid, title, content, tags_text) \
     VALUES (new.rowid, new.title, new.content, new.tags_text); END",
    "CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN \
     INSERT INTO memories_fts(memories_fts, rowid, title, content, tags_text) \
     VALUES ('delete', old.rowid, old.title, old.content, old.tags_text); END",
    "CREATE TRIGGER memories_fts_update AFTER UPDATE ON memories BEGIN \
     INSERT INTO memories_fts(memories_fts, rowid, title, content, tags_text) \
     VALUES ('delete', old.rowid, old.title, old.content, old.tags_text); \
     INSERT INTO memories_fts(rowid, title, content, tags_text) \
     VALUES (new.rowid, new.title, new.content, new.tags_text); END",
];

const POSTGRES_FTS: [&str; 2] = [
    "ALTER TABLE memories ADD COLUMN search tsvector GENERATED ALWAYS AS \
     (to_tsvector('simple', title || ' ' || content || ' ' || tags_text)) STORED",
    "CREATE INDEX idx_memories_search ON memories USING GIN (search)",
];

const MYSQL_FTS: [&str; 1] =
    ["ALTER TABLE memories ADD FULLTEXT INDEX ft_memories (title, content, tags_text)"];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Memories::Table)
                    .if_not_exists()
                    .col(string_len(Memories::RecordId, 36).primary_key())
                    .col(string_len(Memories::OwnerKind, 8))
                    .col(string_len(Memories::OwnerId, 64))
                    .col(string_len(Memories::MemKey, 128))
                    .col(text(Memories::Title))
                    .col(long_text(manager, Memories::Content))
                    .col(text(Memories::TagsText))
                    .col(text(Memories::MetadataJson))
                    .col(string_len(Memories::ResourceId, 128))
                    .col(string_len(Memories::ContentSha, 64))
                    .col(big_integer(Memories::CreatedAt))
                    .col(big_integer(Memories::UpdatedAt))
                    .col(big_integer_null(Memories::DeletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_memories_owner_key")
                    .table(Memories::Table)
                    .col(Memories::OwnerKind)
                    .col(Memories::OwnerId)
                    .col(Memories::MemKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_memories_owner_recent")
                    .table(Memories::Table)
                    .col(Memories::OwnerKind)
                    .col(Memories::OwnerId)
                    .col(Memories::UpdatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MemoryTags::Table)
                    .if_not_exists()
                    .col(string_len(MemoryTags::RecordId, 36))
                    .col(string_len(MemoryTags::Tag, 64))
                    .primary_key(
                        Index::create()
                            .col(MemoryTags::RecordId)
                            .col(MemoryTags::Tag),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_memory_tags_tag")
                    .table(MemoryTags::Table)
                    .col(MemoryTags::Tag)
                    .to_owned(),
            )
            .await?;
        let statements: &[&str] = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => &SQLITE_FTS,
            DatabaseBackend::Postgres => &POSTGRES_FTS,
            DatabaseBackend::MySql => &MYSQL_FTS,
            other => {
                return Err(DbErr::Custom(format!(
                    "memories need full-text search, not built for {other:?}"
                )));
            }
        };
        for sql in statements {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            manager
                .get_connection()
                .execute_unprepared("DROP TABLE IF EXISTS memories_fts")
                .await?;
        }
        manager
            .drop_table(
                Table::drop()
                    .table(MemoryTags::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Memories::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Memories {
    Table,
    RecordId,
    /// `host`, `user` or `fleet` (shared; `owner_id` empty).
    OwnerKind,
    OwnerId,
    /// The owner-scoped id (`[A-Za-z0-9._:-]{1,128}`).
    MemKey,
    Title,
    Content,
    /// The normalised tags, space-separated, for the full-text index.
    TagsText,
    MetadataJson,
    /// `memory_append` chunks name their resource; empty otherwise.
    ResourceId,
    /// SHA-256 of what a store compares (title, content, tags, metadata), for `unchanged`.
    ContentSha,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum MemoryTags {
    Table,
    RecordId,
    Tag,
}
