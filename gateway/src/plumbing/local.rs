//! In one process (role `all`) the hot paths (host sync, `/v1` routing and its request log) call
//! the services' implementations directly
//! instead of through the in-process gRPC channel: the same trait methods and the same
//! [`CallContext`] the authentication layer would attach, minus protobuf encoding, HTTP framing
//! and the layer's metadata parsing, which together cost more than the work of a cached `/auth`
//! answer. Split deployments (`--role gateway`) have no local services and use gRPC.

use std::sync::Arc;

use codex_central_proto::CallContext;
use codex_central_proto::auth::v1::auth_service_server::AuthService;
use codex_central_proto::config::v1::config_service_server::ConfigService;
use codex_central_proto::fleet::v1::DownloadWrapperResponse;
use codex_central_proto::fleet::v1::fleet_service_server::FleetService;
use codex_central_proto::usage::v1::ExportUsageCsvResponse;
use codex_central_proto::usage::v1::usage_service_server::UsageService;
use futures::stream::BoxStream;
use tonic::Status;

use crate::plumbing::caller::Caller;

pub type FleetObject = Arc<
    dyn FleetService<
        DownloadWrapperStream = BoxStream<'static, Result<DownloadWrapperResponse, Status>>,
    >,
>;
pub type AuthObject = Arc<dyn AuthService>;
pub type ConfigObject = Arc<dyn ConfigService>;
pub type UsageObject = Arc<
    dyn UsageService<
        ExportUsageCsvStream = BoxStream<'static, Result<ExportUsageCsvResponse, Status>>,
    >,
>;

/// The services used on hot paths: host sync (fleet, auth) and `/v1` (config, usage).
#[derive(Clone)]
pub struct LocalServices {
    pub fleet: FleetObject,
    pub auth: AuthObject,
    pub config: ConfigObject,
    pub usage: UsageObject,
}

impl Caller {
    /// A request for a direct call, carrying what the authentication layer would have attached
    /// to a gateway call (the gateway is the internal caller here by construction).
    pub fn local_request<T>(&self, message: T) -> tonic::Request<T> {
        let mut req = tonic::Request::new(message);
        req.extensions_mut().insert(CallContext {
            principal: self.principal.clone(),
            client_ip: Some(self.client_ip),
            internal: true,
        });
        req
    }
}
