//! `codexcentral.auth.v1.AuthService`: validate, authorize, call the domain, convert.

use std::time::Duration;

use codex_central_common::paging::{decode_token, encode_token, page_limit};
use codex_central_common::time::ms_to_timestamp;
use codex_central_common::{CallContext, pending_rpcs};
use codex_central_proto::auth::v1::auth_service_server::AuthService;
use codex_central_proto::auth::v1::*;
use codex_central_store::entities::service_tokens::Model as ServiceTokenRow;
use tonic::{Request, Response, Status};

use crate::domain::authenticator::Authenticator;
use crate::domain::canonical::{Uploader, Vault};
use crate::domain::codex_auth::{RetrieveOutcome, StoreOutcome, masked};
use crate::domain::service_tokens::{self, Actor, Scope};

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

pub struct AuthGrpc {
    pub(crate) authenticator: Authenticator,
    pub(crate) byok: crate::domain::byok::Byok,
    pub(crate) oauth: crate::domain::oauth::OAuth,
    auth_mode_on: bool,
    vault: Vault,
    pub(crate) store: codex_central_store::Store,
}

impl AuthGrpc {
    pub fn new(
        authenticator: Authenticator,
        auth_mode_on: bool,
        vault: Vault,
        store: codex_central_store::Store,
        oauth: crate::domain::oauth::OAuth,
    ) -> Self {
        AuthGrpc {
            byok: crate::domain::byok::Byok::new(store.clone(), vault.keyring()),
            oauth,
            authenticator,
            auth_mode_on,
            vault,
            store,
        }
    }
}

/// The host id of a host principal (sync state is recorded per host).
fn host_id(principal: &codex_central_common::Principal) -> Option<i64> {
    (principal.kind == codex_central_common::PrincipalKind::Host)
        .then(|| principal.id.parse().ok())
        .flatten()
}

fn uploader(ctx: &CallContext) -> Result<Uploader, Status> {
    let p = ctx.principal()?;
    if !matches!(
        p.role,
        codex_central_common::Role::Admin | codex_central_common::Role::Host
    ) {
        return Err(Status::permission_denied(
            "only hosts and admins can store auth.json",
        ));
    }
    Ok(Uploader {
        principal: Some(p.clone()),
        client_ip: ctx.client_ip_text(),
    })
}

fn actor(ctx: &CallContext) -> Result<Actor, Status> {
    Ok(Actor {
        principal: ctx.require_admin()?.clone(),
        client_ip: ctx.client_ip_text(),
    })
}

fn token_to_proto(t: ServiceTokenRow) -> ServiceToken {
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
impl AuthService for AuthGrpc {
    async fn who_am_i(
        &self,
        request: Request<WhoAmIRequest>,
    ) -> Result<Response<WhoAmIResponse>, Status> {
        let ctx = CallContext::of(&request);
        let principal = ctx.principal()?;
        Ok(Response::new(WhoAmIResponse {
            principal: Some(principal.to_proto()),
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
            principal: Some(principal.to_proto()),
        }))
    }

    async fn retrieve_codex_auth(
        &self,
        request: Request<RetrieveCodexAuthRequest>,
    ) -> Result<Response<RetrieveCodexAuthResponse>, Status> {
        let ctx = CallContext::of(&request);
        let principal = ctx.principal()?;
        if !matches!(
            principal.role,
            codex_central_common::Role::Admin | codex_central_common::Role::Host
        ) {
            return Err(Status::permission_denied(
                "only hosts and admins can retrieve auth.json",
            ));
        }
        let req = request.into_inner();
        let answer = self
            .vault
            .retrieve(host_id(principal), &req.digest, &req.last_refresh)
            .await?;
        let status = match answer.outcome {
            RetrieveOutcome::Missing => RetrieveCodexAuthStatus::Missing,
            RetrieveOutcome::Valid => RetrieveCodexAuthStatus::Valid,
            RetrieveOutcome::UploadRequired => RetrieveCodexAuthStatus::UploadRequired,
            RetrieveOutcome::Outdated => RetrieveCodexAuthStatus::Outdated,
        };
        let current = answer.current;
        Ok(Response::new(RetrieveCodexAuthResponse {
            status: status as i32,
            canonical_digest: current
                .as_ref()
                .map(|c| c.digest.clone())
                .unwrap_or_default(),
            canonical_last_refresh: current.as_ref().map(|c| timestamp(c.at)),
            auth_json: (answer.outcome == RetrieveOutcome::Outdated)
                .then(|| current.as_ref().map(|c| c.text.clone()))
                .flatten(),
            canonical_last_refresh_text: current
                .map(|c| c.last_refresh.clone())
                .unwrap_or_default(),
        }))
    }

    async fn store_codex_auth(
        &self,
        request: Request<StoreCodexAuthRequest>,
    ) -> Result<Response<StoreCodexAuthResponse>, Status> {
        let ctx = CallContext::of(&request);
        let who = uploader(&ctx)?;
        let host = ctx.principal.as_ref().and_then(host_id);
        let answer = self
            .vault
            .store(&who, host, &request.into_inner().auth_json)
            .await?;
        let status = match answer.outcome {
            StoreOutcome::Updated => StoreCodexAuthStatus::Updated,
            StoreOutcome::Unchanged => StoreCodexAuthStatus::Unchanged,
            StoreOutcome::Outdated => StoreCodexAuthStatus::Outdated,
        };
        let current = answer.current;
        Ok(Response::new(StoreCodexAuthResponse {
            status: status as i32,
            canonical_digest: current
                .as_ref()
                .map(|c| c.digest.clone())
                .unwrap_or_default(),
            canonical_last_refresh: current.as_ref().map(|c| timestamp(c.at)),
            auth_json: (answer.outcome != StoreOutcome::Unchanged)
                .then(|| current.as_ref().map(|c| c.text.clone()))
                .flatten(),
            validation: None,
            runner_applied: false,
            canonical_last_refresh_text: current
                .map(|c| c.last_refresh.clone())
                .unwrap_or_default(),
        }))
    }

    async fn upload_codex_auth(
        &self,
        request: Request<UploadCodexAuthRequest>,
    ) -> Result<Response<UploadCodexAuthResponse>, Status> {
        let ctx = CallContext::of(&request);
        let via_seed_link = request.get_ref().via_seed_link;
        // Admins upload directly; the gateway uploads for a seed link it has just consumed
        // (an internal call without a principal that says so). Hosts use StoreCodexAuth.
        let who = match ctx.principal.as_ref() {
            Some(p) if p.role == codex_central_common::Role::Admin => Uploader {
                principal: Some(p.clone()),
                client_ip: ctx.client_ip_text(),
            },
            None if ctx.internal && via_seed_link => Uploader {
                principal: None,
                client_ip: ctx.client_ip_text(),
            },
            Some(_) => return Err(Status::permission_denied("admin access required")),
            None => return Err(Status::unauthenticated("authentication required")),
        };
        let req = request.into_inner();
        if req.dry_run {
            let doc = self.vault.validate(&req.auth_json)?;
            return Ok(Response::new(UploadCodexAuthResponse {
                status: StoreCodexAuthStatus::Unspecified as i32,
                canonical_digest: doc.digest,
                canonical_last_refresh: Some(timestamp(doc.last_refresh_at)),
                summary: None,
            }));
        }
        let answer = self.vault.store(&who, None, &req.auth_json).await?;
        let status = match answer.outcome {
            StoreOutcome::Updated => StoreCodexAuthStatus::Updated,
            StoreOutcome::Unchanged => StoreCodexAuthStatus::Unchanged,
            StoreOutcome::Outdated => StoreCodexAuthStatus::Outdated,
        };
        Ok(Response::new(UploadCodexAuthResponse {
            status: status as i32,
            canonical_digest: answer
                .current
                .as_ref()
                .map(|c| c.digest.clone())
                .unwrap_or_default(),
            canonical_last_refresh: answer.current.as_ref().map(|c| timestamp(c.at)),
            summary: None,
        }))
    }

    async fn reveal_codex_auth(
        &self,
        request: Request<RevealCodexAuthRequest>,
    ) -> Result<Response<RevealCodexAuthResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let admin = if req.masked {
            ctx.require_admin_read()?.clone()
        } else {
            ctx.require_admin()?.clone()
        };
        let Some(current) = self.vault.current().await? else {
            return Err(Status::not_found("no canonical auth.json yet"));
        };
        let auth_json = if req.masked {
            masked(&current.text)
        } else {
            self.vault
                .audit_reveal(&admin, &ctx.client_ip_text(), &req.reason, &current.digest)
                .await?;
            current.text.clone()
        };
        Ok(Response::new(RevealCodexAuthResponse {
            auth_json,
            digest: current.digest.clone(),
            last_refresh: current.last_refresh.clone(),
        }))
    }

    async fn list_host_auth_states(
        &self,
        request: Request<ListHostAuthStatesRequest>,
    ) -> Result<Response<ListHostAuthStatesResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let host_id: i64 =
            req.host_id.trim().parse().map_err(|_| {
                Status::invalid_argument("host_id is required and must be a host id")
            })?;
        let canonical = self
            .vault
            .current()
            .await?
            .map(|c| c.digest.clone())
            .unwrap_or_default();
        let states = self
            .vault
            .sync_state(host_id)
            .await?
            .map(|s| HostAuthState {
                host_id: s.host_id.to_string(),
                in_sync: !canonical.is_empty() && s.seen_digest == canonical,
                recent_digests: vec![s.seen_digest.clone()],
                seen_digest: s.seen_digest,
                seen_at: Some(codex_central_common::time::ms_to_timestamp(s.seen_at)),
            })
            .into_iter()
            .collect();
        Ok(Response::new(ListHostAuthStatesResponse {
            states,
            next_page_token: String::new(),
            canonical_digest: canonical,
        }))
    }

    async fn create_service_token(
        &self,
        request: Request<CreateServiceTokenRequest>,
    ) -> Result<Response<CreateServiceTokenResponse>, Status> {
        let actor = actor(&CallContext::of(&request))?;
        let req = request.into_inner();
        let scope = match req.scope() {
            ServiceTokenScope::Admin => Scope::Admin,
            ServiceTokenScope::Read => Scope::Read,
            ServiceTokenScope::Unspecified => {
                return Err(Status::invalid_argument(
                    "scope is required (admin or read)",
                ));
            }
        };
        let expires_in = match req.expires_in_seconds {
            None => None,
            Some(secs) if secs > 0 => Some(Duration::from_secs(secs.unsigned_abs())),
            Some(_) => {
                return Err(Status::invalid_argument(
                    "expires_in_seconds must be positive",
                ));
            }
        };
        let created = service_tokens::create(
            self.authenticator.store(),
            &actor,
            &req.name,
            scope,
            expires_in,
        )
        .await?;
        Ok(Response::new(CreateServiceTokenResponse {
            token: Some(token_to_proto(created.token)),
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
        let rows = service_tokens::list(
            self.authenticator.store(),
            req.include_revoked,
            before.as_deref(),
            limit,
        )
        .await?;
        let next_page_token = match rows.last() {
            Some(last) if rows.len() as u64 == limit => encode_token(&last.id),
            _ => String::new(),
        };
        Ok(Response::new(ListServiceTokensResponse {
            tokens: rows.into_iter().map(token_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn revoke_service_token(
        &self,
        request: Request<RevokeServiceTokenRequest>,
    ) -> Result<Response<RevokeServiceTokenResponse>, Status> {
        let actor = actor(&CallContext::of(&request))?;
        let token =
            service_tokens::revoke(self.authenticator.store(), &actor, &request.into_inner().id)
                .await?;
        self.authenticator.forget(&token.id);
        Ok(Response::new(RevokeServiceTokenResponse {
            token: Some(token_to_proto(token)),
        }))
    }

    async fn list_users(
        &self,
        request: Request<ListUsersRequest>,
    ) -> Result<Response<ListUsersResponse>, Status> {
        self.do_list_users(request).await
    }

    async fn get_user(
        &self,
        request: Request<GetUserRequest>,
    ) -> Result<Response<GetUserResponse>, Status> {
        self.do_get_user(request).await
    }

    async fn create_user(
        &self,
        request: Request<CreateUserRequest>,
    ) -> Result<Response<CreateUserResponse>, Status> {
        self.do_create_user(request).await
    }

    async fn update_user(
        &self,
        request: Request<UpdateUserRequest>,
    ) -> Result<Response<UpdateUserResponse>, Status> {
        self.do_update_user(request).await
    }

    async fn set_user_role(
        &self,
        request: Request<SetUserRoleRequest>,
    ) -> Result<Response<SetUserRoleResponse>, Status> {
        self.do_set_user_role(request).await
    }

    async fn set_user_enabled(
        &self,
        request: Request<SetUserEnabledRequest>,
    ) -> Result<Response<SetUserEnabledResponse>, Status> {
        self.do_set_user_enabled(request).await
    }

    async fn reset_user_password(
        &self,
        request: Request<ResetUserPasswordRequest>,
    ) -> Result<Response<ResetUserPasswordResponse>, Status> {
        self.do_reset_user_password(request).await
    }

    async fn delete_user(
        &self,
        request: Request<DeleteUserRequest>,
    ) -> Result<Response<DeleteUserResponse>, Status> {
        self.do_delete_user(request).await
    }

    async fn resolve_session(
        &self,
        request: Request<ResolveSessionRequest>,
    ) -> Result<Response<ResolveSessionResponse>, Status> {
        self.do_resolve_session(request).await
    }

    async fn resolve_personal_token(
        &self,
        request: Request<ResolvePersonalTokenRequest>,
    ) -> Result<Response<ResolvePersonalTokenResponse>, Status> {
        self.do_resolve_personal_token(request).await
    }

    async fn get_setup_status(
        &self,
        request: Request<GetSetupStatusRequest>,
    ) -> Result<Response<GetSetupStatusResponse>, Status> {
        self.do_get_setup_status(request).await
    }

    async fn complete_setup(
        &self,
        request: Request<CompleteSetupRequest>,
    ) -> Result<Response<CompleteSetupResponse>, Status> {
        self.do_complete_setup(request).await
    }

    async fn change_password(
        &self,
        request: Request<ChangePasswordRequest>,
    ) -> Result<Response<ChangePasswordResponse>, Status> {
        self.do_change_password(request).await
    }

    async fn get_registration_policy(
        &self,
        request: Request<GetRegistrationPolicyRequest>,
    ) -> Result<Response<GetRegistrationPolicyResponse>, Status> {
        self.do_get_registration_policy(request).await
    }

    async fn set_registration_policy(
        &self,
        request: Request<SetRegistrationPolicyRequest>,
    ) -> Result<Response<SetRegistrationPolicyResponse>, Status> {
        self.do_set_registration_policy(request).await
    }

    async fn register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<RegisterResponse>, Status> {
        self.do_register(request).await
    }

    async fn login(
        &self,
        request: Request<LoginRequest>,
    ) -> Result<Response<LoginResponse>, Status> {
        self.do_login(request).await
    }

    async fn logout(
        &self,
        request: Request<LogoutRequest>,
    ) -> Result<Response<LogoutResponse>, Status> {
        self.do_logout(request).await
    }

    async fn list_sessions(
        &self,
        request: Request<ListSessionsRequest>,
    ) -> Result<Response<ListSessionsResponse>, Status> {
        self.do_list_sessions(request).await
    }

    async fn revoke_session(
        &self,
        request: Request<RevokeSessionRequest>,
    ) -> Result<Response<RevokeSessionResponse>, Status> {
        self.do_revoke_session(request).await
    }

    async fn create_personal_token(
        &self,
        request: Request<CreatePersonalTokenRequest>,
    ) -> Result<Response<CreatePersonalTokenResponse>, Status> {
        self.do_create_personal_token(request).await
    }

    async fn list_personal_tokens(
        &self,
        request: Request<ListPersonalTokensRequest>,
    ) -> Result<Response<ListPersonalTokensResponse>, Status> {
        self.do_list_personal_tokens(request).await
    }

    async fn update_personal_token_policy(
        &self,
        request: Request<UpdatePersonalTokenPolicyRequest>,
    ) -> Result<Response<UpdatePersonalTokenPolicyResponse>, Status> {
        self.do_update_personal_token_policy(request).await
    }

    async fn revoke_personal_token(
        &self,
        request: Request<RevokePersonalTokenRequest>,
    ) -> Result<Response<RevokePersonalTokenResponse>, Status> {
        self.do_revoke_personal_token(request).await
    }

    async fn list_byok_keys(
        &self,
        request: Request<ListByokKeysRequest>,
    ) -> Result<Response<ListByokKeysResponse>, Status> {
        self.do_list_byok_keys(request).await
    }

    async fn set_byok_key(
        &self,
        request: Request<SetByokKeyRequest>,
    ) -> Result<Response<SetByokKeyResponse>, Status> {
        self.do_set_byok_key(request).await
    }

    async fn delete_byok_key(
        &self,
        request: Request<DeleteByokKeyRequest>,
    ) -> Result<Response<DeleteByokKeyResponse>, Status> {
        self.do_delete_byok_key(request).await
    }

    async fn resolve_byok_key(
        &self,
        request: Request<ResolveByokKeyRequest>,
    ) -> Result<Response<ResolveByokKeyResponse>, Status> {
        self.do_resolve_byok_key(request).await
    }

    async fn list_login_providers(
        &self,
        request: Request<ListLoginProvidersRequest>,
    ) -> Result<Response<ListLoginProvidersResponse>, Status> {
        self.do_list_login_providers(request).await
    }

    async fn list_o_auth_providers(
        &self,
        request: Request<ListOAuthProvidersRequest>,
    ) -> Result<Response<ListOAuthProvidersResponse>, Status> {
        self.do_list_o_auth_providers(request).await
    }

    async fn get_o_auth_provider(
        &self,
        request: Request<GetOAuthProviderRequest>,
    ) -> Result<Response<GetOAuthProviderResponse>, Status> {
        self.do_get_o_auth_provider(request).await
    }

    async fn create_o_auth_provider(
        &self,
        request: Request<CreateOAuthProviderRequest>,
    ) -> Result<Response<CreateOAuthProviderResponse>, Status> {
        self.do_create_o_auth_provider(request).await
    }

    async fn update_o_auth_provider(
        &self,
        request: Request<UpdateOAuthProviderRequest>,
    ) -> Result<Response<UpdateOAuthProviderResponse>, Status> {
        self.do_update_o_auth_provider(request).await
    }

    async fn delete_o_auth_provider(
        &self,
        request: Request<DeleteOAuthProviderRequest>,
    ) -> Result<Response<DeleteOAuthProviderResponse>, Status> {
        self.do_delete_o_auth_provider(request).await
    }

    async fn begin_o_auth_login(
        &self,
        request: Request<BeginOAuthLoginRequest>,
    ) -> Result<Response<BeginOAuthLoginResponse>, Status> {
        self.do_begin_o_auth_login(request).await
    }

    async fn complete_o_auth_login(
        &self,
        request: Request<CompleteOAuthLoginRequest>,
    ) -> Result<Response<CompleteOAuthLoginResponse>, Status> {
        self.do_complete_o_auth_login(request).await
    }

    async fn list_linked_identities(
        &self,
        request: Request<ListLinkedIdentitiesRequest>,
    ) -> Result<Response<ListLinkedIdentitiesResponse>, Status> {
        self.do_list_linked_identities(request).await
    }

    async fn unlink_identity(
        &self,
        request: Request<UnlinkIdentityRequest>,
    ) -> Result<Response<UnlinkIdentityResponse>, Status> {
        self.do_unlink_identity(request).await
    }

    pending_rpcs! {
        delete_codex_auth(DeleteCodexAuthRequest) -> DeleteCodexAuthResponse;
        refresh_codex_auth(RefreshCodexAuthRequest) -> RefreshCodexAuthResponse;
        validate_codex_auth(ValidateCodexAuthRequest) -> ValidateCodexAuthResponse;
        get_codex_auth_status(GetCodexAuthStatusRequest) -> GetCodexAuthStatusResponse;
    }
}
