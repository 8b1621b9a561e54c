//! `codexcentral.fleet.v1.FleetService`: validate, authorize, call the domain, convert.

use codex_central_proto::fleet::v1::fleet_service_server::FleetService;
use codex_central_proto::fleet::v1::*;
use codex_central_proto::live::{Changes, Closing, Watches};
use codex_central_proto::ms_to_timestamp;
use codex_central_proto::paging::{decode_id_token, decode_token, next_page_token, page_limit};
use codex_central_proto::{CallContext, pending_rpcs};
use codex_central_store::Store;
use codex_central_store::audit::AuditFilter;
use tonic::{Request, Response, Status};

use crate::conversions::{host_to_proto, policy_to_proto};
use crate::domain::enrollment::Enrollment;
use crate::domain::host_auth::{CallKind, HostAuthenticator, HostCall};
use crate::domain::host_settings::{self, HostChange, parse_version_selection};
use crate::domain::hosts::{self, Actor, Registration};
use crate::domain::releases::ReleaseChecker;
use crate::domain::wrappers::{HostWrapper, WrapperCatalog};
use crate::domain::{audit, policy};

#[derive(Clone)]
pub struct FleetGrpc {
    pub(crate) store: Store,
    pub(crate) host_auth: HostAuthenticator,
    pub(crate) enrollment: Enrollment,
    pub(crate) wrappers: WrapperCatalog,
    pub(crate) releases: ReleaseChecker,
    /// Live overviews; every admin change pokes them.
    pub(crate) watches: Watches,
}

impl FleetGrpc {
    /// `host_auth` is shared with whoever runs its activity flusher.
    pub fn new(
        store: Store,
        host_auth: HostAuthenticator,
        enrollment: Enrollment,
        wrappers: WrapperCatalog,
        releases: ReleaseChecker,
        closing: Closing,
    ) -> Self {
        FleetGrpc {
            store,
            host_auth,
            enrollment,
            wrappers,
            releases,
            watches: Watches::new(Changes::default(), closing, crate::grpc_overview::RECHECK),
        }
    }

    async fn installer(
        &self,
        host: &codex_central_store::entities::hosts::Model,
        key: &codex_central_common::crypto::Secret<String>,
        ttl_seconds: Option<u32>,
    ) -> Result<InstallerToken, Status> {
        let link = self
            .enrollment
            .create_installer(
                host,
                key,
                ttl_seconds.map(|s| std::time::Duration::from_secs(u64::from(s))),
            )
            .await?;
        Ok(InstallerToken {
            token: link.token.expose().clone(),
            url: link.url,
            command: link.command,
            expires_at: Some(ms_to_timestamp(link.expires_at)),
        })
    }

    pub(crate) async fn users_of(&self, host_id: i64) -> Result<Vec<HostUser>, Status> {
        let rows = codex_central_store::host_users::list(&self.store, host_id, 500)
            .await
            .map_err(crate::Error::from)?;
        Ok(rows
            .into_iter()
            .map(|u| HostUser {
                username: u.username,
                hostname: u.hostname,
                first_seen: Some(ms_to_timestamp(u.first_seen)),
                last_seen: Some(ms_to_timestamp(u.last_seen)),
            })
            .collect())
    }

    /// An admin's change to one host: the request names the host and the change, the answer is
    /// the host as it is now.
    async fn apply<R>(
        &self,
        request: Request<R>,
        change: impl FnOnce(R) -> crate::Result<(String, HostChange)>,
    ) -> Result<Host, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let (id, change) = change(request.into_inner())?;
        let id = hosts::parse_id(&id)?;
        self.change(&actor, id, change).await
    }

    /// Applies an admin change to one host and drops cached copies so it takes effect at once.
    async fn change(&self, actor: &Actor, id: i64, change: HostChange) -> Result<Host, Status> {
        let host = host_settings::apply(&self.store, actor, id, change).await?;
        self.changed();
        Ok(host_to_proto(host))
    }
}

pub(crate) fn admin_actor(ctx: &CallContext) -> Result<Actor, Status> {
    Ok(Actor {
        principal: ctx.require_admin()?.clone(),
        client_ip: ctx.client_ip_text(),
    })
}

#[tonic::async_trait]
impl FleetService for FleetGrpc {
    type DownloadWrapperStream =
        futures::stream::BoxStream<'static, Result<DownloadWrapperResponse, Status>>;
    type WatchFleetOverviewStream =
        futures::stream::BoxStream<'static, Result<WatchFleetOverviewResponse, Status>>;

    async fn register_host(
        &self,
        request: Request<RegisterHostRequest>,
    ) -> Result<Response<RegisterHostResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let req = request.into_inner();
        let req_ttl = req.installer_ttl_seconds;
        let registered = hosts::register(
            &self.store,
            &actor,
            Registration {
                fqdn: req.fqdn,
                secure: req.secure.unwrap_or(true),
                vip: req.vip,
                temporary: req.temporary,
                curl_insecure: req.curl_insecure,
                rotate: req.rotate,
            },
        )
        .await?;
        self.changed();
        let installer = self
            .installer(&registered.host, &registered.api_key, req_ttl)
            .await?;
        Ok(Response::new(RegisterHostResponse {
            host: Some(host_to_proto(registered.host)),
            api_key: registered.api_key.expose().clone(),
            installer: Some(installer),
            created: registered.created,
        }))
    }

    async fn list_hosts(
        &self,
        request: Request<ListHostsRequest>,
    ) -> Result<Response<ListHostsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let page = req.page.clone().unwrap_or_default();
        let limit = page_limit(page.page_size);
        let after = decode_id_token(&page.page_token)?;
        let status = match req.status() {
            HostStatus::Unspecified => None,
            HostStatus::Active => Some("active".to_string()),
            HostStatus::Disabled => Some("disabled".to_string()),
        };
        let filter = codex_central_store::hosts::HostFilter {
            query: req.query.trim().to_ascii_lowercase(),
            status,
            insecure_only: req.insecure_only,
        };
        let rows = codex_central_store::hosts::list(&self.store, &filter, after, limit)
            .await
            .map_err(crate::Error::from)?;
        let total = codex_central_store::hosts::count(&self.store, &filter)
            .await
            .map_err(crate::Error::from)?;
        let next_page_token = next_page_token(&rows, limit, |r| r.id);
        Ok(Response::new(ListHostsResponse {
            hosts: rows.into_iter().map(host_to_proto).collect(),
            next_page_token,
            total_count: u32::try_from(total).unwrap_or(u32::MAX),
        }))
    }

    async fn get_host(
        &self,
        request: Request<GetHostRequest>,
    ) -> Result<Response<GetHostResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let id = hosts::parse_id(&request.into_inner().id)?;
        let host = codex_central_store::hosts::get(self.store.db(), id)
            .await
            .map_err(crate::Error::from)?;
        Ok(Response::new(GetHostResponse {
            host: Some(host_to_proto(host)),
        }))
    }

    async fn delete_host(
        &self,
        request: Request<DeleteHostRequest>,
    ) -> Result<Response<DeleteHostResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let id = hosts::parse_id(&request.into_inner().id)?;
        hosts::delete(&self.store, &actor, id).await?;
        self.changed();
        Ok(Response::new(DeleteHostResponse {
            deleted_id: id.to_string(),
        }))
    }

    async fn authenticate_host(
        &self,
        request: Request<AuthenticateHostRequest>,
    ) -> Result<Response<AuthenticateHostResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let req = request.into_inner();
        let client_ip = if req.client_ip.is_empty() {
            None
        } else {
            Some(req.client_ip.parse().map_err(|_| {
                crate::Error::invalid("client_ip", "client_ip is not an IP address")
            })?)
        };
        let kind = match req.call() {
            HostCallKind::AuthRetrieve => CallKind::AuthRetrieve,
            HostCallKind::AuthStore => CallKind::AuthStore,
            HostCallKind::Mcp => CallKind::Mcp,
            HostCallKind::General | HostCallKind::Unspecified => CallKind::General,
        };
        let host = self
            .host_auth
            .authenticate(HostCall {
                api_key: &req.api_key,
                client_ip,
                kind,
                force_ip_update: req.force_ip_update,
                installation_id: &req.installation_id,
                client_version: &req.client_version,
                wrapper_version: &req.wrapper_version,
            })
            .await?;
        let principal = crate::domain::host_auth::principal_of(&host);
        let wrapper_sha256 = if matches!(kind, CallKind::AuthRetrieve | CallKind::AuthStore) {
            let installation_id = self.host_auth.installation_id().await?;
            self.wrappers
                .served_sha256(&HostWrapper {
                    host: &host,
                    api_key: req.api_key.trim(),
                    base_url: self.enrollment.public_url(),
                    installation_id: &installation_id,
                })
                .await?
        } else {
            String::new()
        };
        Ok(Response::new(AuthenticateHostResponse {
            principal: Some(codex_central_proto::common::v1::Principal::from(&principal)),
            host: Some(host_to_proto(host)),
            wrapper_sha256,
        }))
    }

    async fn deregister_host(
        &self,
        request: Request<DeregisterHostRequest>,
    ) -> Result<Response<DeregisterHostResponse>, Status> {
        let ctx = CallContext::of(&request);
        let principal = ctx.principal()?.clone();
        if principal.kind != codex_central_common::PrincipalKind::Host {
            return Err(tonic::Status::from(crate::Error::permission_denied(
                "only a host can deregister itself",
            )));
        }
        let id = hosts::parse_id(&principal.id)?;
        let actor = Actor {
            principal,
            client_ip: ctx.client_ip_text(),
        };
        let host = hosts::delete(&self.store, &actor, id).await?;
        self.changed();
        Ok(Response::new(DeregisterHostResponse {
            deleted_fqdn: host.fqdn,
        }))
    }

    async fn set_host_enabled(
        &self,
        request: Request<SetHostEnabledRequest>,
    ) -> Result<Response<SetHostEnabledResponse>, Status> {
        let host = self
            .apply(request, |r| Ok((r.id, HostChange::Enabled(r.enabled))))
            .await?;
        Ok(Response::new(SetHostEnabledResponse { host: Some(host) }))
    }

    async fn set_host_roaming(
        &self,
        request: Request<SetHostRoamingRequest>,
    ) -> Result<Response<SetHostRoamingResponse>, Status> {
        let host = self
            .apply(request, |r| Ok((r.id, HostChange::Roaming(r.allow))))
            .await?;
        Ok(Response::new(SetHostRoamingResponse { host: Some(host) }))
    }

    async fn set_host_secure(
        &self,
        request: Request<SetHostSecureRequest>,
    ) -> Result<Response<SetHostSecureResponse>, Status> {
        let host = self
            .apply(request, |r| Ok((r.id, HostChange::Secure(r.secure))))
            .await?;
        Ok(Response::new(SetHostSecureResponse { host: Some(host) }))
    }

    async fn set_host_vip(
        &self,
        request: Request<SetHostVipRequest>,
    ) -> Result<Response<SetHostVipResponse>, Status> {
        let host = self
            .apply(request, |r| Ok((r.id, HostChange::Vip(r.vip))))
            .await?;
        Ok(Response::new(SetHostVipResponse { host: Some(host) }))
    }

    async fn enable_insecure_window(
        &self,
        request: Request<EnableInsecureWindowRequest>,
    ) -> Result<Response<EnableInsecureWindowResponse>, Status> {
        let host = self
            .apply(request, |r| {
                Ok((r.id, HostChange::InsecureEnable(r.duration_minutes)))
            })
            .await?;
        Ok(Response::new(EnableInsecureWindowResponse {
            host: Some(host),
        }))
    }

    async fn disable_insecure_window(
        &self,
        request: Request<DisableInsecureWindowRequest>,
    ) -> Result<Response<DisableInsecureWindowResponse>, Status> {
        let host = self
            .apply(request, |r| Ok((r.id, HostChange::InsecureDisable)))
            .await?;
        Ok(Response::new(DisableInsecureWindowResponse {
            host: Some(host),
        }))
    }

    async fn set_host_force_ipv4(
        &self,
        request: Request<SetHostForceIpv4Request>,
    ) -> Result<Response<SetHostForceIpv4Response>, Status> {
        let host = self
            .apply(request, |r| Ok((r.id, HostChange::ForceIpv4(r.force))))
            .await?;
        Ok(Response::new(SetHostForceIpv4Response { host: Some(host) }))
    }

    async fn set_host_curl_insecure(
        &self,
        request: Request<SetHostCurlInsecureRequest>,
    ) -> Result<Response<SetHostCurlInsecureResponse>, Status> {
        let host = self
            .apply(request, |r| Ok((r.id, HostChange::CurlInsecure(r.allow))))
            .await?;
        Ok(Response::new(SetHostCurlInsecureResponse {
            host: Some(host),
        }))
    }

    async fn set_host_model_override(
        &self,
        request: Request<SetHostModelOverrideRequest>,
    ) -> Result<Response<SetHostModelOverrideResponse>, Status> {
        let host = self
            .apply(request, |r| {
                Ok((
                    r.id,
                    HostChange::Model {
                        model: r.model_override,
                        reasoning_effort: r.reasoning_effort_override,
                    },
                ))
            })
            .await?;
        Ok(Response::new(SetHostModelOverrideResponse {
            host: Some(host),
        }))
    }

    async fn set_host_codex_version(
        &self,
        request: Request<SetHostCodexVersionRequest>,
    ) -> Result<Response<SetHostCodexVersionResponse>, Status> {
        let host = self
            .apply(request, |r| {
                Ok((
                    r.id,
                    HostChange::CodexVersion(parse_version_selection("selection", &r.selection)?),
                ))
            })
            .await?;
        Ok(Response::new(SetHostCodexVersionResponse {
            host: Some(host),
        }))
    }

    async fn clear_host_sync(
        &self,
        request: Request<ClearHostSyncRequest>,
    ) -> Result<Response<ClearHostSyncResponse>, Status> {
        let host = self
            .apply(request, |r| Ok((r.id, HostChange::ClearSync)))
            .await?;
        Ok(Response::new(ClearHostSyncResponse { host: Some(host) }))
    }

    async fn rotate_host_key(
        &self,
        request: Request<RotateHostKeyRequest>,
    ) -> Result<Response<RotateHostKeyResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let req = request.into_inner();
        let id = hosts::parse_id(&req.id)?;
        let (host, key) = host_settings::rotate_key(&self.store, &actor, id).await?;
        self.changed();
        let installer = self
            .installer(&host, &key, req.installer_ttl_seconds)
            .await?;
        Ok(Response::new(RotateHostKeyResponse {
            host: Some(host_to_proto(host)),
            api_key: key.expose().clone(),
            installer: Some(installer),
        }))
    }

    async fn set_api_state(
        &self,
        request: Request<SetApiStateRequest>,
    ) -> Result<Response<SetApiStateResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let enabled = request.into_inner().api_enabled;
        let p = policy::update(&self.store, &actor, "fleet.set_api_state", |p| {
            p.api_enabled = enabled;
            Ok(())
        })
        .await?;
        self.changed();
        Ok(Response::new(SetApiStateResponse {
            policy: Some(policy_to_proto(p)),
        }))
    }

    async fn set_silent_mode(
        &self,
        request: Request<SetSilentModeRequest>,
    ) -> Result<Response<SetSilentModeResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let silent = request.into_inner().silent_mode;
        let p = policy::update(&self.store, &actor, "fleet.set_silent_mode", |p| {
            p.silent_mode = silent;
            Ok(())
        })
        .await?;
        Ok(Response::new(SetSilentModeResponse {
            policy: Some(policy_to_proto(p)),
        }))
    }

    async fn set_prune_policy(
        &self,
        request: Request<SetPrunePolicyRequest>,
    ) -> Result<Response<SetPrunePolicyResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let days = request.into_inner().prune_inactive_days;
        if days > policy::MAX_PRUNE_INACTIVE_DAYS {
            return Err(crate::Error::invalid(
                "inactivity_days",
                "inactivity_days must be between 0 and 60",
            )
            .into());
        }
        let p = policy::update(&self.store, &actor, "fleet.set_prune_policy", |p| {
            p.prune_inactive_days = days;
            Ok(())
        })
        .await?;
        Ok(Response::new(SetPrunePolicyResponse {
            policy: Some(policy_to_proto(p)),
        }))
    }

    async fn get_versions(
        &self,
        _request: Request<GetVersionsRequest>,
    ) -> Result<Response<GetVersionsResponse>, Status> {
        // Public (hosts call /versions without a key): nothing here is secret.
        let p = policy::get(&self.store).await?;
        Ok(Response::new(GetVersionsResponse {
            versions: Some(self.versions(&p).await?),
            policy: Some(policy_to_proto(p)),
        }))
    }

    async fn create_seed_token(
        &self,
        request: Request<CreateSeedTokenRequest>,
    ) -> Result<Response<CreateSeedTokenResponse>, Status> {
        self.do_create_seed_token(request).await
    }

    async fn inspect_seed_token(
        &self,
        request: Request<InspectSeedTokenRequest>,
    ) -> Result<Response<InspectSeedTokenResponse>, Status> {
        self.do_inspect_seed_token(request).await
    }

    async fn consume_seed_token(
        &self,
        request: Request<ConsumeSeedTokenRequest>,
    ) -> Result<Response<ConsumeSeedTokenResponse>, Status> {
        self.do_consume_seed_token(request).await
    }

    async fn record_host_user(
        &self,
        request: Request<RecordHostUserRequest>,
    ) -> Result<Response<RecordHostUserResponse>, Status> {
        self.do_record_host_user(request).await
    }

    async fn list_host_users(
        &self,
        request: Request<ListHostUsersRequest>,
    ) -> Result<Response<ListHostUsersResponse>, Status> {
        self.do_list_host_users(request).await
    }

    async fn get_fleet_overview(
        &self,
        request: Request<GetFleetOverviewRequest>,
    ) -> Result<Response<GetFleetOverviewResponse>, Status> {
        self.do_get_fleet_overview(request).await
    }

    async fn watch_fleet_overview(
        &self,
        request: Request<WatchFleetOverviewRequest>,
    ) -> Result<Response<Self::WatchFleetOverviewStream>, Status> {
        self.do_watch_fleet_overview(request).await
    }

    async fn prune_hosts(
        &self,
        request: Request<PruneHostsRequest>,
    ) -> Result<Response<PruneHostsResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let pruned =
            crate::domain::prune::prune_once(&self.store, &actor.principal.audit_actor()).await?;
        self.changed();
        Ok(Response::new(PruneHostsResponse {
            pruned_fqdns: pruned,
        }))
    }

    async fn inspect_installer_token(
        &self,
        request: Request<InspectInstallerTokenRequest>,
    ) -> Result<Response<InspectInstallerTokenResponse>, Status> {
        self.do_inspect_installer_token(request).await
    }

    async fn consume_installer_token(
        &self,
        request: Request<ConsumeInstallerTokenRequest>,
    ) -> Result<Response<ConsumeInstallerTokenResponse>, Status> {
        self.do_consume_installer_token(request).await
    }

    async fn get_fleet_policy(
        &self,
        request: Request<GetFleetPolicyRequest>,
    ) -> Result<Response<GetFleetPolicyResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let p = policy::get(&self.store).await?;
        Ok(Response::new(GetFleetPolicyResponse {
            policy: Some(policy_to_proto(p)),
        }))
    }

    async fn list_audit_events(
        &self,
        request: Request<ListAuditEventsRequest>,
    ) -> Result<Response<ListAuditEventsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let page = req.page.unwrap_or_default();
        let limit = page_limit(page.page_size);
        let filter = AuditFilter {
            actor: req.actor,
            action: req.action,
            target: req.target,
        };
        let rows =
            audit::list(&self.store, &filter, decode_token(&page.page_token)?, limit).await?;
        let next_page_token = next_page_token(&rows, limit, |r| r.id);
        Ok(Response::new(ListAuditEventsResponse {
            events: rows
                .into_iter()
                .map(|r| AuditEvent {
                    id: r.id.to_string(),
                    at: Some(ms_to_timestamp(r.at)),
                    actor: r.actor,
                    action: r.action,
                    target: r.target,
                    client_ip: r.client_ip,
                    details_json: r.details,
                })
                .collect(),
            next_page_token,
        }))
    }

    async fn check_codex_versions(
        &self,
        request: Request<CheckCodexVersionsRequest>,
    ) -> Result<Response<CheckCodexVersionsResponse>, Status> {
        self.do_check_codex_versions(request).await
    }

    async fn set_codex_version_policy(
        &self,
        request: Request<SetCodexVersionPolicyRequest>,
    ) -> Result<Response<SetCodexVersionPolicyResponse>, Status> {
        self.do_set_codex_version_policy(request).await
    }

    async fn get_wrapper_release(
        &self,
        request: Request<GetWrapperReleaseRequest>,
    ) -> Result<Response<GetWrapperReleaseResponse>, Status> {
        self.do_get_wrapper_release(request).await
    }

    async fn list_wrapper_releases(
        &self,
        request: Request<ListWrapperReleasesRequest>,
    ) -> Result<Response<ListWrapperReleasesResponse>, Status> {
        self.do_list_wrapper_releases(request).await
    }

    async fn publish_wrapper_release(
        &self,
        request: Request<PublishWrapperReleaseRequest>,
    ) -> Result<Response<PublishWrapperReleaseResponse>, Status> {
        self.do_publish_wrapper_release(request).await
    }

    async fn delete_wrapper_release(
        &self,
        request: Request<DeleteWrapperReleaseRequest>,
    ) -> Result<Response<DeleteWrapperReleaseResponse>, Status> {
        self.do_delete_wrapper_release(request).await
    }

    async fn download_wrapper(
        &self,
        request: Request<DownloadWrapperRequest>,
    ) -> Result<Response<Self::DownloadWrapperStream>, Status> {
        self.do_download_wrapper(request).await
    }

    pending_rpcs! {
        record_audit_event(RecordAuditEventRequest) -> RecordAuditEventResponse;
    }
}
