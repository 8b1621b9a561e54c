//! The authentication layer in front of every gRPC service: it decides who is calling and from
//! where, and attaches a [`CallContext`] to the request. Services then only authorize.
//!
//! Two ways in:
//! - from the gateway (REST, `/v1`, MCP), which already authenticated the caller: the request
//!   carries the gateway's internal credential, the principal and the client IP in metadata;
//! - straight from a gRPC or grpc-web client: the layer authenticates the `authorization`
//!   bearer itself and takes the client IP from the connection, and any internal metadata the
//!   client sent is discarded.

use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use codex_central_common::Principal;
use codex_central_common::crypto::{Secret, constant_time_eq};
use codex_central_common::net::{PeerInfo, TrustedProxies};
use codex_central_common::wire::{
    CLIENT_IP_HEADER, CSRF_HEADER, INTERNAL_HEADER, PRINCIPAL_HEADER, SESSION_COOKIE, bearer,
    cookie,
};
use codex_central_proto::CallContext;
use codex_central_proto::common::v1 as pb;
use futures::future::BoxFuture;
use http::{HeaderMap, Request, Response};
use prost::Message;
use tonic::Status;
use tonic::body::Body;
use tonic::metadata::MetadataMap;

use crate::domain::authenticator::Authenticator;

/// RPCs anyone may call, even in auth mode `on`: probes and API discovery.
const PUBLIC_PREFIXES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

#[derive(Clone)]
pub struct AuthnConfig {
    pub auth_mode_on: bool,
    /// Shared by gateway and services; in one process it is random per start.
    pub internal_secret: Secret<String>,
    pub trusted_proxies: TrustedProxies,
    /// Admin principals count as admins only on connections with a verified client certificate.
    pub admin_requires_client_cert: bool,
    /// Judges host keys presented straight to gRPC (the fleet service owns hosts).
    pub hosts: Option<Arc<dyn HostCredentials>>,
}

/// Host keys presented as gRPC bearers: the same checks as the REST host API (IP binding,
/// insecure windows, failure budget, kill switch), with the client IP from the connection.
#[tonic::async_trait]
pub trait HostCredentials: Send + Sync + 'static {
    /// Whether `token` is shaped like a host key; such tokens are judged only here.
    fn claims(&self, token: &str) -> bool;
    /// The host's principal. `rpc` is the request path (`/package.Service/Method`).
    async fn authenticate(
        &self,
        token: &str,
        client_ip: Option<IpAddr>,
        rpc: &str,
    ) -> Result<Principal, Status>;
}

#[derive(Clone)]
pub struct AuthnLayer {
    state: Arc<State>,
}

struct State {
    authenticator: Authenticator,
    config: AuthnConfig,
}

impl AuthnLayer {
    pub fn new(authenticator: Authenticator, config: AuthnConfig) -> Self {
        AuthnLayer {
            state: Arc::new(State {
                authenticator,
                config,
            }),
        }
    }
}

impl<S> tower::Layer<S> for AuthnLayer {
    type Service = AuthnService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthnService {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuthnService<S> {
    inner: S,
    state: Arc<State>,
}

impl<S, B> tower::Service<Request<B>> for AuthnService<S>
where
    S: tower::Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // Take the service that was polled ready and leave a fresh clone in its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        Box::pin(async move {
            let admitted = state.context_for(&mut req).await.and_then(|ctx| {
                // The contract's `Caller:` clause, enforced before the service runs.
                if let Some(callers) = codex_central_proto::callers::of(req.uri().path()) {
                    callers.admit(&ctx)?;
                }
                Ok(ctx)
            });
            match admitted {
                Ok(ctx) => {
                    req.extensions_mut().insert(ctx);
                    inner.call(req).await
                }
                Err(status) => Ok(status.into_http()),
            }
        })
    }
}

impl State {
    async fn context_for<B>(&self, req: &mut Request<B>) -> Result<CallContext, Status> {
        let internal = req
            .headers()
            .get(INTERNAL_HEADER)
            .map(|v| v.as_bytes().to_vec());
        if let Some(presented) = internal {
            if !constant_time_eq(&presented, self.config.internal_secret.expose().as_bytes()) {
                return Err(tonic::Status::from(crate::Error::unauthenticated(
                    "invalid gateway credential",
                )));
            }
            return internal_context(req.headers());
        }
        strip_internal_headers(req.headers_mut());
        // Health, reflection, and the RPCs whose contract says `Caller: anyone`.
        let path = req.uri().path();
        let public = PUBLIC_PREFIXES.iter().any(|p| path.starts_with(p))
            || codex_central_proto::callers::of(path).is_some_and(|c| c.anyone);
        let client_ip = req.extensions().get::<PeerInfo>().map(|peer| {
            self.config
                .trusted_proxies
                .client_ip(peer.remote.ip(), req.headers())
        });
        let credential = bearer(req.headers());
        let principal = match credential {
            Some(token) => {
                let result = match self.config.hosts.as_ref().filter(|h| h.claims(&token)) {
                    Some(hosts) => {
                        hosts
                            .authenticate(&token, client_ip, req.uri().path())
                            .await
                    }
                    None => self
                        .authenticator
                        .authenticate(&token)
                        .await
                        .map_err(Status::from),
                };
                match result {
                    Ok(p) => Some(p),
                    Err(_) if public => None,
                    Err(err) => return Err(err),
                }
            }
            // In local mode (auth mode off) a leftover cookie means nothing.
            None if self.config.auth_mode_on
                && let Some(token) = cookie(req.headers(), SESSION_COOKIE) =>
            {
                // grpc-web from the dashboard: every RPC is a POST, so every one needs the
                // session's CSRF token.
                match self.session_principal(&token, req.headers()).await {
                    Ok((p, session)) => {
                        req.extensions_mut().insert(CurrentSession(session));
                        Some(p)
                    }
                    Err(_) if public => None,
                    Err(err) => return Err(err),
                }
            }
            None if !self.config.auth_mode_on => Some(Principal::local_admin()),
            None if public => None,
            None => {
                return Err(tonic::Status::from(crate::Error::unauthenticated(
                    "authentication required",
                )));
            }
        };
        let principal = match principal {
            Some(p)
                if self.config.admin_requires_client_cert
                    && !self.config.trusted_proxies.client_cert_verified(
                        req.extensions().get::<PeerInfo>(),
                        req.headers(),
                    ) =>
            {
                Some(p.without_admin())
            }
            other => other,
        };
        Ok(CallContext {
            principal,
            client_ip,
            internal: false,
        })
    }
}

impl State {
    async fn session_principal(
        &self,
        token: &str,
        headers: &HeaderMap,
    ) -> Result<(Principal, String), Status> {
        let found = crate::domain::sessions::resolve(self.authenticator.store(), token)
            .await
            .map_err(Status::from)?
            .ok_or_else(|| {
                tonic::Status::from(crate::Error::unauthenticated(
                    "not signed in or session expired",
                ))
            })?;
        let presented = headers
            .get(CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !constant_time_eq(presented, found.csrf.as_bytes()) {
            return Err(tonic::Status::from(crate::Error::permission_denied(
                "missing or wrong CSRF token: send the x-csrf-token header",
            )));
        }
        Ok((found.principal, found.session.id))
    }
}

/// The id of the session a browser call was authenticated with, so `ListSessions` can mark
/// "this browser".
#[derive(Clone, Debug)]
pub(crate) struct CurrentSession(pub(crate) String);

fn internal_context(headers: &HeaderMap) -> Result<CallContext, Status> {
    let metadata = MetadataMap::from_headers(headers.clone());
    let principal = match metadata.get_bin(PRINCIPAL_HEADER) {
        None => None,
        Some(value) => {
            let bytes = value.to_bytes().map_err(|_| {
                tonic::Status::from(crate::Error::invalid_argument(
                    "malformed principal metadata",
                ))
            })?;
            let proto = pb::Principal::decode(bytes).map_err(|_| {
                tonic::Status::from(crate::Error::invalid_argument(
                    "malformed principal metadata",
                ))
            })?;
            Some(Principal::try_from(&proto).map_err(|e| codex_central_proto::status::encode(&e))?)
        }
    };
    let client_ip = headers
        .get(CLIENT_IP_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<IpAddr>().ok());
    Ok(CallContext {
        principal,
        client_ip,
        internal: true,
    })
}

fn strip_internal_headers(headers: &mut HeaderMap) {
    headers.remove(INTERNAL_HEADER);
    headers.remove(PRINCIPAL_HEADER);
    headers.remove(CLIENT_IP_HEADER);
}
