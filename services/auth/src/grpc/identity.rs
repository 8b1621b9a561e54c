//! `codexcentral.auth.v1.IdentityService`: who is calling.

use codex_central_proto::CallContext;
use codex_central_proto::auth::v1::identity_service_server::IdentityService;
use codex_central_proto::auth::v1::*;
use codex_central_proto::common::v1::Principal as ProtoPrincipal;
use tonic::{Request, Response, Status};

use super::IdentityGrpc;
use super::convert::{personal_token_to_proto, session_to_proto};
use crate::domain::sessions;

#[tonic::async_trait]
impl IdentityService for IdentityGrpc {
    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<Response<WhoAmIResponse>, Status> {
        let ctx = CallContext::of(&request);
        let principal = ctx.principal()?;
        Ok(Response::new(WhoAmIResponse {
            principal: Some(ProtoPrincipal::from(principal)),
            client_ip: ctx.client_ip_text(),
            auth_mode: if self.auth_mode_on { "on" } else { "off" }.into(),
        }))
    }

    async fn authenticate(
        &self,
        request: Request<AuthenticateRequest>,
    ) -> Result<Response<AuthenticateResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let credential = request.into_inner().credential;
        let principal = self.authenticator.authenticate(&credential).await?;
        Ok(Response::new(AuthenticateResponse {
            principal: Some(ProtoPrincipal::from(&principal)),
        }))
    }

    async fn resolve_session(
        &self,
        request: Request<ResolveSessionRequest>,
    ) -> Result<Response<ResolveSessionResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let token = request.into_inner().session_token;
        let Some(found) = sessions::resolve(&self.store, &token).await? else {
            return Err(Status::from(crate::Error::unauthenticated(
                "not signed in or session expired",
            )));
        };
        let current = found.session.id.clone();
        Ok(Response::new(ResolveSessionResponse {
            principal: Some(ProtoPrincipal::from(&found.principal)),
            session: Some(session_to_proto(found.session, Some(&current))),
            csrf_token: found.csrf,
        }))
    }

    async fn resolve_personal_token(
        &self,
        request: Request<ResolvePersonalTokenRequest>,
    ) -> Result<Response<ResolvePersonalTokenResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let (principal, row) = self
            .authenticator
            .personal_token(&request.into_inner().secret)
            .await?;
        Ok(Response::new(ResolvePersonalTokenResponse {
            principal: Some(ProtoPrincipal::from(&principal)),
            token: Some(personal_token_to_proto(row)),
        }))
    }
}
