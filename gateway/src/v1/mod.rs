//! The OpenAI-compatible API: `GET /v1/models`, `POST /v1/responses`, `POST /v1/chat/completions`.
//! A call is routed by model (or the caller's runtime override) to a provider and forwarded
//! with the provider's key; when client and provider speak the same API the body passes
//! through untouched and the answer streams back chunk by chunk as it arrives.

mod error;
mod log;
mod policy;
mod translate;
mod upstream;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use codex_central_common::wire::bearer;
use codex_central_common::{Principal, PrincipalKind};
use codex_central_proto::config::v1::{
    ListModelsRequest, ResolveRouteRequest, UpstreamProvider, WireApi,
};
use codex_central_proto::fleet::v1::HostCallKind;
use serde_json::{Value, json};

pub use error::V1Error;
use log::CallLog;
pub use upstream::{UpstreamClients, UpstreamOptions};

use crate::plumbing::caller::Caller;
use crate::plumbing::host_caller::{Reported, authenticate};
use crate::{ApiError, GatewayState};

/// Requests larger than this are refused (Codex sends the whole conversation each turn).
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

pub fn router() -> Router<GatewayState> {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/responses", post(responses))
        .route("/v1/chat/completions", post(chat_completions))
}

impl From<ApiError> for V1Error {
    fn from(e: ApiError) -> Self {
        let kind = match e.status {
            StatusCode::UNAUTHORIZED => "authentication_error",
            StatusCode::FORBIDDEN => "permission_error",
            StatusCode::TOO_MANY_REQUESTS => "rate_limit_error",
            StatusCode::SERVICE_UNAVAILABLE => "upstream_error",
            s if s.is_server_error() => "server_error",
            _ => "invalid_request_error",
        };
        let mut out = V1Error::new(e.status, kind, e.message);
        out.retry_after_secs = e.retry_after_secs;
        out
    }
}

/// Who is calling `/v1`: a personal or service token, a host key, or (auth mode off) the local
/// admin. Anything else is 401 in OpenAI's shape. A personal token comes with its policy.
async fn v1_caller(
    state: &GatewayState,
    parts: &mut Parts,
) -> Result<(Caller, Option<policy::Grant>), V1Error> {
    let token = bearer(&parts.headers);
    if let Some(t) = &token
        && policy::is_personal_token(t)
    {
        return policy::resolve(state, parts, t).await;
    }
    if let Some(t) = &token
        && codex_central_common::crypto::is_host_key_shape(t)
    {
        let (caller, _) = authenticate(
            state,
            parts,
            HostCallKind::General,
            false,
            Reported::default(),
        )
        .await?;
        return Ok((caller, None));
    }
    let caller = Caller::from_request_parts(parts, state).await?;
    if caller.principal.is_none() {
        return Err(V1Error::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "Missing bearer token: send Authorization: Bearer <token>",
        )
        .code("invalid_api_key"));
    }
    Ok((caller, None))
}

/// Runtime overrides and BYOK keys belong to people.
fn user_id(p: Option<&Principal>) -> String {
    match p {
        Some(p) if matches!(p.kind, PrincipalKind::User | PrincipalKind::LocalAdmin) => {
            p.id.clone()
        }
        _ => String::new(),
    }
}

async fn models(State(state): State<GatewayState>, mut parts: Parts) -> Response {
    let run = async {
        let (caller, grant) = v1_caller(&state, &mut parts).await?;
        let res = state
            .clients()
            .config()
            .list_models(caller.request(&state, ListModelsRequest {}))
            .await?
            .into_inner();
        let data: Vec<Value> = res
            .models
            .iter()
            .filter(|m| grant.as_ref().is_none_or(|g| g.allows_model(&m.id)))
            .map(|m| json!({"id": m.id, "object": "model", "created": 0, "owned_by": m.provider_name}))
            .collect();
        Ok::<_, V1Error>(axum::Json(json!({"object": "list", "data": data})).into_response())
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// Which API the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientApi {
    Responses,
    Chat,
}

impl ClientApi {
    fn endpoint(self) -> &'static str {
        match self {
            ClientApi::Responses => "/v1/responses",
            ClientApi::Chat => "/v1/chat/completions",
        }
    }

    /// The path under a provider's base URL for this API.
    fn upstream_path(self) -> &'static str {
        match self {
            ClientApi::Responses => "responses",
            ClientApi::Chat => "chat/completions",
        }
    }
}

async fn responses(State(state): State<GatewayState>, req: Request) -> Response {
    proxy(state, req, ClientApi::Responses).await
}

async fn chat_completions(State(state): State<GatewayState>, req: Request) -> Response {
    proxy(state, req, ClientApi::Chat).await
}

/// One `/v1` call in explicit steps: caller, request, policy, route, key, then forward (same
/// API) or translate. Each step returns what it found and the call log records it; a failure
/// before the answer started is logged here, the rest by the stream's tap.
async fn proxy(state: GatewayState, req: Request, api: ClientApi) -> Response {
    let (mut parts, body) = req.into_parts();
    // The caller first: a stranger's body is never read.
    let (caller, grant) = match v1_caller(&state, &mut parts).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let mut log = CallLog::new(&state, &caller, api.endpoint());
    if let Some(g) = &grant {
        log.entry.token_id = g.token_id.clone();
    }
    let body = match axum::body::to_bytes(body, MAX_REQUEST_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return log.fail(V1Error::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                format!("the request body is unreadable or larger than {MAX_REQUEST_BYTES} bytes"),
            ));
        }
    };
    let request = match ClientRequest::parse(body) {
        Ok(r) => r,
        Err(e) => return log.fail(e),
    };
    log.entry.requested_model = request.model.clone();
    log.entry.streamed = request.streaming;
    if let Some(g) = &grant
        && let Err(e) = g.admit(&state, &caller, &request.model).await
    {
        return log.fail(e);
    }
    let route = match route(&state, &caller, &request.model).await {
        Ok(r) => r,
        Err(e) => return log.fail(e),
    };
    log.entry.provider_id = route.provider.name.clone();
    log.entry.upstream_model = route.upstream_model.clone();
    let (key, byok) =
        policy::upstream_key(&state, &caller, &route.provider.name, &route.shared_key).await;
    log.set_key_source(byok);
    if key.is_empty() {
        return log.fail(V1Error::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream_error",
            format!(
                "provider {} has no API key: an admin sets one (or you add your own)",
                route.provider.name
            ),
        ));
    }
    if route.speaks(api) {
        forward(&state, request, &route, api, &key, log).await
    } else {
        translate(&state, request, &route, api, &key, log).await
    }
}

/// What the client asked for: its body, the model and whether it streams.
struct ClientRequest {
    raw: bytes::Bytes,
    doc: Value,
    model: String,
    streaming: bool,
}

impl ClientRequest {
    fn parse(raw: bytes::Bytes) -> Result<Self, V1Error> {
        let doc: Value = serde_json::from_slice(&raw)
            .map_err(|_| V1Error::invalid("We could not parse the JSON body of your request."))?;
        if !doc.is_object() {
            return Err(V1Error::invalid("The request body must be a JSON object."));
        }
        let model = match doc.get("model") {
            Some(Value::String(m)) if !m.trim().is_empty() => m.trim().to_string(),
            Some(Value::String(_)) | None => {
                return Err(
                    V1Error::invalid("you must provide a model parameter").code("missing_model")
                );
            }
            Some(_) => return Err(V1Error::invalid("model must be a string")),
        };
        let streaming = doc.get("stream").and_then(Value::as_bool).unwrap_or(false);
        Ok(ClientRequest {
            raw,
            doc,
            model,
            streaming,
        })
    }
}

/// Where a model goes: the provider, its name for the model and its shared key.
struct Route {
    provider: UpstreamProvider,
    upstream_model: String,
    shared_key: String,
}

impl Route {
    fn speaks(&self, api: ClientApi) -> bool {
        matches!(
            (api, self.provider.wire_api()),
            (ClientApi::Responses, WireApi::Responses) | (ClientApi::Chat, WireApi::Chat)
        )
    }
}

async fn route(state: &GatewayState, caller: &Caller, model: &str) -> Result<Route, V1Error> {
    let req = ResolveRouteRequest {
        user_id: user_id(caller.principal.as_ref()),
        requested_model: model.to_string(),
    };
    let found = state.hot().resolve_route(caller, req).await?;
    Ok(Route {
        provider: found
            .provider
            .ok_or_else(|| V1Error::internal("route without provider"))?,
        upstream_model: found.upstream_model,
        shared_key: found.shared_key,
    })
}

/// Same API on both sides: the body goes through untouched when the upstream knows the model
/// by the same name; otherwise only `model` changes (key order and number text survive:
/// serde_json keeps both here).
async fn forward(
    state: &GatewayState,
    mut request: ClientRequest,
    route: &Route,
    api: ClientApi,
    key: &str,
    log: CallLog,
) -> Response {
    let unchanged =
        request.doc.get("model").and_then(Value::as_str) == Some(route.upstream_model.as_str());
    let bytes = if unchanged {
        request.raw.to_vec()
    } else {
        if let Some(obj) = request.doc.as_object_mut() {
            obj.insert("model".into(), Value::String(route.upstream_model.clone()));
        }
        match serde_json::to_vec(&request.doc) {
            Ok(bytes) => bytes,
            Err(_) => {
                return log.fail(V1Error::invalid(
                    "We could not re-encode the JSON body of your request.",
                ));
            }
        }
    };
    state
        .upstreams()
        .forward(&route.provider, api.upstream_path(), key, bytes, log)
        .await
}

/// Different APIs: the request is translated, and the answer (or stream) back.
async fn translate(
    state: &GatewayState,
    request: ClientRequest,
    route: &Route,
    api: ClientApi,
    key: &str,
    log: CallLog,
) -> Response {
    let provider = &route.provider;
    let options = provider
        .models
        .iter()
        .find(|m| m.id == request.model)
        .or_else(|| {
            provider
                .models
                .iter()
                .find(|m| m.upstream_model == route.upstream_model)
        });
    let target = codex_central_openai_wire::Target {
        upstream_model: route.upstream_model.clone(),
        max_output_tokens_cap: options.and_then(|m| m.max_output_tokens),
        supports_reasoning: options.is_some_and(|m| m.supports_reasoning),
        max_completion_tokens: provider.kind()
            == codex_central_proto::config::v1::UpstreamKind::Openai,
    };
    let (body, path) = match translate::upstream_request(api, &request.doc, &target) {
        Ok(translated) => translated,
        Err(e) => return log.fail(e),
    };
    let include_usage = request
        .doc
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    translate::call(
        state.upstreams(),
        translate::Call {
            api,
            provider,
            key,
            path,
            body,
            streaming: request.streaming,
            include_usage,
            requested_model: &request.model,
        },
        log,
    )
    .await
}
