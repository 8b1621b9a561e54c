//! The MCP server the SDK drives: capabilities, protocol versions, and the calls handed to
//! [`super::tools`] and [`super::resources`]. One is made per request (stateless), so it holds
//! nothing but the gateway state; the caller comes from the request the guard authenticated.

use std::borrow::Cow;
use std::sync::Arc;

use axum::http::request::Parts;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProtocolVersion,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use super::guard::{McpCaller, OutcomeSlot};
use super::{resources, tools};
use crate::GatewayState;

/// Negotiated in `initialize`; a client asking for another gets the newest of these.
const PROTOCOL_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
];

pub struct McpServer {
    state: GatewayState,
}

impl McpServer {
    pub fn new(state: GatewayState) -> Self {
        McpServer { state }
    }
}

/// What the guard put on the HTTP request, which the SDK hands to every call.
pub struct Call<'a> {
    pub state: &'a GatewayState,
    pub who: Arc<McpCaller>,
    outcome: Option<OutcomeSlot>,
}

impl Call<'_> {
    /// Notes a failed call (a tool's error result or a JSON-RPC error) for the access log.
    pub fn failed(&self, error: &str) {
        if let Some(slot) = &self.outcome
            && let Ok(mut o) = slot.lock()
        {
            o.is_error = true;
            o.error = error.chars().take(500).collect();
        }
    }
}

fn call<'a>(
    state: &'a GatewayState,
    ctx: &RequestContext<RoleServer>,
) -> Result<Call<'a>, ErrorData> {
    let parts = ctx.extensions.get::<Parts>();
    let who = parts
        .and_then(|p| p.extensions.get::<Arc<McpCaller>>())
        .cloned()
        .ok_or_else(|| ErrorData::internal_error("the request was not authenticated", None))?;
    Ok(Call {
        state,
        who,
        outcome: parts
            .and_then(|p| p.extensions.get::<OutcomeSlot>())
            .cloned(),
    })
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .build();
        ServerConfig::new(capabilities)
            .with_protocol_version(ProtocolVersion::V_2025_11_25)
            .with_server_info(
                Implementation::new("codex-central", env!("CARGO_PKG_VERSION"))
                    .with_title("codex-central memories"),
            )
            .with_instructions(
                "Long-term memories shared across your Codex sessions: memory_search before \
                 starting work, memory_store what is worth remembering. Memories are private \
                 to this host or person unless stored by an admin as fleet-shared.",
            )
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(PROTOCOL_VERSIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let call = call(&self.state, &ctx)?;
        tools::list(&call).await
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let call = call(&self.state, &ctx)?;
        tools::call(&call, &request.name, request.arguments.unwrap_or_default())
            .await
            .inspect_err(|e| call.failed(&e.message))
            .map(CallToolResponse::from)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let call = call(&self.state, &ctx)?;
        resources::list(&call, request.and_then(|r| r.cursor))
            .await
            .inspect_err(|e| call.failed(&e.message))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        resources::templates()
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let call = call(&self.state, &ctx)?;
        resources::read(&call, &request.uri)
            .await
            .inspect_err(|e| call.failed(&e.message))
            .map(ReadResourceResponse::from)
    }
}
