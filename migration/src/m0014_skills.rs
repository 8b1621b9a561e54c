//! Skills distributed to hosts (`~/.codex/skills/<slug>/SKILL.md` plus optional files),
//! soft-deleted when retired like prompts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

use crate::long_text as body;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Skills::Table)
                    .if_not_exists()
                    .col(string_len(Skills::Id, 36).primary_key())
                    .col(string_len(Skills::Slug, 128).unique_key())
                    .col(string_len(Skills::DisplayName, 255))
                    .col(text(Skills::Description))
                    .col(body(manager, Skills::Manifest))
                    .col(body(manager, Skills::Files))
                    .col(string_len(Skills::Sha256, 64))
                    .col(string_len(Skills::UpdatedBy, 191))
                    .col(big_integer(Skills::CreatedAt))
                    .col(big_integer(Skills::UpdatedAt))
                    .col(big_integer_null(Skills::DeletedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Skills::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Skills {
    Table,
    Id,
    Slug,
    DisplayName,
    Description,
    Manifest,
    /// JSON: `[{"path", "content" (base64), "sha256"}]`.
    Files,
    Sha256,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}
