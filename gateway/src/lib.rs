//! The gateway: turns the gRPC services into the REST API, the ops endpoints and (later) the
//! OpenAI-compatible API, MCP and the dashboard. It reaches the services only through the
//! generated tonic clients ([`clients::ServiceClients`]), never the store.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub(crate) mod api;
pub mod caller;
pub mod clients;
mod error;
mod extract;
mod flex;
mod host_api;
mod install;
pub mod local;
pub mod observe;
pub mod openapi;
mod ops;
mod pages;
mod seed;
mod shell;
mod usage_api;
pub mod v1;
mod wrapper_api;

use std::sync::Arc;

use axum::Router;
use codex_central_common::net::TrustedProxies;

pub use error::ApiError;

/// What every handler needs; cheap to clone.
#[derive(Clone)]
pub struct GatewayState {
    inner: Arc<Inner>,
}

struct Inner {
    clients: clients::ServiceClients,
    auth_mode_on: bool,
    cookie_secure: bool,
    admin_requires_client_cert: bool,
    trusted_proxies: TrustedProxies,
    policy_cache: host_api::PolicyCache,
    local: Option<local::LocalServices>,
    upstreams: v1::UpstreamClients,
}

impl GatewayState {
    pub fn new(
        clients: clients::ServiceClients,
        auth_mode_on: bool,
        cookie_secure: bool,
        admin_requires_client_cert: bool,
        trusted_proxies: TrustedProxies,
        local: Option<local::LocalServices>,
        upstreams: v1::UpstreamClients,
    ) -> Self {
        GatewayState {
            inner: Arc::new(Inner {
                clients,
                auth_mode_on,
                cookie_secure,
                admin_requires_client_cert,
                trusted_proxies,
                policy_cache: host_api::PolicyCache::default(),
                local,
                upstreams,
            }),
        }
    }

    pub(crate) fn upstreams(&self) -> &v1::UpstreamClients {
        &self.inner.upstreams
    }

    /// The services in this process, when there are (role `all`).
    pub(crate) fn local(&self) -> Option<&local::LocalServices> {
        self.inner.local.as_ref()
    }

    pub fn clients(&self) -> &clients::ServiceClients {
        &self.inner.clients
    }

    pub fn auth_mode_on(&self) -> bool {
        self.inner.auth_mode_on
    }

    pub fn admin_requires_client_cert(&self) -> bool {
        self.inner.admin_requires_client_cert
    }

    /// Whether the session cookie is marked `Secure` (TLS, or `cookie_secure`).
    pub fn cookie_secure(&self) -> bool {
        self.inner.cookie_secure
    }

    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.inner.trusted_proxies
    }

    pub(crate) fn policy_cache(&self) -> &host_api::PolicyCache {
        &self.inner.policy_cache
    }
}

/// Largest accepted request body on the REST API (413 above it).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// The REST API (`/api/v1/...`, later the peer-compatible host and admin routes).
pub fn rest_router(state: GatewayState) -> Router {
    api::router()
        .merge(host_api::router())
        .merge(install::router())
        .merge(seed::router())
        .merge(wrapper_api::router())
        .merge(usage_api::router())
        .merge(v1::router())
        .merge(pages::router())
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// `/healthz`, `/readyz` and `/metrics`; served in every role.
pub fn ops_router(state: GatewayState) -> Router {
    ops::router().with_state(state)
}

/// JSON 404 for everything no router claimed.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}
