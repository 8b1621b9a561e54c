//! The gateway: turns the gRPC services into HTTP surfaces. Each folder is one surface:
//! `peer/` (the codex-orchestrator-compatible host and admin routes), `api/` (`/api/v1`),
//! `v1/` (the OpenAI-compatible API), `pages/` (server-rendered sign-in pages), beside the ops
//! endpoints and the OpenAPI document; `plumbing/` is what they share and imports none of them.
//! `mcp/` is the MCP surface (`/mcp`, streamable HTTP, and its access log).
//! It reaches the services only through the proto surface (the generated clients, or the
//! in-process facade for hot paths), never the store.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

mod access;
pub(crate) mod api;
pub mod mcp;
pub mod openapi;
mod ops;
mod pages;
mod peer;
pub mod plumbing;
pub mod v1;

use std::sync::Arc;

use axum::Router;
use codex_central_common::net::TrustedProxies;

pub use plumbing::error::ApiError;
pub use plumbing::{caller, clients, hot_path, observe};

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
    policy_cache: plumbing::host_caller::PolicyCache,
    month_usage: peer::MonthUsageCache,
    quota: peer::QuotaCache,
    local: Option<hot_path::LocalServices>,
    upstreams: v1::UpstreamClients,
    mcp: mcp::McpOptions,
}

/// How the gateway treats callers, from the configuration.
pub struct GatewayPolicy {
    pub auth_mode_on: bool,
    pub cookie_secure: bool,
    pub admin_requires_client_cert: bool,
    pub trusted_proxies: TrustedProxies,
    pub mcp: mcp::McpOptions,
}

impl GatewayState {
    pub fn new(
        clients: clients::ServiceClients,
        policy: GatewayPolicy,
        local: Option<hot_path::LocalServices>,
        upstreams: v1::UpstreamClients,
    ) -> Self {
        GatewayState {
            inner: Arc::new(Inner {
                clients,
                auth_mode_on: policy.auth_mode_on,
                cookie_secure: policy.cookie_secure,
                admin_requires_client_cert: policy.admin_requires_client_cert,
                trusted_proxies: policy.trusted_proxies,
                policy_cache: plumbing::host_caller::PolicyCache::default(),
                month_usage: peer::MonthUsageCache::default(),
                quota: peer::QuotaCache::default(),
                local,
                upstreams,
                mcp: policy.mcp,
            }),
        }
    }

    pub(crate) fn upstreams(&self) -> &v1::UpstreamClients {
        &self.inner.upstreams
    }

    /// The services in this process, when there are (role `all`).
    pub(crate) fn local(&self) -> Option<&hot_path::LocalServices> {
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

    pub(crate) fn mcp_options(&self) -> &mcp::McpOptions {
        &self.inner.mcp
    }

    pub(crate) fn policy_cache(&self) -> &plumbing::host_caller::PolicyCache {
        &self.inner.policy_cache
    }

    pub(crate) fn month_usage(&self) -> &peer::MonthUsageCache {
        &self.inner.month_usage
    }

    pub(crate) fn quota(&self) -> &peer::QuotaCache {
        &self.inner.quota
    }
}

/// Largest accepted request body on the REST API (413 above it).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Every HTTP surface but ops: `/api/v1`, the peer-compatible routes, `/v1` and the pages.
pub fn rest_router(state: GatewayState) -> Router {
    api::router()
        .merge(peer::router())
        .merge(v1::router())
        .merge(pages::router())
        .merge(mcp::router(&state))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::enforce,
        ))
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
