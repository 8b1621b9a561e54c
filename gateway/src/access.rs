//! The gateway's access check, before any body is read: for every route the OpenAPI table
//! lists as needing a signed-in principal, the caller is resolved first and a request without
//! the needed credential or role is answered 401 or 403 at once, so a stranger cannot make the
//! server read (or buffer) a body. The resolved caller is handed to the handler. The services
//! still authorize every call themselves; this only decides earlier.

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use codex_central_common::crypto::is_host_key_shape;
use codex_central_common::{Error, Role};
use codex_central_proto::fleet::v1::HostCallKind;

use crate::openapi::{Access, access_of};
use crate::plumbing::caller::Caller;
use crate::plumbing::host_caller::{Reported, authenticate, host_key};
use crate::{ApiError, GatewayState};

pub async fn enforce(State(state): State<GatewayState>, req: Request, next: Next) -> Response {
    let access = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|path| access_of(req.method().as_str(), path.as_str()));
    let Some(required @ (Access::Host | Access::Member | Access::AdminRead | Access::Admin)) =
        access
    else {
        return next.run(req).await;
    };
    // The OpenAI-compatible API and MCP answer in their own error shapes and resolve their
    // callers themselves (MCP takes a host key or a personal token).
    if req.uri().path().starts_with("/v1/") || req.uri().path() == "/mcp" {
        return next.run(req).await;
    }
    if required == Access::Host {
        return host_key_first(state, req, next).await;
    }
    let (mut parts, body) = req.into_parts();
    let caller = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = admits(required, &caller) {
        return e.into_response();
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

/// Host routes: a request whose key cannot be one (missing, or the wrong shape) is judged now,
/// through the fleet service as always (its failure budget counts it), so its body is never
/// read. A well-shaped key is judged by the handler, which reads at most the route's small
/// body limit first.
async fn host_key_first(state: GatewayState, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if !is_host_key_shape(&host_key(&parts))
        && let Err(e) = authenticate(
            &state,
            &parts,
            HostCallKind::General,
            false,
            Reported::default(),
        )
        .await
    {
        return e.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

fn admits(required: Access, caller: &Caller) -> Result<(), ApiError> {
    let Some(principal) = &caller.principal else {
        return Err(Error::unauthenticated("authentication required").into());
    };
    let allowed = match required {
        Access::Admin => principal.role == Role::Admin,
        Access::AdminRead => matches!(principal.role, Role::Admin | Role::ReadOnly),
        Access::Member | Access::Host | Access::Open => true,
    };
    if allowed {
        Ok(())
    } else if required == Access::Admin {
        Err(Error::permission_denied("admin access required").into())
    } else {
        Err(Error::permission_denied("admin read access required").into())
    }
}
