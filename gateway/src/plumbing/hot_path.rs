//! The one place the gateway decides between in-process and remote services for its hot paths
//! (host sync of auth.json and config.toml, usage reports, `/v1` routing, policy and logging). In one process (role `all`) these RPCs call
//! the services' implementations directly: the same trait methods and the same [`CallContext`]
//! the authentication layer would attach, minus protobuf encoding, HTTP framing and metadata
//! parsing, which together cost more than the work of a cached `/auth` answer. Split
//! deployments (`--role gateway`) have no local services and use the gRPC clients. Handlers
//! call `state.hot().<rpc>(&caller, message)` and never see which of the two ran.

use std::sync::Arc;

use codex_central_proto::CallContext;
use codex_central_proto::auth::v1::byok_service_server::ByokService;
use codex_central_proto::auth::v1::codex_auth_service_server::CodexAuthService;
use codex_central_proto::auth::v1::identity_service_server::IdentityService;
use codex_central_proto::auth::v1::{
    ResolveByokKeyRequest, ResolveByokKeyResponse, ResolvePersonalTokenRequest,
    ResolvePersonalTokenResponse, RetrieveCodexAuthRequest, RetrieveCodexAuthResponse,
    StoreCodexAuthRequest, StoreCodexAuthResponse,
};
use codex_central_proto::config::v1::config_service_server::ConfigService;
use codex_central_proto::config::v1::{
    BakeConfigRequest, BakeConfigResponse, ResolveRouteRequest, ResolveRouteResponse,
};
use codex_central_proto::fleet::v1::fleet_service_server::FleetService;
use codex_central_proto::fleet::v1::{
    AuthenticateHostRequest, AuthenticateHostResponse, DownloadWrapperResponse,
    WatchFleetOverviewResponse,
};
use codex_central_proto::usage::v1::usage_service_server::UsageService;
use codex_central_proto::usage::v1::{
    CheckGatewayLimitsRequest, CheckGatewayLimitsResponse, ExportUsageCsvResponse,
    GetLatestQuotaSnapshotRequest, GetLatestQuotaSnapshotResponse, GetUsageSummaryRequest,
    GetUsageSummaryResponse, IngestUsageRequest, IngestUsageResponse, RecordProxyRequestRequest,
    RecordProxyRequestResponse, WatchUsageSummaryResponse,
};
use futures::stream::BoxStream;
use tonic::Status;

use crate::GatewayState;
use crate::plumbing::caller::Caller;

pub type FleetObject = Arc<
    dyn FleetService<
            DownloadWrapperStream = BoxStream<'static, Result<DownloadWrapperResponse, Status>>,
            WatchFleetOverviewStream = BoxStream<
                'static,
                Result<WatchFleetOverviewResponse, Status>,
            >,
        >,
>;
pub type IdentityObject = Arc<dyn IdentityService>;
pub type ByokObject = Arc<dyn ByokService>;
pub type CodexAuthObject = Arc<dyn CodexAuthService>;
pub type ConfigObject = Arc<dyn ConfigService>;
pub type UsageObject = Arc<
    dyn UsageService<
            ExportUsageCsvStream = BoxStream<'static, Result<ExportUsageCsvResponse, Status>>,
            WatchUsageSummaryStream = BoxStream<'static, Result<WatchUsageSummaryResponse, Status>>,
        >,
>;

/// The service objects of this process, used by [`HotPath`].
#[derive(Clone)]
pub struct LocalServices {
    pub fleet: FleetObject,
    pub identity: IdentityObject,
    pub byok: ByokObject,
    pub codex_auth: CodexAuthObject,
    pub config: ConfigObject,
    pub usage: UsageObject,
}

/// The hot RPCs of one gateway, bound to its state.
pub struct HotPath<'a> {
    state: &'a GatewayState,
}

impl GatewayState {
    pub(crate) fn hot(&self) -> HotPath<'_> {
        HotPath { state: self }
    }
}

macro_rules! hot_rpcs {
    ($($rpc:ident: $service:ident, $request:ty => $response:ty;)+) => {
        impl HotPath<'_> {
            $(pub async fn $rpc(&self, caller: &Caller, message: $request) -> Result<$response, Status> {
                let answer = match self.state.local() {
                    Some(local) => local.$service.$rpc(local_request(caller, message)).await,
                    None => {
                        let request = caller.request(self.state, message);
                        self.state.clients().$service().$rpc(request).await
                    }
                };
                answer.map(tonic::Response::into_inner)
            })+
        }
    };
}

hot_rpcs! {
    authenticate_host: fleet, AuthenticateHostRequest => AuthenticateHostResponse;
    retrieve_codex_auth: codex_auth, RetrieveCodexAuthRequest => RetrieveCodexAuthResponse;
    store_codex_auth: codex_auth, StoreCodexAuthRequest => StoreCodexAuthResponse;
    resolve_personal_token: identity, ResolvePersonalTokenRequest => ResolvePersonalTokenResponse;
    resolve_byok_key: byok, ResolveByokKeyRequest => ResolveByokKeyResponse;
    resolve_route: config, ResolveRouteRequest => ResolveRouteResponse;
    bake_config: config, BakeConfigRequest => BakeConfigResponse;
    check_gateway_limits: usage, CheckGatewayLimitsRequest => CheckGatewayLimitsResponse;
    record_proxy_request: usage, RecordProxyRequestRequest => RecordProxyRequestResponse;
    get_usage_summary: usage, GetUsageSummaryRequest => GetUsageSummaryResponse;
    get_latest_quota_snapshot: usage, GetLatestQuotaSnapshotRequest => GetLatestQuotaSnapshotResponse;
    ingest_usage: usage, IngestUsageRequest => IngestUsageResponse;
}

/// A request for a direct call, carrying what the authentication layer would have attached
/// to a gateway call (the gateway is the internal caller here by construction).
fn local_request<T>(caller: &Caller, message: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    req.extensions_mut().insert(CallContext {
        principal: caller.principal.clone(),
        client_ip: Some(caller.client_ip),
        internal: true,
    });
    req
}
