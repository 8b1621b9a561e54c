//! Sign-in through GitHub, Gitee and OpenID Connect issuers: the configured providers (client
//! secrets sealed with the master key), the short-lived login states (single use, by digest)
//! and the external identities linked to users (unique per provider and subject).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OauthProviders::Table)
                    .if_not_exists()
                    .col(string_len(OauthProviders::Id, 64).primary_key())
                    .col(string_len(OauthProviders::Kind, 16))
                    .col(string_len(OauthProviders::DisplayName, 128))
                    .col(string_len(OauthProviders::ClientId, 255))
                    .col(text_null(OauthProviders::ClientSecret))
                    .col(string_len(OauthProviders::IssuerUrl, 512))
                    .col(text(OauthProviders::Scopes))
                    .col(boolean(OauthProviders::Enabled))
                    .col(big_integer(OauthProviders::CreatedAt))
                    .col(big_integer(OauthProviders::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OauthStates::Table)
                    .if_not_exists()
                    .col(string_len(OauthStates::StateDigest, 64).primary_key())
                    .col(string_len(OauthStates::ProviderId, 64))
                    .col(text(OauthStates::Secrets))
                    .col(string_len(OauthStates::ReturnTo, 512))
                    .col(string_len_null(OauthStates::LinkUserId, 36))
                    .col(big_integer(OauthStates::CreatedAt))
                    .col(big_integer(OauthStates::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_oauth_states_expires")
                    .table(OauthStates::Table)
                    .col(OauthStates::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UserIdentities::Table)
                    .if_not_exists()
                    .col(string_len(UserIdentities::Id, 36).primary_key())
                    .col(string_len(UserIdentities::UserId, 36))
                    .col(string_len(UserIdentities::ProviderId, 64))
                    .col(string_len(UserIdentities::Subject, 255))
                    .col(string_len(UserIdentities::Display, 255))
                    .col(big_integer(UserIdentities::CreatedAt))
                    .col(big_integer_null(UserIdentities::LastLoginAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_user_identities_subject")
                    .table(UserIdentities::Table)
                    .col(UserIdentities::ProviderId)
                    .col(UserIdentities::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_identities_user")
                    .table(UserIdentities::Table)
                    .col(UserIdentities::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UserIdentities::Table.into_iden(),
            OauthStates::Table.into_iden(),
            OauthProviders::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum OauthProviders {
    Table,
    Id,
    Kind,
    DisplayName,
    ClientId,
    ClientSecret,
    IssuerUrl,
    Scopes,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    StateDigest,
    ProviderId,
    /// PKCE verifier and nonce, sealed with the master key.
    Secrets,
    ReturnTo,
    LinkUserId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum UserIdentities {
    Table,
    Id,
    UserId,
    ProviderId,
    Subject,
    Display,
    CreatedAt,
    LastLoginAt,
}
