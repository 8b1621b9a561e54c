//! What people sign in with and spend through: browser sessions (stored by digest, so a
//! database dump cannot be replayed as cookies), personal API tokens (`m2c_`, by digest, with
//! their policy) and per-user upstream keys (encrypted with the master key).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .if_not_exists()
                    .col(string_len(Sessions::Id, 36).primary_key())
                    .col(string_len_uniq(Sessions::TokenDigest, 64))
                    .col(string_len(Sessions::UserId, 36))
                    .col(big_integer(Sessions::CreatedAt))
                    .col(big_integer(Sessions::LastSeenAt))
                    .col(big_integer(Sessions::ExpiresAt))
                    .col(string_len(Sessions::ClientIp, 64))
                    .col(string_len(Sessions::UserAgent, 255))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_expires")
                    .table(Sessions::Table)
                    .col(Sessions::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PersonalTokens::Table)
                    .if_not_exists()
                    .col(string_len(PersonalTokens::Id, 36).primary_key())
                    .col(string_len(PersonalTokens::UserId, 36))
                    .col(string_len(PersonalTokens::Name, 128))
                    .col(string_len(PersonalTokens::Prefix, 16))
                    .col(string_len_uniq(PersonalTokens::TokenDigest, 64))
                    .col(big_integer(PersonalTokens::CreatedAt))
                    .col(big_integer_null(PersonalTokens::ExpiresAt))
                    .col(big_integer_null(PersonalTokens::LastUsedAt))
                    .col(big_integer_null(PersonalTokens::RevokedAt))
                    .col(text(PersonalTokens::Policy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_personal_tokens_user")
                    .table(PersonalTokens::Table)
                    .col(PersonalTokens::UserId)
                    .col(PersonalTokens::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ByokKeys::Table)
                    .if_not_exists()
                    .col(string_len(ByokKeys::UserId, 36))
                    .col(string_len(ByokKeys::ProviderId, 64))
                    .col(text(ByokKeys::Ciphertext))
                    .col(string_len(ByokKeys::Suffix, 16))
                    .col(big_integer(ByokKeys::CreatedAt))
                    .col(big_integer(ByokKeys::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(ByokKeys::UserId)
                            .col(ByokKeys::ProviderId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ByokKeys::Table.into_iden(),
            PersonalTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    TokenDigest,
    UserId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
    ClientIp,
    UserAgent,
}

#[derive(DeriveIden)]
enum PersonalTokens {
    Table,
    Id,
    UserId,
    Name,
    Prefix,
    TokenDigest,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
    Policy,
}

#[derive(DeriveIden)]
enum ByokKeys {
    Table,
    UserId,
    ProviderId,
    Ciphertext,
    Suffix,
    CreatedAt,
    UpdatedAt,
}
