//! The `/v1` request log: one row per call through the OpenAI-compatible gateway.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProxyRequests::Table)
                    .if_not_exists()
                    .col(pk_auto(ProxyRequests::Id).big_integer())
                    .col(big_integer(ProxyRequests::At))
                    .col(string_len(ProxyRequests::UserId, 191))
                    .col(string_len(ProxyRequests::TokenId, 64))
                    .col(big_integer_null(ProxyRequests::HostId))
                    .col(string_len(ProxyRequests::ProviderId, 64))
                    .col(string_len(ProxyRequests::RequestedModel, 191))
                    .col(string_len(ProxyRequests::UpstreamModel, 191))
                    .col(string_len(ProxyRequests::KeySource, 16))
                    .col(string_len(ProxyRequests::Endpoint, 64))
                    .col(boolean(ProxyRequests::Streamed))
                    .col(integer(ProxyRequests::StatusCode))
                    .col(string_len(ProxyRequests::ErrorCode, 64))
                    .col(big_integer(ProxyRequests::LatencyMs))
                    .col(big_integer(ProxyRequests::TtfbMs))
                    .col(big_integer(ProxyRequests::InputTokens))
                    .col(big_integer(ProxyRequests::CachedInputTokens))
                    .col(big_integer(ProxyRequests::OutputTokens))
                    .col(big_integer(ProxyRequests::ReasoningOutputTokens))
                    .col(big_integer(ProxyRequests::TotalTokens))
                    .col(string_len(ProxyRequests::ClientIp, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_proxy_requests_user")
                    .table(ProxyRequests::Table)
                    .col(ProxyRequests::UserId)
                    .col(ProxyRequests::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ProxyRequests::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ProxyRequests {
    Table,
    Id,
    At,
    UserId,
    TokenId,
    HostId,
    ProviderId,
    RequestedModel,
    UpstreamModel,
    KeySource,
    Endpoint,
    Streamed,
    StatusCode,
    ErrorCode,
    LatencyMs,
    TtfbMs,
    InputTokens,
    CachedInputTokens,
    OutputTokens,
    ReasoningOutputTokens,
    TotalTokens,
    ClientIp,
}
