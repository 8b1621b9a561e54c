//! Wires one server process for a [`Config`]: store, keyring, services, gateway, listener.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use codex_central_auth::layer::AuthnConfig;
use codex_central_common::crypto::{TokenKind, generate_token};
use codex_central_common::net::{PeerInfo, TrustedProxies};
use codex_central_gateway::clients::{GrpcChannel, ServiceClients};
use codex_central_gateway::{GatewayState, observe};
use codex_central_store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::config::{Config, ProcessRole};
use crate::{keys, listener, services};

/// A started server: its address and a handle to stop it.
pub struct Running {
    pub addr: SocketAddr,
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, closes the database.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Waits until the server stops by itself (it only does on a signal).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }

    /// Sends the stop signal without waiting.
    pub fn trigger_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Opens the database, creating the data dir and migrating, as every subcommand does.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
    let store =
        Store::connect_and_migrate_with(config.database_url.expose(), config.database_timeout)
            .await
            .context("cannot open the database")?;
    let store = codex_central_store::memories::use_language(store, &config.memory_search_language)
        .await
        .context("cannot set up memory search")?;
    codex_central_usage::domain::pricing::seed_shipped(&store)
        .await
        .context("cannot store the shipped price table")?;
    Ok(store)
}

/// Binds `config.bind` and starts serving.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    start_on(config, listener).await
}

/// Starts serving on an already bound listener (tests bind port 0).
pub async fn start_on(config: Config, tcp: TcpListener) -> anyhow::Result<Running> {
    observe::install_metrics();
    // reqwest (release checks) needs the process-wide rustls provider, TLS or not.
    listener::install_crypto_provider();
    let addr = tcp.local_addr()?;
    let tls = config
        .tls
        .as_ref()
        .map(listener::tls_acceptor)
        .transpose()?;
    let internal_secret = match &config.internal_secret {
        Some(s) => s.clone(),
        None => generate_token(TokenKind::Session)?,
    };
    let trusted = TrustedProxies::new(config.trusted_proxies.clone());

    let mut store_for_shutdown = None;
    let mut host_activity = None;
    let mut local = None;
    let mut close_watches: Option<Box<dyn FnOnce() + Send>> = None;
    let mut background = Vec::new();
    let (channel, database_kind) = match config.role {
        ProcessRole::All | ProcessRole::Services => {
            let store = open_store(&config).await?;
            let keyring = std::sync::Arc::new(keys::open_keyring(&config, &store).await?);
            let built = services::build(
                store.clone(),
                keyring,
                &config,
                AuthnConfig {
                    auth_mode_on: config.auth_mode_on,
                    internal_secret: internal_secret.clone(),
                    trusted_proxies: trusted.clone(),
                    admin_requires_client_cert: config.admin_requires_client_cert,
                    hosts: None,
                },
                format!("{}:{}", std::process::id(), holder_suffix()),
            )?;
            built
                .providers
                .seed_presets()
                .await
                .context("cannot seed the upstream provider presets")?;
            built
                .oauth
                .providers()
                .apply_config(
                    config
                        .oauth_providers
                        .iter()
                        .map(|p| codex_central_auth::domain::oauth::Input {
                            id: p.name.clone(),
                            kind: p.kind.clone(),
                            display_name: p.display_name.clone(),
                            client_id: p.client_id.clone(),
                            client_secret: p.client_secret.clone(),
                            issuer_url: p.issuer_url.clone(),
                            scopes: p.scopes.clone(),
                            enabled: p.enabled,
                        })
                        .collect(),
                )
                .await
                .context("cannot apply the oauth_providers of the config file")?;
            background.push(services::spawn_health_monitor(store.clone(), built.health).await);
            background.push(built.host_auth.spawn_flusher());
            background.push(codex_central_fleet::domain::prune::spawn_pruner(
                store.clone(),
                format!("{}:{}", std::process::id(), holder_suffix()),
            ));
            background.push(codex_central_auth::domain::sessions::spawn_pruner(
                store.clone(),
                format!("{}:{}", std::process::id(), holder_suffix()),
            ));
            background.push(codex_central_usage::domain::retention::spawn_pruner(
                store.clone(),
                format!("{}:{}", std::process::id(), holder_suffix()),
                codex_central_usage::domain::retention::Retention {
                    max_age: config.request_log.max_age,
                    max_rows: config.request_log.max_rows,
                    interval: config.request_log.prune_every,
                },
            ));
            let holder = format!("{}:{}", std::process::id(), holder_suffix());
            background.extend(built.releases.spawn(holder.clone()));
            background.extend(built.alerts.spawn(holder.clone()));
            background.extend(built.pricing.spawn(holder));
            background.push(built.refresher.spawn());
            background.push(built.validator.spawn());
            background.extend(built.chatgpt_usage.spawn());
            host_activity = Some(built.host_auth);
            close_watches = Some(built.close_watches);
            local = Some(built.local);
            let kind = store.backend().name();
            store_for_shutdown = Some(store);
            (built.channel, kind)
        }
        ProcessRole::Gateway => {
            let url = config.services_url.clone().unwrap_or_default();
            (remote_channel(&url)?, "remote services")
        }
    };

    let clients = ServiceClients::new(channel.clone(), internal_secret);
    let upstreams = codex_central_gateway::v1::UpstreamClients::new(
        codex_central_gateway::v1::UpstreamOptions {
            connect_timeout: config.upstream_connect_timeout,
            idle_timeout: config.upstream_idle_timeout,
        },
    );
    let mcp = codex_central_gateway::mcp::McpOptions::new(
        &config.public_url,
        &config.mcp_allowed_origins,
        &config.mcp_allowed_hosts,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let state = GatewayState::new(
        clients,
        codex_central_gateway::GatewayPolicy {
            auth_mode_on: config.auth_mode_on,
            cookie_secure: config.cookie_secure,
            admin_requires_client_cert: config.admin_requires_client_cert,
            trusted_proxies: trusted.clone(),
            mcp,
        },
        local,
        upstreams,
    );
    let mut grpc = services::external(channel, &config.cors_origins);
    if config.role == ProcessRole::Gateway {
        grpc = forward_client_ip(grpc, trusted.clone());
    }
    let mut app = codex_central_gateway::ops_router(state.clone());
    if config.role != ProcessRole::Services {
        app = app.merge(codex_central_gateway::rest_router(state));
    }
    let app = observe::layers(app.fallback_service(dispatch(grpc)));

    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{addr}");
    let role = match config.role {
        ProcessRole::All => "all",
        ProcessRole::Services => "services",
        ProcessRole::Gateway => "gateway",
    };
    // While nobody can sign in yet, the banner says where to create the first admin.
    let setup = match &store_for_shutdown {
        Some(store) if config.auth_mode_on => {
            match codex_central_auth::domain::accounts::setup_required(store).await {
                Ok(true) => format!(
                    "; first-run setup: {}/admin/setup",
                    config.public_url.trim_end_matches('/')
                ),
                Ok(false) => String::new(),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot tell whether first-run setup is needed");
                    String::new()
                }
            }
        }
        _ => String::new(),
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        url = %url,
        public_url = %config.public_url,
        database = database_kind,
        auth_mode = if config.auth_mode_on { "on" } else { "off" },
        role,
        "codex-central {} listening on {url} (database: {database_kind}, auth mode: {}, role: {role}){setup}",
        env!("CARGO_PKG_VERSION"),
        if config.auth_mode_on { "on" } else { "off" },
    );

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let grace = Duration::from_secs(config.shutdown_timeout_secs);
    let task = tokio::spawn(async move {
        listener::serve(
            tcp,
            app,
            tls,
            async {
                let _ = stop_rx.await;
                if let Some(close) = close_watches {
                    close();
                }
            },
            grace,
        )
        .await;
        for job in background {
            job.abort();
        }
        // Counters coalesced since the last flush are written before the database closes.
        if let Some(host_auth) = host_activity {
            host_auth.flush().await;
        }
        if let Some(store) = store_for_shutdown
            && let Err(err) = store.close().await
        {
            tracing::warn!(error = %err, "closing the database failed");
        }
        tracing::info!("stopped");
    });
    Ok(Running {
        addr,
        url,
        stop: Some(stop_tx),
        task,
    })
}

/// gRPC and grpc-web requests (by path or content type) go to the services; anything else
/// that no REST route claimed is a JSON 404.
fn dispatch(grpc: GrpcChannel) -> Router {
    let svc = tower::service_fn(move |req: http::Request<axum::body::Body>| {
        let grpc = grpc.clone();
        async move {
            let path = req.uri().path();
            let is_grpc = path.starts_with("/codexcentral.")
                || path.starts_with("/grpc.")
                || req
                    .headers()
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|ct| ct.starts_with("application/grpc"));
            if !is_grpc {
                return Ok::<_, std::convert::Infallible>(
                    axum::response::IntoResponse::into_response(
                        codex_central_gateway::not_found().await,
                    ),
                );
            }
            let response = match grpc.oneshot(req.map(tonic::body::Body::new)).await {
                Ok(res) => res,
                Err(never) => match never {},
            };
            Ok(response.map(axum::body::Body::new))
        }
    });
    Router::new().fallback_service(svc)
}

/// In role `gateway`, gRPC calls are forwarded to the services, which see the gateway as the
/// socket peer: pass the client IP the gateway resolved as `X-Forwarded-For` (replacing what the
/// client sent). The services believe it only when the gateway is in their `trusted_proxies`.
fn forward_client_ip(grpc: GrpcChannel, trusted: TrustedProxies) -> GrpcChannel {
    let svc = tower::ServiceBuilder::new()
        .map_request(move |mut req: http::Request<tonic::body::Body>| {
            let ip = req
                .extensions()
                .get::<PeerInfo>()
                .map(|peer| trusted.client_ip(peer.remote.ip(), req.headers()));
            let headers = req.headers_mut();
            headers.remove(http::header::FORWARDED);
            headers.remove("x-real-ip");
            headers.remove("x-forwarded-for");
            if let Some(value) = ip.and_then(|ip| http::HeaderValue::from_str(&ip.to_string()).ok())
            {
                headers.insert("x-forwarded-for", value);
            }
            req
        })
        .service(grpc);
    GrpcChannel::new(svc)
}

/// A lazily connecting channel to a `--role services` process.
fn remote_channel(url: &str) -> anyhow::Result<GrpcChannel> {
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_string())
        .map_err(|_| anyhow::anyhow!("config key `services_url`: {url:?} is not a valid URL"))?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true);
    let channel = endpoint.connect_lazy();
    let svc = tower::service_fn(move |req: http::Request<tonic::body::Body>| {
        let channel = channel.clone();
        async move {
            Ok::<_, std::convert::Infallible>(match channel.oneshot(req).await {
                Ok(res) => res,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot reach the services");
                    codex_central_proto::status::encode(&codex_central_common::Error::unavailable(
                        "services unavailable",
                    ))
                    .into_http()
                }
            })
        }
    });
    Ok(GrpcChannel::new(svc))
}

/// A per-process lease holder suffix (process ids repeat across machines).
fn holder_suffix() -> String {
    generate_token(TokenKind::Session)
        .map(|t| t.expose().chars().skip(4).take(12).collect())
        .unwrap_or_default()
}
