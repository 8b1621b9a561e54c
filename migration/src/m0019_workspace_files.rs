//! The MCP file workspace (issue 15, ADR 0008): each owner's files live in the database, so
//! every replica serves the same workspace and no tool ever touches the server's filesystem.
//!
//! - `workspace_files`: one row per file. `path` is a byte string (VARBINARY / bytea / BLOB) so
//!   equality and prefix ranges compare bytes on every backend, whatever the collation (MySQL's
//!   default ones ignore case and trailing spaces; PostgreSQL's follow the locale). Directories
//!   are implicit: there is no row for one.
//! - `workspace_file_chunks`: the contents in pieces of at most 256 KiB, so no single value comes
//!   near MySQL's `max_allowed_packet` (16 MiB on MariaDB, 4 MiB on older MySQL) however large
//!   the per-file cap is set. A write gives the file a new `content_id`, so old pieces are
//!   dropped by id in the same transaction.
//! - `workspace_owners`: one row per owner, the lock every write takes first (so two writes of
//!   one owner cannot both pass the quota) and the usage it keeps exact.

use sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Content pieces: MySQL's BLOB holds only 64 KiB, so MEDIUMBLOB (16 MiB) there; BLOB on SQLite
/// and bytea on PostgreSQL.
fn chunk_content<T: IntoIden>(manager: &SchemaManager, column: T) -> ColumnDef {
    match manager.get_database_backend() {
        DatabaseBackend::MySql => ColumnDef::new(column)
            .custom(Alias::new("MEDIUMBLOB"))
            .not_null()
            .to_owned(),
        _ => blob(column),
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // (owner_kind, owner_id, path) is at most 8 + 64 characters and 1024 bytes: about
        // 1.3 KB in utf8mb4, inside InnoDB's 3072-byte key limit.
        manager
            .create_table(
                Table::create()
                    .table(WorkspaceFiles::Table)
                    .if_not_exists()
                    .col(string_len(WorkspaceFiles::OwnerKind, 8))
                    .col(string_len(WorkspaceFiles::OwnerId, 64))
                    .col(var_binary(WorkspaceFiles::Path, 1024))
                    .col(string_len(WorkspaceFiles::ContentId, 36))
                    .col(big_integer(WorkspaceFiles::SizeBytes))
                    .col(integer(WorkspaceFiles::ChunkCount))
                    .col(string_len(WorkspaceFiles::ContentSha, 64))
                    .col(big_integer(WorkspaceFiles::CreatedAt))
                    .col(big_integer(WorkspaceFiles::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(WorkspaceFiles::OwnerKind)
                            .col(WorkspaceFiles::OwnerId)
                            .col(WorkspaceFiles::Path),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WorkspaceFileChunks::Table)
                    .if_not_exists()
                    .col(string_len(WorkspaceFileChunks::ContentId, 36))
                    .col(integer(WorkspaceFileChunks::Seq))
                    .col(chunk_content(manager, WorkspaceFileChunks::Content))
                    .primary_key(
                        Index::create()
                            .col(WorkspaceFileChunks::ContentId)
                            .col(WorkspaceFileChunks::Seq),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WorkspaceOwners::Table)
                    .if_not_exists()
                    .col(string_len(WorkspaceOwners::OwnerKind, 8))
                    .col(string_len(WorkspaceOwners::OwnerId, 64))
                    .col(big_integer(WorkspaceOwners::UsedBytes))
                    .col(big_integer(WorkspaceOwners::FileCount))
                    .col(big_integer(WorkspaceOwners::Writes))
                    .col(big_integer(WorkspaceOwners::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(WorkspaceOwners::OwnerKind)
                            .col(WorkspaceOwners::OwnerId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WorkspaceOwners::Table.into_iden(),
            WorkspaceFileChunks::Table.into_iden(),
            WorkspaceFiles::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum WorkspaceFiles {
    Table,
    /// `host` or `user`.
    OwnerKind,
    OwnerId,
    /// Normalised, `/`-separated, relative (see the memory service's `workspace` module).
    Path,
    /// Changes with every write; names the file's rows in `workspace_file_chunks`.
    ContentId,
    SizeBytes,
    ChunkCount,
    /// SHA-256 of the content, hex.
    ContentSha,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WorkspaceFileChunks {
    Table,
    ContentId,
    /// 0, 1, …: the order of the pieces.
    Seq,
    Content,
}

#[derive(DeriveIden)]
enum WorkspaceOwners {
    Table,
    OwnerKind,
    OwnerId,
    /// The sum of the owner's file sizes, kept under the row's lock.
    UsedBytes,
    FileCount,
    /// Bumped by every write: the update that takes the row lock always changes the row.
    Writes,
    UpdatedAt,
}
