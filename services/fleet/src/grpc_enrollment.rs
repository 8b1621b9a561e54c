//! Enrollment and host-reported facts: seed and installer links (single use, consumed with
//! one conditional update) and the local users hosts report.

use codex_central_proto::CallContext;
use codex_central_proto::fleet::v1::*;
use codex_central_proto::ms_to_timestamp;
use tonic::{Request, Response, Status};

use crate::conversions::{host_to_proto, token_state};
use crate::domain::hosts;
use crate::grpc::{FleetGrpc, admin_actor};

impl FleetGrpc {
    pub(crate) async fn do_create_seed_token(
        &self,
        request: Request<CreateSeedTokenRequest>,
    ) -> Result<Response<CreateSeedTokenResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let ttl = request
            .into_inner()
            .ttl_seconds
            .map(|s| std::time::Duration::from_secs(u64::from(s)));
        let link = self.enrollment.create_seed(&actor, ttl).await?;
        Ok(Response::new(CreateSeedTokenResponse {
            seed: Some(SeedToken {
                token: link.token.expose().clone(),
                url: link.url,
                command: link.command,
                expires_at: Some(ms_to_timestamp(link.expires_at)),
            }),
        }))
    }

    pub(crate) async fn do_inspect_seed_token(
        &self,
        request: Request<InspectSeedTokenRequest>,
    ) -> Result<Response<InspectSeedTokenResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let (state, expires_at, script) = self
            .enrollment
            .inspect_seed(&request.into_inner().token)
            .await?;
        Ok(Response::new(InspectSeedTokenResponse {
            state: token_state(state) as i32,
            expires_at: Some(ms_to_timestamp(expires_at)),
            script,
        }))
    }

    pub(crate) async fn do_consume_seed_token(
        &self,
        request: Request<ConsumeSeedTokenRequest>,
    ) -> Result<Response<ConsumeSeedTokenResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        self.enrollment
            .consume_seed(&request.into_inner().token)
            .await?;
        Ok(Response::new(ConsumeSeedTokenResponse {}))
    }

    pub(crate) async fn do_inspect_installer_token(
        &self,
        request: Request<InspectInstallerTokenRequest>,
    ) -> Result<Response<InspectInstallerTokenResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let (state, host, expires_at, command) =
            self.enrollment.inspect(&request.into_inner().token).await?;
        Ok(Response::new(InspectInstallerTokenResponse {
            state: token_state(state) as i32,
            expires_at: Some(ms_to_timestamp(expires_at)),
            fqdn: host.fqdn,
            command,
        }))
    }

    pub(crate) async fn do_consume_installer_token(
        &self,
        request: Request<ConsumeInstallerTokenRequest>,
    ) -> Result<Response<ConsumeInstallerTokenResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let installer = self.enrollment.consume(&request.into_inner().token).await?;
        Ok(Response::new(ConsumeInstallerTokenResponse {
            host: Some(host_to_proto(installer.host)),
            script: installer.script,
            expires_at: Some(ms_to_timestamp(installer.expires_at)),
        }))
    }

    pub(crate) async fn do_record_host_user(
        &self,
        request: Request<RecordHostUserRequest>,
    ) -> Result<Response<RecordHostUserResponse>, Status> {
        let ctx = CallContext::of(&request);
        let principal = ctx.principal()?;
        if principal.kind != codex_central_common::PrincipalKind::Host {
            return Err(tonic::Status::from(crate::Error::permission_denied(
                "only a host can record its users",
            )));
        }
        let host_id = hosts::parse_id(&principal.id)?;
        let req = request.into_inner();
        let clip = |s: &str, n: usize| s.trim().chars().take(n).collect::<String>();
        let username = clip(&req.username, 191);
        // An empty username records nothing (the peer's behaviour) but still lists.
        if !username.is_empty() {
            codex_central_store::host_users::record(
                &self.store,
                host_id,
                &username,
                &clip(&req.hostname, 255),
                codex_central_store::now_ms(),
            )
            .await
            .map_err(crate::Error::from)?;
        }
        let users = self.users_of(host_id).await?;
        Ok(Response::new(RecordHostUserResponse { users }))
    }

    pub(crate) async fn do_list_host_users(
        &self,
        request: Request<ListHostUsersRequest>,
    ) -> Result<Response<ListHostUsersResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let host_id = hosts::parse_id(&request.into_inner().host_id)?;
        let users = self.users_of(host_id).await?;
        Ok(Response::new(ListHostUsersResponse {
            users,
            next_page_token: String::new(),
        }))
    }
}
