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
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use codex_central_auth::layer::bearer;
use codex_central_common::{Principal, PrincipalKind};
use codex_central_proto::config::v1::{ListModelsRequest, ResolveRouteRequest, WireApi};
use codex_central_proto::fleet::v1::HostCallKind;
use serde_json::{Value, json};

pub use error::V1Error;
use log::CallLog;
pub use upstream::{UpstreamClients, UpstreamOptions};

use crate::caller::Caller;
use crate::extract::RawBody;
use crate::host_api::{Reported, authenticate};
use crate::{ApiError, GatewayState};

/// Requests larger than this are refused (Codex sends the whole conversation each turn).
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

pub fn router() -> Router<GatewayState> {
    Router::new()
        .route("/v1/models", get(models))
        .route(
            "/v1/responses",
            post(responses).layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES)),
        )
        .route(
            "/v1/chat/completions",
            post(chat_completions).layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES)),
        )
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

async fn responses(State(state): State<GatewayState>, parts: Parts, body: RawBody) -> Response {
    proxy(state, parts, body, ClientApi::Responses).await
}

async fn chat_completions(
    State(state): State<GatewayState>,
    parts: Parts,
    body: RawBody,
) -> Response {
    proxy(state, parts, body, ClientApi::Chat).await
}

/// Runs one call; failures before the answer started are logged here, the rest by the tap.
async fn proxy(state: GatewayState, mut parts: Parts, body: RawBody, api: ClientApi) -> Response {
    let mut log = None;
    match proxy_call(&state, &mut parts, body, api, &mut log).await {
        Ok(res) => res,
        Err(e) => {
            if let Some(l) = log.take() {
                l.finish(e.status.as_u16(), e.code.unwrap_or(e.kind), None, None);
            }
            e.into_response()
        }
    }
}

async fn proxy_call(
    state: &GatewayState,
    parts: &mut Parts,
    RawBody(body): RawBody,
    api: ClientApi,
    log: &mut Option<CallLog>,
) -> Result<Response, V1Error> {
    let state = state.clone();
    let (caller, grant) = v1_caller(&state, parts).await?;
    let endpoint = match api {
        ClientApi::Responses => "/v1/responses",
        ClientApi::Chat => "/v1/chat/completions",
    };
    let entry = log.insert(CallLog::new(&state, &caller, endpoint));
    if let Some(g) = &grant {
        entry.entry.token_id = g.token_id.clone();
    }
    let mut doc: Value = serde_json::from_slice(&body)
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
    entry.entry.requested_model = model.clone();
    let streaming = doc.get("stream").and_then(Value::as_bool).unwrap_or(false);
    entry.entry.streamed = streaming;
    if let Some(g) = &grant {
        g.admit(&state, &caller, &model).await?;
    }
    let req = ResolveRouteRequest {
        user_id: user_id(caller.principal.as_ref()),
        requested_model: model.clone(),
    };
    let route = match state.local() {
        Some(local) => local.config.resolve_route(caller.local_request(req)).await,
        None => {
            state
                .clients()
                .config()
                .resolve_route(caller.request(&state, req))
                .await
        }
    }?
    .into_inner();
    let provider = route
        .provider
        .ok_or_else(|| V1Error::from(tonic::Status::internal("route without provider")))?;
    let (key, byok) =
        policy::upstream_key(&state, &caller, &provider.name, &route.shared_key).await;
    if let Some(l) = log.as_mut() {
        l.entry.provider_id = provider.name.clone();
        l.entry.upstream_model = route.upstream_model.clone();
        l.set_key_source(byok);
    }
    if key.is_empty() {
        return Err(V1Error::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream_error",
            format!(
                "provider {} has no API key: an admin sets one (or you add your own)",
                provider.name
            ),
        ));
    }
    let wire = provider.wire_api();
    let same_api = matches!(
        (api, wire),
        (ClientApi::Responses, WireApi::Responses) | (ClientApi::Chat, WireApi::Chat)
    );
    if !same_api {
        let options = provider.models.iter().find(|m| m.id == model).or_else(|| {
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
        let (body, path) = translate::upstream_request(api, &doc, &target)?;
        let include_usage = doc
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        return translate::call(
            state.upstreams(),
            translate::Call {
                api,
                provider: &provider,
                key: &key,
                path,
                body,
                streaming,
                include_usage,
                requested_model: &model,
            },
            log,
        )
        .await;
    }
    let path = match api {
        ClientApi::Responses => "responses",
        ClientApi::Chat => "chat/completions",
    };
    // Untouched when the upstream knows the model by the same name; otherwise only `model`
    // changes (key order and number text survive: serde_json keeps both here).
    let bytes = if doc.get("model").and_then(Value::as_str) == Some(route.upstream_model.as_str()) {
        body.to_vec()
    } else {
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("model".into(), Value::String(route.upstream_model.clone()));
        }
        serde_json::to_vec(&doc).map_err(|_| {
            V1Error::invalid("We could not re-encode the JSON body of your request.")
        })?
    };
    state
        .upstreams()
        .forward(&provider, path, &key, bytes, log)
        .await
}
