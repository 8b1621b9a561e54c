//! Who is calling the REST API. The gateway authenticates the presented credential through the
//! auth service once per request and forwards the resulting principal and client IP to every
//! service call, vouched for by the internal credential.

use std::net::{IpAddr, Ipv4Addr};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use codex_central_auth::layer::{CLIENT_IP_HEADER, INTERNAL_HEADER, PRINCIPAL_HEADER, bearer};
use codex_central_common::Principal;
use codex_central_common::net::PeerInfo;
use codex_central_proto::auth::v1::AuthenticateRequest;
use prost::Message;
use tonic::metadata::{AsciiMetadataValue, BinaryMetadataValue};

use crate::{ApiError, GatewayState};

#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Option<Principal>,
    pub client_ip: IpAddr,
}

impl Caller {
    /// A caller with no credential (yet): host routes before the host is authenticated,
    /// single-use links whose token is the credential.
    pub fn anonymous(client_ip: IpAddr) -> Self {
        Caller {
            principal: None,
            client_ip,
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
            BinaryMetadataValue::from_bytes(&p.to_proto().encode_to_vec()),
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
        let client_ip = client_ip(parts, state);
        let principal = match bearer(&parts.headers) {
            Some(credential) => {
                let mut req = tonic::Request::new(AuthenticateRequest { credential });
                attach(&mut req, state, None, client_ip);
                let res = state.clients().auth().authenticate(req).await?;
                let proto = res.into_inner().principal.ok_or_else(|| {
                    ApiError::from(tonic::Status::internal(
                        "authenticate returned no principal",
                    ))
                })?;
                Some(Principal::from_proto(&proto).map_err(tonic::Status::from)?)
            }
            None if !state.auth_mode_on() => Some(Principal::local_admin()),
            None => None,
        };
        Ok(Caller {
            principal,
            client_ip,
        })
    }
}
