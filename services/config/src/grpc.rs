//! `codexcentral.config.v1.ConfigService`: validate, authorize, call the domain, convert.

use codex_central_proto::config::v1::config_service_server::ConfigService;
use codex_central_proto::config::v1::*;
use codex_central_proto::{CallContext, pending_rpcs};
use codex_central_store::Store;
use tonic::{Request, Response, Status};

use crate::domain::providers::Providers;
use crate::domain::settings;

pub struct ConfigGrpc {
    pub(crate) store: Store,
    pub(crate) providers: Providers,
}

impl ConfigGrpc {
    pub fn new(store: Store, providers: Providers) -> Self {
        ConfigGrpc { store, providers }
    }
}

#[tonic::async_trait]
impl ConfigService for ConfigGrpc {
    async fn get_config_settings(
        &self,
        request: Request<GetConfigSettingsRequest>,
    ) -> Result<Response<GetConfigSettingsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let s = settings::get(&self.store).await?;
        Ok(Response::new(GetConfigSettingsResponse {
            settings: Some(ConfigSettings {
                managed_mcp_enabled: s.managed_mcp_enabled,
                default_profile: s.default_profile,
            }),
        }))
    }

    async fn list_upstream_providers(
        &self,
        request: Request<ListUpstreamProvidersRequest>,
    ) -> Result<Response<ListUpstreamProvidersResponse>, Status> {
        self.do_list_upstream_providers(request).await
    }

    async fn get_upstream_provider(
        &self,
        request: Request<GetUpstreamProviderRequest>,
    ) -> Result<Response<GetUpstreamProviderResponse>, Status> {
        self.do_get_upstream_provider(request).await
    }

    async fn create_upstream_provider(
        &self,
        request: Request<CreateUpstreamProviderRequest>,
    ) -> Result<Response<CreateUpstreamProviderResponse>, Status> {
        self.do_create_upstream_provider(request).await
    }

    async fn update_upstream_provider(
        &self,
        request: Request<UpdateUpstreamProviderRequest>,
    ) -> Result<Response<UpdateUpstreamProviderResponse>, Status> {
        self.do_update_upstream_provider(request).await
    }

    async fn delete_upstream_provider(
        &self,
        request: Request<DeleteUpstreamProviderRequest>,
    ) -> Result<Response<DeleteUpstreamProviderResponse>, Status> {
        self.do_delete_upstream_provider(request).await
    }

    async fn list_models(
        &self,
        request: Request<ListModelsRequest>,
    ) -> Result<Response<ListModelsResponse>, Status> {
        self.do_list_models(request).await
    }

    async fn resolve_route(
        &self,
        request: Request<ResolveRouteRequest>,
    ) -> Result<Response<ResolveRouteResponse>, Status> {
        self.do_resolve_route(request).await
    }

    async fn get_runtime_override(
        &self,
        request: Request<GetRuntimeOverrideRequest>,
    ) -> Result<Response<GetRuntimeOverrideResponse>, Status> {
        self.do_get_runtime_override(request).await
    }

    async fn set_runtime_override(
        &self,
        request: Request<SetRuntimeOverrideRequest>,
    ) -> Result<Response<SetRuntimeOverrideResponse>, Status> {
        self.do_set_runtime_override(request).await
    }

    async fn clear_runtime_override(
        &self,
        request: Request<ClearRuntimeOverrideRequest>,
    ) -> Result<Response<ClearRuntimeOverrideResponse>, Status> {
        self.do_clear_runtime_override(request).await
    }

    pending_rpcs! {
        update_config_settings(UpdateConfigSettingsRequest) -> UpdateConfigSettingsResponse;
        get_config_template(GetConfigTemplateRequest) -> GetConfigTemplateResponse;
        update_config_template(UpdateConfigTemplateRequest) -> UpdateConfigTemplateResponse;
        render_config(RenderConfigRequest) -> RenderConfigResponse;
        list_profiles(ListProfilesRequest) -> ListProfilesResponse;
        get_profile(GetProfileRequest) -> GetProfileResponse;
        create_profile(CreateProfileRequest) -> CreateProfileResponse;
        update_profile(UpdateProfileRequest) -> UpdateProfileResponse;
        rename_profile(RenameProfileRequest) -> RenameProfileResponse;
        delete_profile(DeleteProfileRequest) -> DeleteProfileResponse;
        get_host_config_override(GetHostConfigOverrideRequest) -> GetHostConfigOverrideResponse;
        set_host_config_override(SetHostConfigOverrideRequest) -> SetHostConfigOverrideResponse;
        delete_host_config_override(DeleteHostConfigOverrideRequest) -> DeleteHostConfigOverrideResponse;
        bake_config(BakeConfigRequest) -> BakeConfigResponse;
        list_prompts(ListPromptsRequest) -> ListPromptsResponse;
        get_prompt(GetPromptRequest) -> GetPromptResponse;
        retrieve_prompt(RetrievePromptRequest) -> RetrievePromptResponse;
        push_prompt(PushPromptRequest) -> PushPromptResponse;
        save_prompt(SavePromptRequest) -> SavePromptResponse;
        retire_prompt(RetirePromptRequest) -> RetirePromptResponse;
        list_skills(ListSkillsRequest) -> ListSkillsResponse;
        get_skill(GetSkillRequest) -> GetSkillResponse;
        retrieve_skill(RetrieveSkillRequest) -> RetrieveSkillResponse;
        push_skill(PushSkillRequest) -> PushSkillResponse;
        save_skill(SaveSkillRequest) -> SaveSkillResponse;
        retire_skill(RetireSkillRequest) -> RetireSkillResponse;
        list_content_proposals(ListContentProposalsRequest) -> ListContentProposalsResponse;
        approve_content_proposal(ApproveContentProposalRequest) -> ApproveContentProposalResponse;
        reject_content_proposal(RejectContentProposalRequest) -> RejectContentProposalResponse;
        get_agents_document(GetAgentsDocumentRequest) -> GetAgentsDocumentResponse;
        retrieve_agents_document(RetrieveAgentsDocumentRequest) -> RetrieveAgentsDocumentResponse;
        save_agents_document(SaveAgentsDocumentRequest) -> SaveAgentsDocumentResponse;
        clear_agents_document(ClearAgentsDocumentRequest) -> ClearAgentsDocumentResponse;
        list_agents_document_versions(ListAgentsDocumentVersionsRequest) -> ListAgentsDocumentVersionsResponse;
        get_client_config(GetClientConfigRequest) -> GetClientConfigResponse;
        export_client_config(ExportClientConfigRequest) -> ExportClientConfigResponse;
        import_client_config(ImportClientConfigRequest) -> ImportClientConfigResponse;
        list_client_config_history(ListClientConfigHistoryRequest) -> ListClientConfigHistoryResponse;
    }
}
