//! Builds the gRPC side: the services of the five areas, health, reflection, the authentication layer, and
//! the grpc-web + CORS wrapping for browsers.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use codex_central_auth::domain::canonical::Vault;
use codex_central_auth::domain::chatgpt_usage::{ChatGptUsage, ChatGptUsageSettings};
use codex_central_auth::domain::codex_auth::RefreshPolicy;
use codex_central_auth::domain::refresh::{RefreshSettings, Refresher};
use codex_central_auth::domain::validation::{ValidationSettings, Validator};
use codex_central_auth::layer::{AuthnConfig, AuthnLayer, HostCredentials};
use codex_central_auth::{AuthServices, Authenticator};
use codex_central_common::Principal;
use codex_central_common::crypto::Keyring;
use codex_central_config::ConfigGrpc;
use codex_central_config::domain::providers::Providers;
use codex_central_fleet::FleetGrpc;
use codex_central_fleet::domain::enrollment::Enrollment;
use codex_central_fleet::domain::host_auth::{self, CallKind, HostAuthenticator, HostCall};
use codex_central_fleet::domain::releases::ReleaseChecker;
use codex_central_fleet::domain::wrappers::{self, WrapperCatalog};
use codex_central_gateway::clients::GrpcChannel;
use codex_central_gateway::hot_path::LocalServices;
use codex_central_memory::MemoryGrpc;
use codex_central_proto::auth::v1::byok_service_server::{self, ByokServiceServer};
use codex_central_proto::auth::v1::codex_auth_service_server::{self, CodexAuthServiceServer};
use codex_central_proto::auth::v1::identity_service_server::{self, IdentityServiceServer};
use codex_central_proto::auth::v1::session_service_server::{self, SessionServiceServer};
use codex_central_proto::auth::v1::sign_in_provider_service_server::{
    self, SignInProviderServiceServer,
};
use codex_central_proto::auth::v1::token_service_server::{self, TokenServiceServer};
use codex_central_proto::auth::v1::user_service_server::{self, UserServiceServer};
use codex_central_proto::config::v1::config_service_server::{self, ConfigServiceServer};
use codex_central_proto::fleet::v1::fleet_service_server::{self, FleetServiceServer};
use codex_central_proto::memory::v1::memory_service_server::{self, MemoryServiceServer};
use codex_central_proto::usage::v1::usage_service_server::{self, UsageServiceServer};
use codex_central_store::Store;
use codex_central_usage::UsageGrpc;

use crate::config::Config;
use http::HeaderValue;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Fully-qualified names of every service, as health and reflection report them.
pub const SERVICE_NAMES: [&str; 11] = [
    identity_service_server::SERVICE_NAME,
    user_service_server::SERVICE_NAME,
    session_service_server::SERVICE_NAME,
    token_service_server::SERVICE_NAME,
    sign_in_provider_service_server::SERVICE_NAME,
    byok_service_server::SERVICE_NAME,
    codex_auth_service_server::SERVICE_NAME,
    fleet_service_server::SERVICE_NAME,
    usage_service_server::SERVICE_NAME,
    config_service_server::SERVICE_NAME,
    memory_service_server::SERVICE_NAME,
];

/// A wrapper artifact plus protobuf framing.
const MAX_WRAPPER_MESSAGE: usize = wrappers::MAX_SIZE + 64 * 1024;

pub struct Services {
    /// The services behind the authentication layer, callable in-process (no socket).
    pub channel: GrpcChannel,
    pub health: HealthReporter,
    /// Host authentication with its coalesced activity; the caller runs its flusher.
    pub host_auth: HostAuthenticator,
    /// The latest-Codex-release job; the caller spawns it.
    pub releases: ReleaseChecker,
    /// The alert check and webhook sender; the caller spawns them.
    pub alerts: codex_central_usage::domain::alerts::Alerts,
    /// The daily price pull (when `pricing_url` is set); the caller spawns it.
    pub pricing: codex_central_usage::domain::pricing_pull::PricingPuller,
    /// Upstream providers; the caller seeds the presets.
    pub providers: Providers,
    /// The same service objects, for the gateway's direct calls in this process.
    pub local: LocalServices,
    /// Sign-in providers; the caller applies the config file's and prunes login states.
    pub oauth: codex_central_auth::domain::oauth::OAuth,
    /// The canonical auth.json's refresh and validation jobs; the caller spawns them.
    pub refresher: Refresher,
    pub validator: Validator,
    /// The ChatGPT usage poll; the caller spawns it (it runs only with an interval set).
    pub chatgpt_usage: ChatGptUsage,
    /// Ends every live (`Watch…`) stream; the caller runs it when the server starts closing,
    /// so open dashboards do not hold up the shutdown.
    pub close_watches: Box<dyn FnOnce() + Send>,
}

pub fn build(
    store: Store,
    keyring: Arc<Keyring>,
    config: &Config,
    mut authn: AuthnConfig,
    holder: String,
) -> anyhow::Result<Services> {
    let public_url = config.public_url.as_str();
    let wrappers = WrapperCatalog::load(
        store.clone(),
        config.wrapper_dir.as_deref(),
        config.host_cache_capacity,
    )
    .with_context(|| {
        format!(
            "cannot read wrapper_dir {}",
            config
                .wrapper_dir
                .as_deref()
                .unwrap_or(std::path::Path::new(""))
                .display()
        )
    })?;
    let pricing = codex_central_usage::domain::pricing_pull::PricingPuller::new(
        store.clone(),
        config.pricing_url.clone(),
        std::time::Duration::from_secs(86_400),
    );
    let alerts = codex_central_usage::domain::alerts::Alerts::new(
        store.clone(),
        codex_central_usage::domain::alerts::AlertSettings {
            thresholds: config.alerts.thresholds.clone(),
            webhooks: config.alerts.webhook_urls.clone(),
            webhook_secret: config
                .alerts
                .webhook_secret
                .as_ref()
                .map(|s| s.expose().clone())
                .unwrap_or_default(),
            user_monthly_budget_micros: config.alerts.user_monthly_budget_micros,
            fleet_monthly_budget_micros: config.alerts.fleet_monthly_budget_micros,
            check_every: config.alerts.check_every,
        },
    );
    let releases = ReleaseChecker::new(
        store.clone(),
        config.codex_release_url.clone(),
        config.codex_release_check,
    );
    let authenticator = Authenticator::new(store.clone());
    let (health, health_service) = tonic_health::server::health_reporter();
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(codex_central_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(codex_central_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    let auth_mode_on = authn.auth_mode_on;
    let host_auth = HostAuthenticator::new(store.clone(), config.host_cache_capacity);
    let enrollment = Enrollment::new(
        store.clone(),
        keyring.clone(),
        public_url.to_string(),
        config.host_ca_pem.clone(),
    );
    let providers = Providers::new(store.clone(), keyring.clone());
    let vault = Vault::new(store.clone(), keyring);
    let oauth =
        codex_central_auth::domain::oauth::OAuth::new(store.clone(), vault.keyring(), public_url)?;
    let refresh = &config.codex_refresh;
    let refresher = Refresher::new(
        store.clone(),
        vault.clone(),
        RefreshSettings {
            token_url: refresh.token_url.clone(),
            client_id: refresh.client_id.clone(),
            policy: RefreshPolicy {
                margin: chrono::TimeDelta::from_std(refresh.margin)?,
                interval: chrono::TimeDelta::from_std(refresh.interval)?,
            },
            check_every: refresh.check_every,
        },
        holder.clone(),
    )?;
    let chatgpt_usage = ChatGptUsage::new(
        store.clone(),
        vault.clone(),
        ChatGptUsageSettings {
            base_url: config.chatgpt_usage.base_url.clone(),
            poll_every: config.chatgpt_usage.poll_every,
        },
        holder.clone(),
    )?;
    let validator = Validator::new(
        store.clone(),
        vault.clone(),
        ValidationSettings {
            probe_command: config.codex_probe.command.clone(),
            probe_timeout: config.codex_probe.timeout,
            every: config.codex_probe.every,
        },
        holder,
    );
    let auth = AuthServices::new(
        authenticator.clone(),
        auth_mode_on,
        vault,
        refresher.clone(),
        validator.clone(),
        chatgpt_usage.clone(),
        store.clone(),
        oauth.clone(),
    );
    let identity = Arc::new(auth.identity);
    let byok = Arc::new(auth.byok);
    let codex_auth = Arc::new(auth.codex_auth);
    let (closing, close_watches) = codex_central_proto::live::Closing::new();
    let fleet = Arc::new(FleetGrpc::new(
        store.clone(),
        host_auth.clone(),
        enrollment,
        wrappers,
        releases.clone(),
        closing.clone(),
    ));
    let config = Arc::new(ConfigGrpc::new(
        store.clone(),
        providers.clone(),
        public_url,
    ));
    let usage = Arc::new(UsageGrpc::new(
        store.clone(),
        pricing.clone(),
        alerts.clone(),
        closing,
    ));
    let routes = Routes::new(IdentityServiceServer::from_arc(identity.clone()))
        .add_service(UserServiceServer::new(auth.users))
        .add_service(SessionServiceServer::new(auth.sessions))
        .add_service(TokenServiceServer::new(auth.tokens))
        .add_service(SignInProviderServiceServer::new(auth.sign_in_providers))
        .add_service(ByokServiceServer::from_arc(byok.clone()))
        .add_service(CodexAuthServiceServer::from_arc(codex_auth.clone()))
        .add_service(
            FleetServiceServer::from_arc(fleet.clone())
                // Published wrapper binaries arrive in one message.
                .max_decoding_message_size(MAX_WRAPPER_MESSAGE),
        )
        .add_service(UsageServiceServer::from_arc(usage.clone()))
        .add_service(ConfigServiceServer::from_arc(config.clone()))
        .add_service(
            MemoryServiceServer::new(MemoryGrpc::new(store))
                .max_decoding_message_size(codex_central_memory::MAX_MESSAGE_BYTES)
                .max_encoding_message_size(codex_central_memory::MAX_MESSAGE_BYTES),
        )
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    authn.hosts = Some(Arc::new(HostKeys(host_auth.clone())));
    let svc = ServiceBuilder::new()
        .layer(AuthnLayer::new(authenticator, authn))
        .service(routes);
    Ok(Services {
        channel: GrpcChannel::new(svc),
        health,
        host_auth,
        releases,
        alerts,
        pricing,
        providers,
        oauth,
        refresher,
        validator,
        chatgpt_usage,
        close_watches: Box::new(close_watches),
        local: LocalServices {
            fleet,
            identity,
            byok,
            codex_auth,
            config,
            usage,
        },
    })
}

/// What the listener exposes for gRPC: grpc-web translation and CORS in front of `channel`
/// (native gRPC passes through grpc-web untouched).
pub fn external(channel: GrpcChannel, cors_origins: &[String]) -> GrpcChannel {
    let origins: Vec<HeaderValue> = cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([http::Method::POST, http::Method::OPTIONS])
        .allow_headers([
            http::header::CONTENT_TYPE,
            http::header::AUTHORIZATION,
            "x-grpc-web".parse().unwrap_or(http::header::ACCEPT),
            "x-user-agent".parse().unwrap_or(http::header::ACCEPT),
            "x-csrf-token".parse().unwrap_or(http::header::ACCEPT),
            "grpc-timeout".parse().unwrap_or(http::header::ACCEPT),
        ])
        .expose_headers([
            "grpc-status".parse().unwrap_or(http::header::ACCEPT),
            "grpc-message".parse().unwrap_or(http::header::ACCEPT),
            "grpc-status-details-bin"
                .parse()
                .unwrap_or(http::header::ACCEPT),
        ])
        .max_age(Duration::from_secs(600));
    let svc = ServiceBuilder::new()
        .map_request(|req: http::Request<tonic::body::Body>| req)
        .layer(cors)
        .layer(tonic_web::GrpcWebLayer::new())
        .service(channel)
        .map_response(|res: http::Response<tonic::body::Body>| res.map(tonic::body::Body::new));
    GrpcChannel::new(svc)
}

/// Keeps the health status in step with the database: SERVING while it answers and every
/// migration is applied, NOT_SERVING otherwise, so `/readyz` and gRPC health say the same. The
/// first status is set before this returns, so a client never sees "service not registered".
pub async fn spawn_health_monitor(
    store: Store,
    health: HealthReporter,
) -> tokio::task::JoinHandle<()> {
    let mut last = report_health(&store, &health, None).await;
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            last = report_health(&store, &health, last).await;
        }
    })
}

/// One health check; the status is written only when it changed from `last`.
async fn report_health(store: &Store, health: &HealthReporter, last: Option<bool>) -> Option<bool> {
    let (open, idle) = store.pool_stats();
    metrics::gauge!("db_pool_connections", "state" => "open").set(f64::from(open));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
    let ready = match store.ping().await {
        Ok(()) => store
            .pending_migrations()
            .await
            .map(|p| p.is_empty())
            .unwrap_or(false),
        Err(_) => false,
    };
    if last != Some(ready) {
        let status = if ready {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        if !ready {
            tracing::warn!("database unreachable or migrations pending: reporting NOT_SERVING");
        } else if last.is_some() {
            tracing::info!("database reachable again: reporting SERVING");
        }
        health.set_service_status("", status).await;
        for name in SERVICE_NAMES {
            health.set_service_status(name, status).await;
        }
    }
    Some(ready)
}

/// Host keys on gRPC, judged by the fleet service's host authentication.
struct HostKeys(HostAuthenticator);

#[tonic::async_trait]
impl HostCredentials for HostKeys {
    fn claims(&self, token: &str) -> bool {
        host_auth::is_host_key_shape(token)
    }

    async fn authenticate(
        &self,
        token: &str,
        client_ip: Option<std::net::IpAddr>,
        rpc: &str,
    ) -> Result<Principal, tonic::Status> {
        let kind = match rpc.rsplit('/').next() {
            Some("RetrieveCodexAuth") => CallKind::AuthRetrieve,
            Some("StoreCodexAuth") => CallKind::AuthStore,
            _ => CallKind::General,
        };
        let host = self
            .0
            .authenticate(HostCall {
                api_key: token,
                client_ip,
                kind,
                force_ip_update: false,
                installation_id: "",
                client_version: "",
                wrapper_version: "",
            })
            .await?;
        Ok(host_auth::principal_of(&host))
    }
}
