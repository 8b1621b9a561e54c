//! `/mcp`: the memory service (and the sandboxed file workspace) as MCP tools and resources
//! over streamable HTTP, served by the official SDK (`rmcp`) in stateless mode so any replica
//! answers any request. [`guard`] stands in front of it: Origin and `Host` checks, JSON-RPC
//! errors for what the SDK would answer in plain text, authentication (host key or personal
//! token) and the access log.

mod guard;
mod log;
mod resources;
mod server;
mod tools;
mod workspace_tools;

use std::sync::Arc;

use axum::Router;
use axum::routing::any_service;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use url::Url;

use crate::GatewayState;

pub use log::admin_logs;

/// Largest `/mcp` request body: a workspace file of up to 16 MiB, JSON-escaped.
pub const MAX_BODY_BYTES: usize = 40 * 1024 * 1024;

/// Who may reach `/mcp` from where.
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// Origins (`scheme://host[:port]`, normalised) a browser may call from.
    origins: Vec<String>,
    /// `Host` header values accepted (a name without a port matches any port).
    hosts: Vec<String>,
}

impl McpOptions {
    /// The public URL's origin and host are always allowed, and loopback names; `origins` and
    /// `hosts` add more. An origin that is not `scheme://host[:port]` is refused.
    pub fn new(public_url: &str, origins: &[String], hosts: &[String]) -> Result<Self, String> {
        let mut allowed_origins = Vec::new();
        let mut allowed_hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|h| h.to_string())
            .collect();
        if let Ok(url) = Url::parse(public_url) {
            allowed_origins.push(origin_of(&url));
            if let Some(host) = url.host_str() {
                allowed_hosts.push(host.trim_matches(['[', ']']).to_ascii_lowercase());
            }
        }
        for origin in origins {
            let url = Url::parse(origin.trim())
                .ok()
                .filter(|u| matches!(u.path(), "" | "/") && u.host_str().is_some())
                .ok_or_else(|| {
                    format!(
                        "mcp_allowed_origins: {origin:?} is not an origin like https://host[:port]"
                    )
                })?;
            allowed_origins.push(origin_of(&url));
        }
        allowed_hosts.extend(
            hosts
                .iter()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
        );
        allowed_hosts.dedup();
        Ok(McpOptions {
            origins: allowed_origins,
            hosts: allowed_hosts,
        })
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        // `Origin: null` (sandboxed frames, file: pages) names no one to trust.
        !origin.eq_ignore_ascii_case("null")
            && Url::parse(origin).is_ok_and(|u| self.origins.contains(&origin_of(&u)))
    }
}

/// `scheme://host[:port]` with the default port left out, lowercase.
fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization().to_ascii_lowercase()
}

/// The `/mcp` route: the guard in front of the SDK's service.
pub fn router(state: &GatewayState) -> Router<GatewayState> {
    let options = state.mcp_options().clone();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_allowed_hosts(options.hosts.clone());
    let for_factory = state.clone();
    let service = StreamableHttpService::new(
        move || Ok(server::McpServer::new(for_factory.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    // An explicit route, not `nest_service`: that would also swallow `/mcp/memories/*`.
    Router::new().route(
        "/mcp",
        any_service(service).layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_and_hosts() {
        let o = McpOptions::new(
            "https://Central.Example:443/base",
            &["http://localhost:5173".into()],
            &["mcp.internal".into()],
        )
        .expect("options");
        assert!(o.origin_allowed("https://central.example"));
        assert!(o.origin_allowed("https://central.example:443"));
        assert!(o.origin_allowed("http://localhost:5173"));
        assert!(!o.origin_allowed("http://localhost:5174"));
        assert!(!o.origin_allowed("https://evil.example"));
        assert!(!o.origin_allowed("null"));
        assert!(!o.origin_allowed("not a url"));
        assert!(o.hosts.contains(&"central.example".to_string()));
        assert!(o.hosts.contains(&"mcp.internal".to_string()));
        assert!(McpOptions::new("http://x", &["https://a.example/path".into()], &[]).is_err());
        assert!(McpOptions::new("http://x", &["a.example".into()], &[]).is_err());
    }
}
