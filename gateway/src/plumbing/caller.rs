//! Who is calling the REST API. The gateway authenticates the presented credential through the
//! auth service once per request and forwards the resulting principal and client IP to every
//! service call, vouched for by the internal credential.

use std::net::{IpAddr, Ipv4Addr};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use codex_central_common::Principal;
use codex_central_common::crypto::constant_time_eq;
use codex_central_common::net::PeerInfo;
use codex_central_common::wire::{
    CLIENT_IP_HEADER, CSRF_HEADER, INTERNAL_HEADER, PRINCIPAL_HEADER, SESSION_COOKIE, bearer,
    cookie,
};
use codex_central_proto::auth::v1::{AuthenticateRequest, ResolveSessionRequest};
use prost::Message;
use tonic::metadata::{AsciiMetadataValue, BinaryMetadataValue};

use crate::{ApiError, GatewayState};

#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Option<Principal>,
    pub client_ip: IpAddr,
    /// Set when the principal came from a session cookie.
    pub session: Option<SessionCredential>,
}

/// A browser session presented as a cookie, with the CSRF token it expects.
#[derive(Clone)]
pub struct SessionCredential {
    pub token: String,
    pub csrf: String,
}

impl std::fmt::Debug for SessionCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionCredential(..)")
    }
}

/// Resolves the session cookie of a request, if any (auth mode on only: in local mode every
/// caller is the local admin). `Ok(None)` when there is no cookie or it names no live session.
pub async fn session_of(
    parts: &Parts,
    state: &GatewayState,
) -> Result<Option<(Principal, SessionCredential)>, ApiError> {
    if !state.auth_mode_on() {
        return Ok(None);
    }
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let mut req = tonic::Request::new(ResolveSessionRequest {
        session_token: token.clone(),
    });
    attach(&mut req, state, None, client_ip(parts, state));
    let res = match state.clients().identity().resolve_session(req).await {
        Ok(r) => r.into_inner(),
        Err(s) if s.code() == tonic::Code::Unauthenticated => return Ok(None),
        Err(s) => return Err(s.into()),
    };
    let proto = res
        .principal
        .ok_or_else(|| ApiError::internal("session without principal"))?;
    let mut principal = Principal::try_from(&proto)?;
    if !admin_allowed(parts, state) {
        principal = principal.without_admin();
    }
    Ok(Some((
        principal,
        SessionCredential {
            token,
            csrf: res.csrf_token,
        },
    )))
}

/// Whether a presented CSRF token matches the session's (constant time).
pub fn csrf_matches(session: &SessionCredential, presented: &str) -> bool {
    !presented.is_empty() && constant_time_eq(presented.as_bytes(), session.csrf.as_bytes())
}

impl Caller {
    /// A caller with no credential (yet): host routes before the host is authenticated,
    /// single-use links whose token is the credential.
    pub fn anonymous(client_ip: IpAddr) -> Self {
        Caller {
            principal: None,
            client_ip,
            session: None,
        }
    }

    /// The gateway reading for itself (see [`Principal::gateway_reader`]).
    pub fn gateway_reader(client_ip: IpAddr) -> Self {
        Caller {
            principal: Some(Principal::gateway_reader()),
            client_ip,
            session: None,
        }
    }

    /// Wraps a message for a service call on behalf of this caller.
    pub fn request<T>(&self, state: &GatewayState, message: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(message);
        attach(&mut req, state, self.principal.as_ref(), self.client_ip);
        req
    }
}

fn attach<T>(
    req: &mut tonic::Request<T>,
    state: &GatewayState,
    principal: Option<&Principal>,
    client_ip: IpAddr,
) {
    let md = req.metadata_mut();
    if let Ok(v) = AsciiMetadataValue::try_from(state.clients().internal_secret().expose().as_str())
    {
        md.insert(INTERNAL_HEADER, v);
    }
    if let Ok(v) = AsciiMetadataValue::try_from(client_ip.to_string()) {
        md.insert(CLIENT_IP_HEADER, v);
    }
    if let Some(p) = principal {
        md.insert_bin(
            PRINCIPAL_HEADER,
            BinaryMetadataValue::from_bytes(
                &codex_central_proto::common::v1::Principal::from(p).encode_to_vec(),
            ),
        );
    }
}

/// The client's IP: the socket peer, or what a trusted proxy forwarded.
pub fn client_ip(parts: &Parts, state: &GatewayState) -> IpAddr {
    match parts.extensions.get::<PeerInfo>() {
        Some(peer) => state
            .trusted_proxies()
            .client_ip(peer.remote.ip(), &parts.headers),
        // Only in-process test routers have no connection info.
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

impl FromRequestParts<GatewayState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &GatewayState,
    ) -> Result<Self, Self::Rejection> {
        // Resolved already by the access check in front of the route.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let mut caller = resolve(parts, state).await?;
        if !admin_allowed(parts, state) {
            caller.principal = caller.principal.map(Principal::without_admin);
        }
        Ok(caller)
    }
}

/// With `admin_requires_client_cert`, admin rights need a verified client certificate on the
/// connection (or a trusted proxy's word for one).
fn admin_allowed(parts: &Parts, state: &GatewayState) -> bool {
    !state.admin_requires_client_cert()
        || state
            .trusted_proxies()
            .client_cert_verified(parts.extensions.get::<PeerInfo>(), &parts.headers)
}

/// The caller as the credential says, before the client-certificate rule.
async fn resolve(parts: &mut Parts, state: &GatewayState) -> Result<Caller, ApiError> {
    let client_ip = client_ip(parts, state);
    let principal = match bearer(&parts.headers) {
        Some(credential) => {
            let mut req = tonic::Request::new(AuthenticateRequest { credential });
            attach(&mut req, state, None, client_ip);
            let res = state.clients().identity().authenticate(req).await?;
            let proto = res
                .into_inner()
                .principal
                .ok_or_else(|| ApiError::internal("authenticate returned no principal"))?;
            Some(Principal::try_from(&proto)?)
        }
        None if !state.auth_mode_on() => Some(Principal::local_admin()),
        None => match session_of(parts, state).await? {
            Some((principal, session)) => {
                // A cookie rides along on cross-site requests; the CSRF header cannot.
                let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                let presented = parts
                    .headers
                    .get(CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !safe && !csrf_matches(&session, presented) {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "csrf_failed",
                        "Missing or invalid CSRF token: send the X-CSRF-Token header",
                    ));
                }
                return Ok(Caller {
                    principal: Some(principal),
                    client_ip,
                    session: Some(session),
                });
            }
            None => None,
        },
    };
    Ok(Caller {
        principal,
        client_ip,
        session: None,
    })
}
