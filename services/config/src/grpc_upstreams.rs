//! The upstream-provider, model-routing and runtime-override RPCs.

use codex_central_common::{Principal, PrincipalKind, Role};
use codex_central_proto::CallContext;
use codex_central_proto::config::v1::*;
use codex_central_proto::ms_to_timestamp;
use codex_central_store::audit::Actor;
use tonic::{Request, Response, Status};

use crate::domain::providers::{self, KeyChange, ProviderInput};
use crate::grpc::ConfigGrpc;

fn kind_to_proto(k: providers::Kind) -> UpstreamKind {
    match k {
        providers::Kind::OpenAi => UpstreamKind::Openai,
        providers::Kind::Mimo => UpstreamKind::Mimo,
        providers::Kind::DeepSeek => UpstreamKind::Deepseek,
        providers::Kind::OpenAiCompatible => UpstreamKind::OpenaiCompatible,
    }
}

fn kind_text(k: UpstreamKind) -> &'static str {
    match k {
        UpstreamKind::Openai => "openai",
        UpstreamKind::Mimo => "mimo",
        UpstreamKind::Deepseek => "deepseek",
        UpstreamKind::OpenaiCompatible => "openai-compatible",
        UpstreamKind::Unspecified => "",
    }
}

fn wire_text(w: WireApi) -> &'static str {
    match w {
        WireApi::Responses => "responses",
        WireApi::Chat => "chat",
        WireApi::Unspecified => "",
    }
}

pub(crate) fn provider_to_proto(p: providers::Provider) -> UpstreamProvider {
    UpstreamProvider {
        id: p.id.clone(),
        name: p.id,
        kind: kind_to_proto(p.kind) as i32,
        base_url: p.base_url,
        wire_api: match p.wire_api {
            providers::WireApi::Responses => WireApi::Responses,
            providers::WireApi::Chat => WireApi::Chat,
        } as i32,
        models: p
            .models
            .into_iter()
            .map(|m| UpstreamModel {
                id: m.id,
                upstream_model: m.upstream,
                display_name: m.display_name,
                enabled: m.enabled,
                context_window: m.context_window,
                supports_reasoning: m.reasoning,
                max_output_tokens: m.max_output_tokens,
            })
            .collect(),
        shared_key_set: p.key_suffix.is_some(),
        shared_key_suffix: p.key_suffix.unwrap_or_default(),
        enabled: p.enabled,
        preset: p.preset,
        created_at: Some(ms_to_timestamp(p.created_at)),
        updated_at: Some(ms_to_timestamp(p.updated_at)),
    }
}

fn input_of(p: UpstreamProvider, enabled: Option<bool>) -> ProviderInput {
    let kind = p.kind();
    let wire = p.wire_api();
    ProviderInput {
        id: if p.id.is_empty() { p.name } else { p.id },
        kind: kind_text(kind).into(),
        base_url: p.base_url,
        wire_api: wire_text(wire).into(),
        models: p
            .models
            .into_iter()
            .map(|m| providers::Model {
                id: m.id,
                upstream: m.upstream_model,
                display_name: m.display_name,
                enabled: m.enabled,
                context_window: m.context_window,
                reasoning: m.supports_reasoning,
                max_output_tokens: m.max_output_tokens,
            })
            .collect(),
        enabled,
    }
}

fn actor(ctx: &CallContext) -> Result<Actor, Status> {
    Ok(Actor {
        principal: ctx.principal()?.clone(),
        client_ip: ctx.client_ip_text(),
    })
}

fn admin_actor(ctx: &CallContext) -> Result<Actor, Status> {
    Ok(Actor {
        principal: ctx.require_admin()?.clone(),
        client_ip: ctx.client_ip_text(),
    })
}

/// The user a runtime-override call is about: the caller, or (admins) the one named.
fn override_subject<'a>(ctx: &'a CallContext, named: &'a str) -> Result<String, Status> {
    let p: &Principal = ctx.principal()?;
    let own = match p.kind {
        PrincipalKind::User | PrincipalKind::LocalAdmin => p.id.clone(),
        PrincipalKind::ServiceToken | PrincipalKind::Host => String::new(),
    };
    if named.is_empty() || named == own {
        if own.is_empty() {
            return Err(tonic::Status::from(crate::Error::invalid(
                "user_id",
                "user_id is required: this credential is not a user",
            )));
        }
        return Ok(own);
    }
    if p.role != Role::Admin {
        return Err(tonic::Status::from(crate::Error::permission_denied(
            "only admins manage other users' overrides",
        )));
    }
    Ok(named.to_string())
}

fn override_to_proto(
    o: codex_central_store::entities::runtime_overrides::Model,
) -> RuntimeOverride {
    RuntimeOverride {
        user_id: o.user_id,
        provider_id: o.provider_id,
        model: o.model,
        set_at: Some(ms_to_timestamp(o.set_at)),
    }
}

impl ConfigGrpc {
    pub(crate) async fn do_list_upstream_providers(
        &self,
        request: Request<ListUpstreamProvidersRequest>,
    ) -> Result<Response<ListUpstreamProvidersResponse>, Status> {
        let ctx = CallContext::of(&request);
        ctx.require_admin_read()?;
        let include_disabled = request.into_inner().include_disabled;
        let providers = self
            .providers
            .list()
            .await?
            .into_iter()
            .filter(|p| include_disabled || p.enabled)
            .map(provider_to_proto)
            .collect();
        Ok(Response::new(ListUpstreamProvidersResponse { providers }))
    }

    pub(crate) async fn do_get_upstream_provider(
        &self,
        request: Request<GetUpstreamProviderRequest>,
    ) -> Result<Response<GetUpstreamProviderResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let p = self.providers.get(&request.into_inner().id).await?;
        Ok(Response::new(GetUpstreamProviderResponse {
            provider: Some(provider_to_proto(p)),
        }))
    }

    pub(crate) async fn do_create_upstream_provider(
        &self,
        request: Request<CreateUpstreamProviderRequest>,
    ) -> Result<Response<CreateUpstreamProviderResponse>, Status> {
        let admin = admin_actor(&CallContext::of(&request))?;
        let req = request.into_inner();
        let p = req.provider.unwrap_or_default();
        let enabled = Some(p.enabled);
        let created = self
            .providers
            .create(&admin, input_of(p, enabled), Some(req.shared_key))
            .await?;
        Ok(Response::new(CreateUpstreamProviderResponse {
            provider: Some(provider_to_proto(created)),
        }))
    }

    pub(crate) async fn do_update_upstream_provider(
        &self,
        request: Request<UpdateUpstreamProviderRequest>,
    ) -> Result<Response<UpdateUpstreamProviderResponse>, Status> {
        let admin = admin_actor(&CallContext::of(&request))?;
        let req = request.into_inner();
        let p = req.provider.unwrap_or_default();
        let enabled = Some(p.enabled);
        let key = if req.clear_shared_key {
            KeyChange::Clear
        } else if req.shared_key.trim().is_empty() {
            KeyChange::Keep
        } else {
            KeyChange::Set(req.shared_key)
        };
        let updated = self
            .providers
            .update(&admin, input_of(p, enabled), key)
            .await?;
        Ok(Response::new(UpdateUpstreamProviderResponse {
            provider: Some(provider_to_proto(updated)),
        }))
    }

    pub(crate) async fn do_delete_upstream_provider(
        &self,
        request: Request<DeleteUpstreamProviderRequest>,
    ) -> Result<Response<DeleteUpstreamProviderResponse>, Status> {
        let admin = admin_actor(&CallContext::of(&request))?;
        let id = request.into_inner().id;
        self.providers.delete(&admin, &id).await?;
        Ok(Response::new(DeleteUpstreamProviderResponse {}))
    }

    pub(crate) async fn do_list_models(
        &self,
        request: Request<ListModelsRequest>,
    ) -> Result<Response<ListModelsResponse>, Status> {
        CallContext::of(&request).principal()?;
        let models = self
            .providers
            .available()
            .await?
            .into_iter()
            .map(|(p, m)| AvailableModel {
                id: m.id,
                provider_id: p.id.clone(),
                provider_name: p.id,
                upstream_model: m.upstream,
                display_name: m.display_name,
            })
            .collect();
        Ok(Response::new(ListModelsResponse { models }))
    }

    pub(crate) async fn do_resolve_route(
        &self,
        request: Request<ResolveRouteRequest>,
    ) -> Result<Response<ResolveRouteResponse>, Status> {
        CallContext::of(&request).require_internal()?;
        let req = request.into_inner();
        let route = self
            .providers
            .resolve(&req.user_id, &req.requested_model)
            .await?;
        Ok(Response::new(ResolveRouteResponse {
            upstream_model: route.model.upstream.clone(),
            provider: Some(provider_to_proto(route.provider)),
            shared_key: route.shared_key.unwrap_or_default(),
            runtime_override_applied: route.override_applied,
        }))
    }

    pub(crate) async fn do_get_runtime_override(
        &self,
        request: Request<GetRuntimeOverrideRequest>,
    ) -> Result<Response<GetRuntimeOverrideResponse>, Status> {
        let ctx = CallContext::of(&request);
        let user = override_subject(&ctx, &request.get_ref().user_id)?;
        let found = self.providers.get_override(&user).await?;
        Ok(Response::new(GetRuntimeOverrideResponse {
            runtime_override: found.map(override_to_proto),
        }))
    }

    pub(crate) async fn do_set_runtime_override(
        &self,
        request: Request<SetRuntimeOverrideRequest>,
    ) -> Result<Response<SetRuntimeOverrideResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.get_ref();
        let user = override_subject(&ctx, &req.user_id)?;
        let row = self
            .providers
            .set_override(
                &actor(&ctx)?,
                &user,
                req.provider_id.trim(),
                req.model.trim(),
            )
            .await?;
        Ok(Response::new(SetRuntimeOverrideResponse {
            runtime_override: Some(override_to_proto(row)),
        }))
    }

    pub(crate) async fn do_clear_runtime_override(
        &self,
        request: Request<ClearRuntimeOverrideRequest>,
    ) -> Result<Response<ClearRuntimeOverrideResponse>, Status> {
        let ctx = CallContext::of(&request);
        let user = override_subject(&ctx, &request.get_ref().user_id)?;
        self.providers.clear_override(&actor(&ctx)?, &user).await?;
        Ok(Response::new(ClearRuntimeOverrideResponse {}))
    }
}
