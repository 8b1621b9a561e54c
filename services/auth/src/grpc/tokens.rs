//! `codexcentral.auth.v1.TokenService`: personal m2c_ tokens of people and service tokens for
//! tooling.

use std::time::Duration;

use codex_central_proto::CallContext;
use codex_central_proto::auth::v1::token_service_server::TokenService;
use codex_central_proto::auth::v1::*;
use codex_central_proto::ms_to_timestamp;
use codex_central_proto::paging::{decode_token, next_page_token, page_limit};
use codex_central_store::entities::service_tokens::Model as ServiceTokenRow;
use tonic::{Request, Response, Status};

use super::convert::personal_token_to_proto;
use super::{TokenGrpc, admin, person, subject};
use crate::domain::personal_tokens::{self, BudgetPeriod as Period, Policy};
use crate::domain::service_tokens::{self, Scope};

/// A lifetime in seconds as asked for: none, or positive.
fn expires_in(seconds: Option<i64>) -> Result<Option<Duration>, Status> {
    match seconds {
        None => Ok(None),
        Some(secs) if secs > 0 => Ok(Some(Duration::from_secs(secs.unsigned_abs()))),
        Some(_) => Err(crate::Error::invalid(
            "expires_in_seconds",
            "expires_in_seconds must be positive",
        )
        .into()),
    }
}

fn policy_from_proto(p: Option<TokenPolicy>) -> Result<Policy, Status> {
    let Some(p) = p else {
        return Ok(Policy::default());
    };
    let budget_period = match BudgetPeriod::try_from(p.budget_period) {
        Ok(BudgetPeriod::Unspecified) => None,
        Ok(BudgetPeriod::Day) => Some(Period::Day),
        Ok(BudgetPeriod::Week) => Some(Period::Week),
        Ok(BudgetPeriod::Month) => Some(Period::Month),
        Err(_) => {
            return Err(crate::Error::invalid(
                "policy.budget_period",
                "budget_period must be day, week or month",
            )
            .into());
        }
    };
    Ok(Policy {
        allowed_models: p.allowed_models,
        requests_per_minute: p.requests_per_minute,
        tokens_per_minute: p.tokens_per_minute,
        budget_period,
        budget_micros: p.budget_micros,
        budget_alert_percent: p.budget_alert_percent,
    })
}

fn service_token_to_proto(t: ServiceTokenRow) -> ServiceToken {
    let scope = match Scope::parse(&t.scope) {
        Ok(Scope::Admin) => ServiceTokenScope::Admin,
        Ok(Scope::Read) => ServiceTokenScope::Read,
        Err(_) => ServiceTokenScope::Unspecified,
    };
    ServiceToken {
        id: t.id,
        name: t.name,
        scope: scope as i32,
        prefix: t.prefix,
        created_at: Some(ms_to_timestamp(t.created_at)),
        expires_at: t.expires_at.map(ms_to_timestamp),
        last_used_at: t.last_used_at.map(ms_to_timestamp),
        revoked_at: t.revoked_at.map(ms_to_timestamp),
        created_by: t.created_by,
    }
}

#[tonic::async_trait]
impl TokenService for TokenGrpc {
    async fn create_personal_token(
        &self,
        request: Request<CreatePersonalTokenRequest>,
    ) -> Result<Response<CreatePersonalTokenResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let req = request.into_inner();
        let expires_in = expires_in(req.expires_in_seconds)?;
        let user_id = me.principal.id.clone();
        let created = personal_tokens::create(
            &self.store,
            &me,
            &user_id,
            &req.name,
            expires_in,
            policy_from_proto(req.policy)?,
        )
        .await?;
        Ok(Response::new(CreatePersonalTokenResponse {
            token: Some(personal_token_to_proto(created.token)),
            secret: created.secret.expose().clone(),
        }))
    }

    async fn list_personal_tokens(
        &self,
        request: Request<ListPersonalTokensRequest>,
    ) -> Result<Response<ListPersonalTokensResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let user_id = subject(&ctx, &req.user_id)?;
        let page = req.page.unwrap_or_default();
        let limit = page_limit(page.page_size);
        let before = decode_token(&page.page_token)?;
        let rows = codex_central_store::personal_tokens::list_for_user(
            &self.store,
            &user_id,
            req.include_revoked,
            before.as_deref(),
            limit,
        )
        .await
        .map_err(crate::Error::from)?;
        let next_page_token = next_page_token(&rows, limit, |r| r.id.clone());
        Ok(Response::new(ListPersonalTokensResponse {
            tokens: rows.into_iter().map(personal_token_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_personal_token_policy(
        &self,
        request: Request<UpdatePersonalTokenPolicyRequest>,
    ) -> Result<Response<UpdatePersonalTokenPolicyResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let req = request.into_inner();
        let user_id = me.principal.id.clone();
        let token = personal_tokens::set_policy(
            &self.store,
            &me,
            &user_id,
            &req.id,
            policy_from_proto(req.policy)?,
        )
        .await?;
        self.authenticator.forget_personal(&token.id);
        Ok(Response::new(UpdatePersonalTokenPolicyResponse {
            token: Some(personal_token_to_proto(token)),
        }))
    }

    async fn revoke_personal_token(
        &self,
        request: Request<RevokePersonalTokenRequest>,
    ) -> Result<Response<RevokePersonalTokenResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let user_id = me.principal.id.clone();
        let token =
            personal_tokens::revoke(&self.store, &me, &user_id, &request.into_inner().id).await?;
        self.authenticator.forget_personal(&token.id);
        Ok(Response::new(RevokePersonalTokenResponse {
            token: Some(personal_token_to_proto(token)),
        }))
    }

    async fn create_service_token(
        &self,
        request: Request<CreateServiceTokenRequest>,
    ) -> Result<Response<CreateServiceTokenResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let scope = match req.scope() {
            ServiceTokenScope::Admin => Scope::Admin,
            ServiceTokenScope::Read => Scope::Read,
            ServiceTokenScope::Unspecified => {
                return Err(
                    crate::Error::invalid("scope", "scope is required (admin or read)").into(),
                );
            }
        };
        let expires_in = expires_in(req.expires_in_seconds)?;
        let created =
            service_tokens::create(&self.store, &actor, &req.name, scope, expires_in).await?;
        Ok(Response::new(CreateServiceTokenResponse {
            token: Some(service_token_to_proto(created.token)),
            secret: created.secret.expose().clone(),
        }))
    }

    async fn list_service_tokens(
        &self,
        request: Request<ListServiceTokensRequest>,
    ) -> Result<Response<ListServiceTokensResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let page = req.page.unwrap_or_default();
        let limit = page_limit(page.page_size);
        let before = decode_token(&page.page_token)?;
        let rows = service_tokens::list(&self.store, req.include_revoked, before.as_deref(), limit)
            .await?;
        let next_page_token = next_page_token(&rows, limit, |r| r.id.clone());
        Ok(Response::new(ListServiceTokensResponse {
            tokens: rows.into_iter().map(service_token_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn revoke_service_token(
        &self,
        request: Request<RevokeServiceTokenRequest>,
    ) -> Result<Response<RevokeServiceTokenResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let token = service_tokens::revoke(&self.store, &actor, &request.into_inner().id).await?;
        self.authenticator.forget(&token.id);
        Ok(Response::new(RevokeServiceTokenResponse {
            token: Some(service_token_to_proto(token)),
        }))
    }
}
