//! Content distributed to hosts: every version of the fleet's `AGENTS.md` (the newest row
//! wins; clearing it is a version too), the slash-command prompts (soft-deleted when retired,
//! so hosts learn to delete their copies) and what hosts pushed for review.

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
                    .table(AgentsDocuments::Table)
                    .if_not_exists()
                    .col(integer(AgentsDocuments::Version).primary_key())
                    .col(body(manager, AgentsDocuments::Content))
                    .col(string_len(AgentsDocuments::Sha256, 64))
                    .col(big_integer(AgentsDocuments::SizeBytes))
                    .col(boolean(AgentsDocuments::Cleared))
                    .col(string_len(AgentsDocuments::UpdatedBy, 191))
                    .col(big_integer(AgentsDocuments::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Prompts::Table)
                    .if_not_exists()
                    .col(string_len(Prompts::Id, 36).primary_key())
                    .col(string_len(Prompts::Filename, 255).unique_key())
                    .col(text(Prompts::Description))
                    .col(text(Prompts::ArgumentHint))
                    .col(body(manager, Prompts::Body))
                    .col(string_len(Prompts::Sha256, 64))
                    .col(string_len(Prompts::UpdatedBy, 191))
                    .col(big_integer(Prompts::CreatedAt))
                    .col(big_integer(Prompts::UpdatedAt))
                    .col(big_integer_null(Prompts::DeletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ContentProposals::Table)
                    .if_not_exists()
                    .col(string_len(ContentProposals::Id, 36).primary_key())
                    .col(string_len(ContentProposals::Kind, 16))
                    .col(string_len(ContentProposals::ItemKey, 255))
                    .col(big_integer(ContentProposals::HostId))
                    .col(string_len(ContentProposals::BaseSha256, 64))
                    .col(string_len(ContentProposals::ContentSha256, 64))
                    .col(body(manager, ContentProposals::Payload))
                    .col(string_len(ContentProposals::State, 16))
                    .col(big_integer(ContentProposals::CreatedAt))
                    .col(string_len(ContentProposals::DecidedBy, 191))
                    .col(big_integer_null(ContentProposals::DecidedAt))
                    .col(text(ContentProposals::Reason))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_content_proposals_item")
                    .table(ContentProposals::Table)
                    .col(ContentProposals::Kind)
                    .col(ContentProposals::ContentSha256)
                    .col(ContentProposals::State)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ContentProposals::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Prompts::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(AgentsDocuments::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum AgentsDocuments {
    Table,
    Version,
    Content,
    Sha256,
    SizeBytes,
    Cleared,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Prompts {
    Table,
    Id,
    Filename,
    Description,
    ArgumentHint,
    Body,
    Sha256,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum ContentProposals {
    Table,
    Id,
    Kind,
    ItemKey,
    HostId,
    BaseSha256,
    ContentSha256,
    Payload,
    State,
    CreatedAt,
    DecidedBy,
    DecidedAt,
    Reason,
}
