//! `codexcentral.auth.v1.UserService`: first-run setup, user administration, passwords and
//! open registration.

use codex_central_common::crypto::Secret;
use codex_central_proto::CallContext;
use codex_central_proto::auth::v1::user_service_server::UserService;
use codex_central_proto::auth::v1::*;
use codex_central_proto::common::v1::Role as ProtoRole;
use tonic::{Request, Response, Status};

use super::convert::{signed_in, user_to_proto};
use super::{UserGrpc, admin, admin_or_self, client, person, subject};
use crate::domain::accounts;
use crate::domain::users::{self, UserRole};

const DEFAULT_PAGE: u64 = 50;
const MAX_PAGE: u64 = 500;

fn role_of(r: i32) -> Result<UserRole, Status> {
    match ProtoRole::try_from(r) {
        Ok(ProtoRole::Admin) => Ok(UserRole::Admin),
        Ok(ProtoRole::Member) | Ok(ProtoRole::Unspecified) => Ok(UserRole::Member),
        _ => Err(crate::Error::invalid("role", "role must be admin or member").into()),
    }
}

#[tonic::async_trait]
impl UserService for UserGrpc {
    async fn get_setup_status(
        &self,
        _request: Request<GetSetupStatusRequest>,
    ) -> Result<Response<GetSetupStatusResponse>, Status> {
        Ok(Response::new(GetSetupStatusResponse {
            setup_required: accounts::setup_required(&self.store).await?,
        }))
    }

    async fn complete_setup(
        &self,
        request: Request<CompleteSetupRequest>,
    ) -> Result<Response<CompleteSetupResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let (user, opened) = accounts::complete_setup(
            &self.store,
            &req.username,
            &req.display_name,
            &Secret::new(req.password),
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

    async fn list_users(
        &self,
        request: Request<ListUsersRequest>,
    ) -> Result<Response<ListUsersResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let page = req.page.unwrap_or_default();
        let limit = match u64::from(page.page_size) {
            0 => DEFAULT_PAGE,
            n if n > MAX_PAGE => {
                return Err(crate::Error::invalid(
                    "page_size",
                    format!("page_size must be at most {MAX_PAGE}"),
                )
                .into());
            }
            n => n,
        };
        let after = (!page.page_token.is_empty()).then_some(page.page_token.as_str());
        let mut rows = codex_central_store::users::list(
            &self.store,
            req.query.trim(),
            req.include_disabled,
            after,
            limit + 1,
        )
        .await
        .map_err(crate::Error::from)?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_page_token = if more {
            rows.last().map(|u| u.username.clone()).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(ListUsersResponse {
            users: rows.into_iter().map(user_to_proto).collect(),
            next_page_token,
        }))
    }

    async fn get_user(
        &self,
        request: Request<GetUserRequest>,
    ) -> Result<Response<GetUserResponse>, Status> {
        let ctx = CallContext::of(&request);
        let id = request.into_inner().id;
        // Staff read anyone; a person reads their own account.
        let id = subject(&ctx, &id)?;
        let user = codex_central_store::users::get(self.store.db(), &id)
            .await
            .map_err(crate::Error::from)?;
        Ok(Response::new(GetUserResponse {
            user: Some(user_to_proto(user)),
        }))
    }

    async fn create_user(
        &self,
        request: Request<CreateUserRequest>,
    ) -> Result<Response<CreateUserResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let user = users::create(
            &self.store,
            &actor,
            &req.username,
            &req.display_name,
            &Secret::new(req.password),
            role_of(req.role)?,
        )
        .await?;
        Ok(Response::new(CreateUserResponse {
            user: Some(user_to_proto(user)),
        }))
    }

    async fn update_user(
        &self,
        request: Request<UpdateUserRequest>,
    ) -> Result<Response<UpdateUserResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let actor = admin_or_self(&ctx, &req.id)?;
        let user = match req.display_name {
            Some(name) => users::set_display_name(&self.store, &actor, &req.id, &name).await?,
            None => codex_central_store::users::get(self.store.db(), &req.id)
                .await
                .map_err(crate::Error::from)?,
        };
        Ok(Response::new(UpdateUserResponse {
            user: Some(user_to_proto(user)),
        }))
    }

    async fn set_user_role(
        &self,
        request: Request<SetUserRoleRequest>,
    ) -> Result<Response<SetUserRoleResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let user = users::set_role(&self.store, &actor, &req.id, role_of(req.role)?).await?;
        self.authenticator.forget_user(&user.id);
        Ok(Response::new(SetUserRoleResponse {
            user: Some(user_to_proto(user)),
        }))
    }

    async fn set_user_enabled(
        &self,
        request: Request<SetUserEnabledRequest>,
    ) -> Result<Response<SetUserEnabledResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let user = users::set_enabled(&self.store, &actor, &req.id, req.enabled).await?;
        self.authenticator.forget_user(&user.id);
        Ok(Response::new(SetUserEnabledResponse {
            user: Some(user_to_proto(user)),
        }))
    }

    async fn reset_user_password(
        &self,
        request: Request<ResetUserPasswordRequest>,
    ) -> Result<Response<ResetUserPasswordResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let user =
            users::reset_password(&self.store, &actor, &req.id, &Secret::new(req.new_password))
                .await?;
        Ok(Response::new(ResetUserPasswordResponse {
            user: Some(user_to_proto(user)),
        }))
    }

    async fn delete_user(
        &self,
        request: Request<DeleteUserRequest>,
    ) -> Result<Response<DeleteUserResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let id = request.into_inner().id;
        users::delete(&self.store, &actor, &id).await?;
        self.authenticator.forget_user(&id);
        Ok(Response::new(DeleteUserResponse {}))
    }

    async fn change_password(
        &self,
        request: Request<ChangePasswordRequest>,
    ) -> Result<Response<ChangePasswordResponse>, Status> {
        let ctx = CallContext::of(&request);
        let me = person(&ctx)?;
        let req = request.into_inner();
        accounts::change_password(
            &self.store,
            &me.principal.id,
            &Secret::new(req.current_password),
            &Secret::new(req.new_password),
            &client(&ctx, ""),
        )
        .await?;
        Ok(Response::new(ChangePasswordResponse {}))
    }

    async fn get_registration_policy(
        &self,
        _request: Request<GetRegistrationPolicyRequest>,
    ) -> Result<Response<GetRegistrationPolicyResponse>, Status> {
        Ok(Response::new(GetRegistrationPolicyResponse {
            policy: Some(RegistrationPolicy {
                open_registration: accounts::registration_open(&self.store).await?,
            }),
        }))
    }

    async fn set_registration_policy(
        &self,
        request: Request<SetRegistrationPolicyRequest>,
    ) -> Result<Response<SetRegistrationPolicyResponse>, Status> {
        let ctx = CallContext::of(&request);
        let actor = admin(&ctx)?;
        let open = request
            .into_inner()
            .policy
            .unwrap_or_default()
            .open_registration;
        let open =
            accounts::set_registration_open(&self.store, &actor.principal, &client(&ctx, ""), open)
                .await?;
        Ok(Response::new(SetRegistrationPolicyResponse {
            policy: Some(RegistrationPolicy {
                open_registration: open,
            }),
        }))
    }

    async fn register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<RegisterResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let (user, opened) = accounts::register(
            &self.store,
            &req.username,
            &req.display_name,
            &Secret::new(req.password),
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
}
