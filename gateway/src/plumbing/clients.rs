//! Generated tonic clients over one channel: in-process (the services' router called directly,
//! no socket) or a real connection to `--services-url` in split mode.

use codex_central_common::crypto::Secret;
use codex_central_proto::auth::v1::byok_service_client::ByokServiceClient;
use codex_central_proto::auth::v1::codex_auth_service_client::CodexAuthServiceClient;
use codex_central_proto::auth::v1::identity_service_client::IdentityServiceClient;
use codex_central_proto::auth::v1::session_service_client::SessionServiceClient;
use codex_central_proto::auth::v1::sign_in_provider_service_client::SignInProviderServiceClient;
use codex_central_proto::auth::v1::token_service_client::TokenServiceClient;
use codex_central_proto::auth::v1::user_service_client::UserServiceClient;
use codex_central_proto::config::v1::config_service_client::ConfigServiceClient;
use codex_central_proto::fleet::v1::fleet_service_client::FleetServiceClient;
use codex_central_proto::memory::v1::memory_service_client::MemoryServiceClient;
use codex_central_proto::usage::v1::usage_service_client::UsageServiceClient;
use tonic::body::Body;
use tonic_health::pb::health_client::HealthClient;
use tower::util::BoxCloneSyncService;

/// Any transport that carries gRPC requests to the services. Transport failures are turned
/// into gRPC `UNAVAILABLE` responses by whoever builds the channel, so the error type is
/// `Infallible` (a boxed error trait object here trips up the `Send` inference of the
/// generated clients' futures).
pub type GrpcChannel =
    BoxCloneSyncService<http::Request<Body>, http::Response<Body>, std::convert::Infallible>;

#[derive(Clone)]
pub struct ServiceClients {
    channel: GrpcChannel,
    internal_secret: Secret<String>,
}

impl ServiceClients {
    pub fn new(channel: GrpcChannel, internal_secret: Secret<String>) -> Self {
        ServiceClients {
            channel,
            internal_secret,
        }
    }

    pub(crate) fn internal_secret(&self) -> &Secret<String> {
        &self.internal_secret
    }

    pub fn identity(&self) -> IdentityServiceClient<GrpcChannel> {
        IdentityServiceClient::new(self.channel.clone())
    }

    pub fn users(&self) -> UserServiceClient<GrpcChannel> {
        UserServiceClient::new(self.channel.clone())
    }

    pub fn sessions(&self) -> SessionServiceClient<GrpcChannel> {
        SessionServiceClient::new(self.channel.clone())
    }

    pub fn tokens(&self) -> TokenServiceClient<GrpcChannel> {
        TokenServiceClient::new(self.channel.clone())
    }

    pub fn sign_in_providers(&self) -> SignInProviderServiceClient<GrpcChannel> {
        SignInProviderServiceClient::new(self.channel.clone())
    }

    pub fn byok(&self) -> ByokServiceClient<GrpcChannel> {
        ByokServiceClient::new(self.channel.clone())
    }

    pub fn codex_auth(&self) -> CodexAuthServiceClient<GrpcChannel> {
        CodexAuthServiceClient::new(self.channel.clone())
    }

    pub fn fleet(&self) -> FleetServiceClient<GrpcChannel> {
        FleetServiceClient::new(self.channel.clone())
    }

    pub fn usage(&self) -> UsageServiceClient<GrpcChannel> {
        UsageServiceClient::new(self.channel.clone())
    }

    pub fn config(&self) -> ConfigServiceClient<GrpcChannel> {
        ConfigServiceClient::new(self.channel.clone())
    }

    pub fn memory(&self) -> MemoryServiceClient<GrpcChannel> {
        MemoryServiceClient::new(self.channel.clone())
            .max_decoding_message_size(codex_central_proto::memory::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(codex_central_proto::memory::MAX_MESSAGE_BYTES)
    }

    pub fn health(&self) -> HealthClient<GrpcChannel> {
        HealthClient::new(self.channel.clone())
    }
}
