//! `codexcentral.fleet.v1.FleetService`: validate, authorize, call the domain, convert.

use codex_central_common::paging::{decode_token, encode_token, page_limit};
use codex_central_common::time::ms_to_timestamp;
use codex_central_common::{CallContext, pending_rpcs};
use codex_central_proto::fleet::v1::fleet_service_server::FleetService;
use codex_central_proto::fleet::v1::*;
use codex_central_store::Store;
use codex_central_store::audit::AuditFilter;
use tonic::{Request, Response, Status};

use crate::domain::{audit, policy};

pub struct FleetGrpc {
    store: Store,
}

impl FleetGrpc {
    pub fn new(store: Store) -> Self {
        FleetGrpc { store }
    }
}

fn policy_to_proto(p: policy::FleetPolicy) -> FleetPolicy {
    let push = match p.host_content_push {
        policy::HostContentPush::Off => HostContentPush::Off,
        policy::HostContentPush::Review => HostContentPush::Review,
        policy::HostContentPush::On => HostContentPush::On,
    };
    FleetPolicy {
        api_enabled: p.api_enabled,
        silent_mode: p.silent_mode,
        prune_inactive_days: p.prune_inactive_days,
        host_content_push: push as i32,
        codex_version: Some(CodexVersionPolicy {
            pinned: p.codex_version.pinned,
            version: p.codex_version.version,
        }),
    }
}

#[tonic::async_trait]
impl FleetService for FleetGrpc {
    type DownloadWrapperStream =
        futures::stream::BoxStream<'static, Result<DownloadWrapperResponse, Status>>;

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
        let next_page_token = match rows.last() {
            Some(last) if rows.len() as u64 == limit => encode_token(&last.id.to_string()),
            _ => String::new(),
        };
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

    pending_rpcs! {
        register_host(RegisterHostRequest) -> RegisterHostResponse;
        list_hosts(ListHostsRequest) -> ListHostsResponse;
        get_host(GetHostRequest) -> GetHostResponse;
        delete_host(DeleteHostRequest) -> DeleteHostResponse;
        rotate_host_key(RotateHostKeyRequest) -> RotateHostKeyResponse;
        set_host_enabled(SetHostEnabledRequest) -> SetHostEnabledResponse;
        set_host_roaming(SetHostRoamingRequest) -> SetHostRoamingResponse;
        set_host_secure(SetHostSecureRequest) -> SetHostSecureResponse;
        set_host_vip(SetHostVipRequest) -> SetHostVipResponse;
        enable_insecure_window(EnableInsecureWindowRequest) -> EnableInsecureWindowResponse;
        disable_insecure_window(DisableInsecureWindowRequest) -> DisableInsecureWindowResponse;
        set_host_force_ipv4(SetHostForceIpv4Request) -> SetHostForceIpv4Response;
        set_host_curl_insecure(SetHostCurlInsecureRequest) -> SetHostCurlInsecureResponse;
        set_host_model_override(SetHostModelOverrideRequest) -> SetHostModelOverrideResponse;
        set_host_codex_version(SetHostCodexVersionRequest) -> SetHostCodexVersionResponse;
        clear_host_sync(ClearHostSyncRequest) -> ClearHostSyncResponse;
        get_fleet_overview(GetFleetOverviewRequest) -> GetFleetOverviewResponse;
        authenticate_host(AuthenticateHostRequest) -> AuthenticateHostResponse;
        deregister_host(DeregisterHostRequest) -> DeregisterHostResponse;
        record_host_user(RecordHostUserRequest) -> RecordHostUserResponse;
        list_host_users(ListHostUsersRequest) -> ListHostUsersResponse;
        inspect_installer_token(InspectInstallerTokenRequest) -> InspectInstallerTokenResponse;
        consume_installer_token(ConsumeInstallerTokenRequest) -> ConsumeInstallerTokenResponse;
        create_seed_token(CreateSeedTokenRequest) -> CreateSeedTokenResponse;
        inspect_seed_token(InspectSeedTokenRequest) -> InspectSeedTokenResponse;
        consume_seed_token(ConsumeSeedTokenRequest) -> ConsumeSeedTokenResponse;
        get_versions(GetVersionsRequest) -> GetVersionsResponse;
        check_codex_versions(CheckCodexVersionsRequest) -> CheckCodexVersionsResponse;
        set_codex_version_policy(SetCodexVersionPolicyRequest) -> SetCodexVersionPolicyResponse;
        get_wrapper_release(GetWrapperReleaseRequest) -> GetWrapperReleaseResponse;
        list_wrapper_releases(ListWrapperReleasesRequest) -> ListWrapperReleasesResponse;
        publish_wrapper_release(PublishWrapperReleaseRequest) -> PublishWrapperReleaseResponse;
        delete_wrapper_release(DeleteWrapperReleaseRequest) -> DeleteWrapperReleaseResponse;
        set_api_state(SetApiStateRequest) -> SetApiStateResponse;
        set_silent_mode(SetSilentModeRequest) -> SetSilentModeResponse;
        set_prune_policy(SetPrunePolicyRequest) -> SetPrunePolicyResponse;
        set_host_content_push(SetHostContentPushRequest) -> SetHostContentPushResponse;
        prune_hosts(PruneHostsRequest) -> PruneHostsResponse;
        record_audit_event(RecordAuditEventRequest) -> RecordAuditEventResponse;
    }

    async fn download_wrapper(
        &self,
        _request: Request<DownloadWrapperRequest>,
    ) -> Result<Response<Self::DownloadWrapperStream>, Status> {
        Err(Status::unimplemented(
            "download_wrapper is part of the API contract but not implemented in this version",
        ))
    }
}
