//! Sign-in and self-service RPCs: setup, login/logout, sessions, registration, personal tokens
//! and BYOK keys. Pages and REST reach them through the gateway, which passes the client IP.

use std::time::Duration;

use codex_central_common::paging::{decode_token, encode_token, page_limit};
use codex_central_common::time::ms_to_timestamp;
use codex_central_common::{CallContext, Principal, PrincipalKind};
use codex_central_proto::auth::v1::*;
use codex_central_store::entities::personal_tokens::Model as TokenRow;
use codex_central_store::entities::sessions::Model as SessionRow;
use codex_central_store::now_ms;
use tonic::{Request, Response, Status};

use crate::domain::accounts::{self, Client};
use crate::domain::byok::{KeyStatus, Listed};
use crate::domain::personal_tokens::{self, BudgetPeriod as Period, Policy};
use crate::domain::service_tokens::Actor;
use crate::domain::sessions::{self, Opened};
use crate::grpc::AuthGrpc;
use crate::grpc_users::user_to_proto;

fn client(ctx: &CallContext, user_agent: &str) -> Client {
    Client {
        ip: ctx.client_ip_text(),
        user_agent: user_agent.to_string(),
    }
}

/// The signed-in person behind a call. In local mode (auth mode off) there is no person.
fn person(ctx: &CallContext) -> Result<Actor, Status> {
    let p = ctx.principal()?;
    if p.kind != PrincipalKind::User {
        return Err(Status::failed_precondition(match p.kind {
            PrincipalKind::LocalAdmin => {
                "the server runs in local mode (auth mode off): there are no personal accounts"
            }
            _ => "only a signed-in user has personal tokens and keys",
        }));
    }
    Ok(Actor {
        principal: p.clone(),
        client_ip: ctx.client_ip_text(),
    })
}

/// Whose data to read: the caller, or (admins only) the named user.
fn subject(ctx: &CallContext, user_id: &str) -> Result<String, Status> {
    let user_id = user_id.trim();
    if user_id.is_empty() {
        return Ok(person(ctx)?.principal.id);
    }
    let p = ctx.principal()?;
    if p.kind == PrincipalKind::User && p.id == user_id {
        return Ok(user_id.into());
    }
    ctx.require_admin_read()?;
    Ok(user_id.into())
}

fn session_to_proto(s: SessionRow, current: Option<&str>) -> Session {
    Session {
        current: current == Some(s.id.as_str()),
        id: s.id,
        user_id: s.user_id,
        created_at: Some(ms_to_timestamp(s.created_at)),
        last_seen_at: Some(ms_to_timestamp(s.last_seen_at)),
        expires_at: Some(ms_to_timestamp(s.expires_at)),
        client_ip: s.client_ip,
        user_agent: s.user_agent,
    }
}

fn policy_to_proto(p: &Policy) -> TokenPolicy {
    TokenPolicy {
        allowed_models: p.allowed_models.clone(),
        requests_per_minute: p.requests_per_minute,
        tokens_per_minute: p.tokens_per_minute,
        budget_period: match p.budget_period {
            None => BudgetPeriod::Unspecified,
            Some(Period::Day) => BudgetPeriod::Day,
            Some(Period::Week) => BudgetPeriod::Week,
            Some(Period::Month) => BudgetPeriod::Month,
        } as i32,
        budget_micros: p.budget_micros,
        budget_alert_percent: p.budget_alert_percent,
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
            return Err(crate::Error::InvalidField {
                field: "policy.budget_period".into(),
                message: "budget_period must be day, week or month".into(),
            }
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

pub(crate) fn token_to_proto(t: TokenRow) -> PersonalToken {
    let status = match personal_tokens::status(&t, now_ms()) {
        "revoked" => PersonalTokenStatus::Revoked,
        "expired" => PersonalTokenStatus::Expired,
        _ => PersonalTokenStatus::Active,
    };
    PersonalToken {
        policy: Some(policy_to_proto(&personal_tokens::policy_of(&t))),
        id: t.id,
        user_id: t.user_id,
        name: t.name,
        prefix: t.prefix,
        status: status as i32,
        created_at: Some(ms_to_timestamp(t.created_at)),
        expires_at: t.expires_at.map(ms_to_timestamp),
        last_used_at: t.last_used_at.map(ms_to_timestamp),
        revoked_at: t.revoked_at.map(ms_to_timestamp),
    }
}

fn byok_to_proto(k: Listed) -> ByokKey {
    ByokKey {
        provider_id: k.row.provider_id,
        masked_suffix: k.row.suffix,
        status: match k.status {
            KeyStatus::Ok => ByokKeyStatus::Ok,
            KeyStatus::NeedsReentry => ByokKeyStatus::NeedsReentry,
        } as i32,
        created_at: Some(ms_to_timestamp(k.row.created_at)),
        updated_at: Some(ms_to_timestamp(k.row.updated_at)),
    }
}

/// The session fields of login/setup/register answers.
struct SignedIn {
    user: User,
    session: Session,
    session_token: String,
    csrf_token: String,
}

fn signed_in(user: codex_central_store::entities::users::Model, opened: Opened) -> SignedIn {
    let current = opened.session.id.clone();
    SignedIn {
        user: user_to_proto(user),
        session: session_to_proto(opened.session, Some(&current)),
        session_token: opened.token.expose().clone(),
        csrf_token: opened.csrf,
    }
}

impl AuthGrpc {
    pub(crate) async fn do_resolve_session(
        &self,
        request: Request<ResolveSessionRequest>,
    ) -> Result<Response<ResolveSessionResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let token = request.into_inner().session_token;
        let Some(found) = sessions::resolve(&self.store, &token).await? else {
            return Err(Status::unauthenticated("not signed in or session expired"));
        };
        let current = found.session.id.clone();
        Ok(Response::new(ResolveSessionResponse {
            principal: Some(found.principal.to_proto()),
            session: Some(session_to_proto(found.session, Some(&current))),
            csrf_token: found.csrf,
        }))
    }

    pub(crate) async fn do_resolve_personal_token(
        &self,
        request: Request<ResolvePersonalTokenRequest>,
    ) -> Result<Response<ResolvePersonalTokenResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let (principal, row) = self
            .authenticator
            .personal_token(&request.into_inner().secret)
            .await?;
        Ok(Response::new(ResolvePersonalTokenResponse {
            principal: Some(principal.to_proto()),
            token: Some(token_to_proto(row)),
        }))
    }

    pub(crate) async fn do_get_setup_status(
        &self,
        _request: Request<GetSetupStatusRequest>,
    ) -> Result<Response<GetSetupStatusResponse>, Status> {
        Ok(Response::new(GetSetupStatusResponse {
            setup_required: accounts::setup_required(&self.store).await?,
        }))
    }

    pub(crate) async fn do_complete_setup(
        &self,
        request: Request<CompleteSetupRequest>,
    ) -> Result<Response<CompleteSetupResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let (user, opened) = accounts::complete_setup(
            &self.store,
            &req.username,
            &req.display_name,
            &codex_central_common::crypto::Secret::new(req.password),
            &client(&ctx, ""),
        )
        .await?;
        let s = signed_in(user, opened);
        Ok(Response::new(CompleteSetupResponse {
            user: Some(s.user),
            session: Some(s.session),
            session_token: s.session_token,
            csrf_token: s.csrf_token,
        }))
    }

    pub(crate) async fn do_login(
        &self,
        request: Request<LoginRequest>,
    ) -> Result<Response<LoginResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let (user, opened) = accounts::login(
            &self.store,
            &req.username,
            &codex_central_common::crypto::Secret::new(req.password),
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

    pub(crate) async fn do_logout(
        &self,
        request: Request<LogoutRequest>,
    ) -> Result<Response<LogoutResponse>, Status> {
        let ctx = CallContext::of(&request);
        let token = request.into_inner().session_token;
        accounts::logout(&self.store, &token, &client(&ctx, "")).await?;
        Ok(Response::new(LogoutResponse {}))
    }

    pub(crate) async fn do_register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<RegisterResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let (user, opened) = accounts::register(
            &self.store,
            &req.username,
            &req.display_name,
            &codex_central_common::crypto::Secret::new(req.password),
            &client(&ctx, ""),
        )
        .await?;
        let s = signed_in(user, opened);
        Ok(Response::new(RegisterResponse {
            user: Some(s.user),
            session: Some(s.session),
            session_token: s.session_token,
            csrf_token: s.csrf_token,
        }))
    }

    pub(crate) async fn do_get_registration_policy(
        &self,
        _request: Request<GetRegistrationPolicyRequest>,
    ) -> Result<Response<GetRegistrationPolicyResponse>, Status> {
        Ok(Response::new(GetRegistrationPolicyResponse {
            policy: Some(RegistrationPolicy {
                open_registration: accounts::registration_open(&self.store).await?,
            }),
        }))
    }

    pub(crate) async fn do_set_registration_policy(
        &self,
        request: Request<SetRegistrationPolicyRequest>,
    ) -> Result<Response<SetRegistrationPolicyResponse>, Status> {
        let ctx = CallContext::of(&request);
        let admin: Principal = ctx.require_admin()?.clone();
        let open = request
            .into_inner()
            .policy
            .unwrap_or_default()
            .open_registration;
        let open =
            accounts::set_registration_open(&self.store, &admin, &client(&ctx, ""), open).await?;
        Ok(Response::new(SetRegistrationPolicyResponse {
            policy: Some(RegistrationPolicy {
                open_registration: open,
            }),
        }))
    }

    pub(crate) async fn do_change_password(
        &self,
        request: Request<ChangePasswordRequest>,
    ) -> Result<Response<ChangePasswordResponse>, Status> {
        let ctx = CallContext::of(&request);
        let me = person(&ctx)?;
        let req = request.into_inner();
        accounts::change_password(
            &self.store,
            &me.principal.id,
            &codex_central_common::crypto::Secret::new(req.current_password),
            &codex_central_common::crypto::Secret::new(req.new_password),
            &client(&ctx, ""),
        )
        .await?;
        Ok(Response::new(ChangePasswordResponse {}))
    }

    pub(crate) async fn do_list_sessions(
        &self,
        request: Request<ListSessionsRequest>,
    ) -> Result<Response<ListSessionsResponse>, Status> {
        let ctx = CallContext::of(&request);
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
        let next_page_token = match rows.last() {
            Some(last) if rows.len() as u64 == limit => encode_token(&last.id),
            _ => String::new(),
        };
        Ok(Response::new(ListSessionsResponse {
            sessions: rows
                .into_iter()
                .map(|s| session_to_proto(s, None))
                .collect(),
            next_page_token,
        }))
    }

    pub(crate) async fn do_revoke_session(
        &self,
        request: Request<RevokeSessionRequest>,
    ) -> Result<Response<RevokeSessionResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let id = request.into_inner().id;
        if !codex_central_store::sessions::delete_for_user(&self.store, &me.principal.id, id.trim())
            .await
            .map_err(crate::Error::from)?
        {
            return Err(Status::not_found("Session not found"));
        }
        Ok(Response::new(RevokeSessionResponse {}))
    }

    pub(crate) async fn do_create_personal_token(
        &self,
        request: Request<CreatePersonalTokenRequest>,
    ) -> Result<Response<CreatePersonalTokenResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let req = request.into_inner();
        let expires_in = match req.expires_in_seconds {
            None => None,
            Some(secs) if secs > 0 => Some(Duration::from_secs(secs.unsigned_abs())),
            Some(_) => {
                return Err(crate::Error::InvalidField {
                    field: "expires_in_seconds".into(),
                    message: "expires_in_seconds must be positive".into(),
                }
                .into());
            }
        };
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
            token: Some(token_to_proto(created.token)),
            secret: created.secret.expose().clone(),
        }))
    }

    pub(crate) async fn do_list_personal_tokens(
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
        let next_page_token = match rows.last() {
            Some(last) if rows.len() as u64 == limit => encode_token(&last.id),
            _ => String::new(),
        };
        Ok(Response::new(ListPersonalTokensResponse {
            tokens: rows.into_iter().map(token_to_proto).collect(),
            next_page_token,
        }))
    }

    pub(crate) async fn do_update_personal_token_policy(
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
            token: Some(token_to_proto(token)),
        }))
    }

    pub(crate) async fn do_revoke_personal_token(
        &self,
        request: Request<RevokePersonalTokenRequest>,
    ) -> Result<Response<RevokePersonalTokenResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let user_id = me.principal.id.clone();
        let token =
            personal_tokens::revoke(&self.store, &me, &user_id, &request.into_inner().id).await?;
        self.authenticator.forget_personal(&token.id);
        Ok(Response::new(RevokePersonalTokenResponse {
            token: Some(token_to_proto(token)),
        }))
    }

    pub(crate) async fn do_list_byok_keys(
        &self,
        request: Request<ListByokKeysRequest>,
    ) -> Result<Response<ListByokKeysResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let keys = self.byok.list(&me.principal.id).await?;
        Ok(Response::new(ListByokKeysResponse {
            keys: keys.into_iter().map(byok_to_proto).collect(),
        }))
    }

    pub(crate) async fn do_set_byok_key(
        &self,
        request: Request<SetByokKeyRequest>,
    ) -> Result<Response<SetByokKeyResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        let req = request.into_inner();
        let key = codex_central_common::crypto::Secret::new(req.key);
        let listed = self.byok.set(&me, &req.provider_id, &key).await?;
        Ok(Response::new(SetByokKeyResponse {
            key: Some(byok_to_proto(listed)),
        }))
    }

    pub(crate) async fn do_delete_byok_key(
        &self,
        request: Request<DeleteByokKeyRequest>,
    ) -> Result<Response<DeleteByokKeyResponse>, Status> {
        let me = person(&CallContext::of(&request))?;
        self.byok
            .delete(&me, &request.into_inner().provider_id)
            .await?;
        Ok(Response::new(DeleteByokKeyResponse {}))
    }

    pub(crate) async fn do_resolve_byok_key(
        &self,
        request: Request<ResolveByokKeyRequest>,
    ) -> Result<Response<ResolveByokKeyResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let req = request.into_inner();
        let found = self.byok.resolve(&req.user_id, &req.provider_id).await?;
        Ok(Response::new(match found {
            Some(key) => ResolveByokKeyResponse {
                found: true,
                key: key.expose().clone(),
                status: ByokKeyStatus::Ok as i32,
            },
            None => ResolveByokKeyResponse {
                found: false,
                key: String::new(),
                status: ByokKeyStatus::Unspecified as i32,
            },
        }))
    }
}
