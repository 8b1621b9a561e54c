//! The user-management RPCs (admin only).

use codex_central_common::crypto::Secret;
use codex_central_proto::CallContext;
use codex_central_proto::auth::v1::*;
use codex_central_proto::common::v1::Role as ProtoRole;
use codex_central_proto::ms_to_timestamp;
use codex_central_store::entities::users::Model;
use tonic::{Request, Response, Status};

use crate::domain::service_tokens::Actor;
use crate::domain::users::{self, UserRole};
use crate::grpc::AuthGrpc;

const DEFAULT_PAGE: u64 = 50;
const MAX_PAGE: u64 = 500;

fn admin(ctx: &CallContext) -> Result<Actor, Status> {
    Ok(Actor {
        principal: ctx.require_admin()?.clone(),
        client_ip: ctx.client_ip_text(),
    })
}

pub(crate) fn user_to_proto(u: Model) -> User {
    User {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        role: if u.role == "admin" {
            ProtoRole::Admin
        } else {
            ProtoRole::Member
        } as i32,
        enabled: u.enabled,
        created_at: Some(ms_to_timestamp(u.created_at)),
        last_login_at: u.last_login_at.map(ms_to_timestamp),
        has_password: u.password_hash.is_some(),
    }
}

fn role_of(r: i32) -> Result<UserRole, Status> {
    match ProtoRole::try_from(r) {
        Ok(ProtoRole::Admin) => Ok(UserRole::Admin),
        Ok(ProtoRole::Member) | Ok(ProtoRole::Unspecified) => Ok(UserRole::Member),
        _ => Err(crate::Error::invalid("role", "role must be admin or member").into()),
    }
}

impl AuthGrpc {
    pub(crate) async fn do_create_user(
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

    pub(crate) async fn do_list_users(
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

    pub(crate) async fn do_get_user(
        &self,
        request: Request<GetUserRequest>,
    ) -> Result<Response<GetUserResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let user = codex_central_store::users::get(self.store.db(), &request.into_inner().id)
            .await
            .map_err(crate::Error::from)?;
        Ok(Response::new(GetUserResponse {
            user: Some(user_to_proto(user)),
        }))
    }

    pub(crate) async fn do_update_user(
        &self,
        request: Request<UpdateUserRequest>,
    ) -> Result<Response<UpdateUserResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
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

    pub(crate) async fn do_set_user_role(
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

    pub(crate) async fn do_set_user_enabled(
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

    pub(crate) async fn do_reset_user_password(
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

    pub(crate) async fn do_delete_user(
        &self,
        request: Request<DeleteUserRequest>,
    ) -> Result<Response<DeleteUserResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let id = request.into_inner().id;
        users::delete(&self.store, &actor, &id).await?;
        self.authenticator.forget_user(&id);
        Ok(Response::new(DeleteUserResponse {}))
    }
}
