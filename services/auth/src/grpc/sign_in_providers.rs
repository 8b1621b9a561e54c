//! `codexcentral.auth.v1.SignInProviderService`: OAuth/OIDC provider administration, the
//! login and link flows, and the identities linked to a person.

use codex_central_common::PrincipalKind;
use codex_central_common::crypto::Secret;
use codex_central_proto::CallContext;
use codex_central_proto::auth::v1::sign_in_provider_service_server::SignInProviderService;
use codex_central_proto::auth::v1::*;
use codex_central_proto::ms_to_timestamp;
use codex_central_store::entities::oauth_providers::Model as ProviderRow;
use tonic::{Request, Response, Status};

use super::convert::{session_to_proto, user_to_proto};
use super::{SignInProviderGrpc, admin, client};
use crate::domain::oauth::{Input, Kind, Providers};

fn kind_to_proto(kind: &str) -> i32 {
    let k = match Kind::parse(kind) {
        Some(Kind::Github) => OAuthProviderKind::OauthProviderKindGithub,
        Some(Kind::Gitee) => OAuthProviderKind::OauthProviderKindGitee,
        Some(Kind::Oidc) => OAuthProviderKind::OauthProviderKindOidc,
        None => OAuthProviderKind::OauthProviderKindUnspecified,
    };
    k as i32
}

fn kind_from_proto(kind: i32) -> String {
    match OAuthProviderKind::try_from(kind) {
        Ok(OAuthProviderKind::OauthProviderKindGithub) => "github",
        Ok(OAuthProviderKind::OauthProviderKindGitee) => "gitee",
        Ok(OAuthProviderKind::OauthProviderKindOidc) => "oidc",
        _ => "",
    }
    .into()
}

fn secret(s: String) -> Option<Secret<String>> {
    (!s.trim().is_empty()).then(|| Secret::new(s))
}

impl SignInProviderGrpc {
    fn provider_to_proto(&self, row: ProviderRow) -> OAuthProvider {
        OAuthProvider {
            callback_url: self.oauth.providers().callback_url(&row.id),
            scopes: Providers::scopes(&row),
            kind: kind_to_proto(&row.kind),
            client_secret_set: row.client_secret.is_some(),
            id: row.id,
            display_name: row.display_name,
            client_id: row.client_id,
            issuer_url: row.issuer_url,
            enabled: row.enabled,
            created_at: Some(ms_to_timestamp(row.created_at)),
            updated_at: Some(ms_to_timestamp(row.updated_at)),
        }
    }
}

#[tonic::async_trait]
impl SignInProviderService for SignInProviderGrpc {
    async fn list_login_providers(
        &self,
        _request: Request<ListLoginProvidersRequest>,
    ) -> Result<Response<ListLoginProvidersResponse>, Status> {
        let providers = self
            .oauth
            .providers()
            .list()
            .await?
            .into_iter()
            .filter(|p| p.enabled)
            .map(|p| LoginProvider {
                kind: kind_to_proto(&p.kind),
                id: p.id,
                display_name: p.display_name,
            })
            .collect();
        Ok(Response::new(ListLoginProvidersResponse { providers }))
    }

    async fn list_o_auth_providers(
        &self,
        request: Request<ListOAuthProvidersRequest>,
    ) -> Result<Response<ListOAuthProvidersResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let rows = self.oauth.providers().list().await?;
        Ok(Response::new(ListOAuthProvidersResponse {
            providers: rows
                .into_iter()
                .map(|r| self.provider_to_proto(r))
                .collect(),
        }))
    }

    async fn get_o_auth_provider(
        &self,
        request: Request<GetOAuthProviderRequest>,
    ) -> Result<Response<GetOAuthProviderResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let row = self.oauth.providers().get(&request.into_inner().id).await?;
        Ok(Response::new(GetOAuthProviderResponse {
            provider: Some(self.provider_to_proto(row)),
        }))
    }

    async fn create_o_auth_provider(
        &self,
        request: Request<CreateOAuthProviderRequest>,
    ) -> Result<Response<CreateOAuthProviderResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let r = request.into_inner();
        let row = self
            .oauth
            .providers()
            .create(
                &actor,
                Input {
                    id: r.id,
                    kind: kind_from_proto(r.kind),
                    display_name: r.display_name,
                    client_id: r.client_id,
                    client_secret: secret(r.client_secret),
                    issuer_url: r.issuer_url,
                    scopes: r.scopes,
                    enabled: r.enabled,
                },
            )
            .await?;
        Ok(Response::new(CreateOAuthProviderResponse {
            provider: Some(self.provider_to_proto(row)),
        }))
    }

    async fn update_o_auth_provider(
        &self,
        request: Request<UpdateOAuthProviderRequest>,
    ) -> Result<Response<UpdateOAuthProviderResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let r = request.into_inner();
        let id = r.id.clone();
        let row = self
            .oauth
            .providers()
            .update(
                &actor,
                Input {
                    id: r.id,
                    kind: String::new(),
                    display_name: r.display_name,
                    client_id: r.client_id,
                    client_secret: secret(r.client_secret),
                    issuer_url: r.issuer_url,
                    scopes: r.scopes,
                    enabled: r.enabled,
                },
            )
            .await?;
        self.oauth.forget(&id);
        Ok(Response::new(UpdateOAuthProviderResponse {
            provider: Some(self.provider_to_proto(row)),
        }))
    }

    async fn delete_o_auth_provider(
        &self,
        request: Request<DeleteOAuthProviderRequest>,
    ) -> Result<Response<DeleteOAuthProviderResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let id = request.into_inner().id;
        self.oauth.providers().delete(&actor, &id).await?;
        self.oauth.forget(&id);
        Ok(Response::new(DeleteOAuthProviderResponse {}))
    }

    async fn begin_o_auth_login(
        &self,
        request: Request<BeginOAuthLoginRequest>,
    ) -> Result<Response<BeginOAuthLoginResponse>, Status> {
        let ctx = CallContext::of(&request);
        let r = request.into_inner();
        let link_user = if r.link {
            match ctx.principal.as_ref() {
                Some(p) if p.kind == PrincipalKind::User => Some(p.id.clone()),
                _ => {
                    return Err(Status::from(crate::Error::failed_precondition(
                        "sign in first to link another account",
                    )));
                }
            }
        } else {
            None
        };
        let begun = self
            .oauth
            .begin(&r.provider_id, &r.return_to, link_user)
            .await?;
        Ok(Response::new(BeginOAuthLoginResponse {
            authorization_url: begun.authorization_url,
            state_expires_at: Some(ms_to_timestamp(begun.expires_at)),
        }))
    }

    async fn complete_o_auth_login(
        &self,
        request: Request<CompleteOAuthLoginRequest>,
    ) -> Result<Response<CompleteOAuthLoginResponse>, Status> {
        let ctx = CallContext::of(&request);
        ctx.require_internal()?;
        let r = request.into_inner();
        let done = self
            .oauth
            .complete(
                &r.provider_id,
                &r.code,
                &r.state,
                &client(&ctx, &r.user_agent),
            )
            .await?;
        let (session, session_token, csrf_token) = match done.opened {
            Some(o) => {
                let current = o.session.id.clone();
                (
                    Some(session_to_proto(o.session, Some(&current))),
                    o.token.expose().clone(),
                    o.csrf,
                )
            }
            None => (None, String::new(), String::new()),
        };
        Ok(Response::new(CompleteOAuthLoginResponse {
            user: Some(user_to_proto(done.user)),
            user_created: done.created,
            linked: done.linked,
            session,
            session_token,
            csrf_token,
            return_to: done.return_to,
        }))
    }

    async fn list_linked_identities(
        &self,
        request: Request<ListLinkedIdentitiesRequest>,
    ) -> Result<Response<ListLinkedIdentitiesResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?;
        if p.kind != PrincipalKind::User {
            return Err(Status::from(crate::Error::failed_precondition(
                "only a signed-in user has linked accounts",
            )));
        }
        let kinds: std::collections::HashMap<String, String> = self
            .oauth
            .providers()
            .list()
            .await?
            .into_iter()
            .map(|r| (r.id, r.kind))
            .collect();
        let identities = self
            .oauth
            .identities(&p.id)
            .await?
            .into_iter()
            .map(|i| LinkedIdentity {
                provider_kind: kinds
                    .get(&i.provider_id)
                    .map(|k| kind_to_proto(k))
                    .unwrap_or(0),
                id: i.id,
                provider_id: i.provider_id,
                subject: i.subject,
                display: i.display,
                linked_at: Some(ms_to_timestamp(i.created_at)),
                last_login_at: i.last_login_at.map(ms_to_timestamp),
            })
            .collect();
        Ok(Response::new(ListLinkedIdentitiesResponse { identities }))
    }

    async fn unlink_identity(
        &self,
        request: Request<UnlinkIdentityRequest>,
    ) -> Result<Response<UnlinkIdentityResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?.clone();
        if p.kind != PrincipalKind::User {
            return Err(Status::from(crate::Error::failed_precondition(
                "only a signed-in user has linked accounts",
            )));
        }
        self.oauth
            .unlink(&p.id, request.into_inner().id.trim(), &client(&ctx, ""))
            .await?;
        Ok(Response::new(UnlinkIdentityResponse {}))
    }
}
