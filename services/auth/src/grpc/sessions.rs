//! `codexcentral.auth.v1.SessionService`: password sign-in and the sessions it opens. Pages
//! and REST reach it through the gateway, which passes the client IP.

use codex_central_common::crypto::Secret;
use codex_central_proto::CallContext;
use codex_central_proto::auth::v1::session_service_server::SessionService;
use codex_central_proto::auth::v1::*;
use codex_central_proto::paging::{decode_token, next_page_token, page_limit};
use codex_central_store::now_ms;
use tonic::{Request, Response, Status};

use super::convert::{session_to_proto, signed_in};
use super::{SessionGrpc, client, person, subject};
use crate::domain::accounts;

#[tonic::async_trait]
impl SessionService for SessionGrpc {
    async fn login(
        &self,
        request: Request<LoginRequest>,
    ) -> Result<Response<LoginResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let (user, opened) = accounts::login(
            &self.store,
            &req.username,
            &Secret::new(req.password),
            &client(&ctx, &req.user_agent),
        )
        .await?;
        let s = signed_in(user, opened);
        Ok(Response::new(LoginResponse {
            user: Some(s.user),
            session: Some(s.session),
            session_token: s.session_token,
            csrf_token: s.csrf_token,
        }))
    }

    async fn logout(
        &self,
        request: Request<LogoutRequest>,
    ) -> Result<Response<LogoutResponse>, Status> {
        let ctx = CallContext::of(&request);
        let token = request.into_inner().session_token;
        accounts::logout(&self.store, &token, &client(&ctx, "")).await?;
        Ok(Response::new(LogoutResponse {}))
    }

    async fn list_sessions(
        &self,
        request: Request<ListSessionsRequest>,
    ) -> Result<Response<ListSessionsResponse>, Status> {
        let ctx = CallContext::of(&request);
        let current = request
            .extensions()
            .get::<crate::layer::CurrentSession>()
            .map(|c| c.0.clone());
        let req = request.into_inner();
        let user_id = subject(&ctx, &req.user_id)?;
        let page = req.page.unwrap_or_default();
        let limit = page_limit(page.page_size);
        let before = decode_token(&page.page_token)?;
        let rows = codex_central_store::sessions::list_for_user(
            &self.store,
            &user_id,
            now_ms(),
            before.as_deref(),
            limit,
        )
        .await
        .map_err(crate::Error::from)?;
        let next_page_token = next_page_token(&rows, limit, |r| r.id.clone());
        Ok(Response::new(ListSessionsResponse {
            sessions: rows
                .into_iter()
                .map(|s| session_to_proto(s, current.as_deref()))
                .collect(),
            next_page_token,
        }))
    }

    async fn revoke_session(
        &self,
        request: Request<RevokeSessionRequest>,
    ) -> Result<Response<RevokeSessionResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let id = request.into_inner().id;
        if !codex_central_store::sessions::delete_for_user(&self.store, &me.principal.id, id.trim())
            .await
            .map_err(crate::Error::from)?
        {
            return Err(Status::from(crate::Error::not_found("Session not found")));
        }
        Ok(Response::new(RevokeSessionResponse {}))
    }
}
