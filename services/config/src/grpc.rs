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
            settings: Some(crate::grpc_content::settings_to_proto(s)),
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

    async fn update_config_settings(
        &self,
        request: Request<UpdateConfigSettingsRequest>,
    ) -> Result<Response<UpdateConfigSettingsResponse>, Status> {
        self.do_update_config_settings(request).await
    }

    async fn list_prompts(
        &self,
        request: Request<ListPromptsRequest>,
    ) -> Result<Response<ListPromptsResponse>, Status> {
        self.do_list_prompts(request).await
    }

    async fn get_prompt(
        &self,
        request: Request<GetPromptRequest>,
    ) -> Result<Response<GetPromptResponse>, Status> {
        self.do_get_prompt(request).await
    }

    async fn retrieve_prompt(
        &self,
        request: Request<RetrievePromptRequest>,
    ) -> Result<Response<RetrievePromptResponse>, Status> {
        self.do_retrieve_prompt(request).await
    }

    async fn push_prompt(
        &self,
        request: Request<PushPromptRequest>,
    ) -> Result<Response<PushPromptResponse>, Status> {
        self.do_push_prompt(request).await
    }

    async fn save_prompt(
        &self,
        request: Request<SavePromptRequest>,
    ) -> Result<Response<SavePromptResponse>, Status> {
        self.do_save_prompt(request).await
    }

    async fn retire_prompt(
        &self,
        request: Request<RetirePromptRequest>,
    ) -> Result<Response<RetirePromptResponse>, Status> {
        self.do_retire_prompt(request).await
    }

    async fn list_content_proposals(
        &self,
        request: Request<ListContentProposalsRequest>,
    ) -> Result<Response<ListContentProposalsResponse>, Status> {
        self.do_list_content_proposals(request).await
    }

    async fn approve_content_proposal(
        &self,
        request: Request<ApproveContentProposalRequest>,
    ) -> Result<Response<ApproveContentProposalResponse>, Status> {
        self.do_approve_content_proposal(request).await
    }

    async fn reject_content_proposal(
        &self,
        request: Request<RejectContentProposalRequest>,
    ) -> Result<Response<RejectContentProposalResponse>, Status> {
        self.do_reject_content_proposal(request).await
    }

    async fn get_agents_document(
        &self,
        request: Request<GetAgentsDocumentRequest>,
    ) -> Result<Response<GetAgentsDocumentResponse>, Status> {
        self.do_get_agents_document(request).await
    }

    async fn retrieve_agents_document(
        &self,
        request: Request<RetrieveAgentsDocumentRequest>,
    ) -> Result<Response<RetrieveAgentsDocumentResponse>, Status> {
        self.do_retrieve_agents_document(request).await
    }

    async fn save_agents_document(
        &self,
        request: Request<SaveAgentsDocumentRequest>,
    ) -> Result<Response<SaveAgentsDocumentResponse>, Status> {
        self.do_save_agents_document(request).await
    }

    async fn clear_agents_document(
        &self,
        request: Request<ClearAgentsDocumentRequest>,
    ) -> Result<Response<ClearAgentsDocumentResponse>, Status> {
        self.do_clear_agents_document(request).await
    }

    async fn list_agents_document_versions(
        &self,
        request: Request<ListAgentsDocumentVersionsRequest>,
    ) -> Result<Response<ListAgentsDocumentVersionsResponse>, Status> {
        self.do_list_agents_document_versions(request).await
    }

    async fn list_skills(
        &self,
        request: Request<ListSkillsRequest>,
    ) -> Result<Response<ListSkillsResponse>, Status> {
        self.do_list_skills(request).await
    }

    async fn get_skill(
        &self,
        request: Request<GetSkillRequest>,
    ) -> Result<Response<GetSkillResponse>, Status> {
        self.do_get_skill(request).await
    }

    async fn retrieve_skill(
        &self,
        request: Request<RetrieveSkillRequest>,
    ) -> Result<Response<RetrieveSkillResponse>, Status> {
        self.do_retrieve_skill(request).await
    }

    async fn push_skill(
        &self,
        request: Request<PushSkillRequest>,
    ) -> Result<Response<PushSkillResponse>, Status> {
        self.do_push_skill(request).await
    }

    async fn save_skill(
        &self,
        request: Request<SaveSkillRequest>,
    ) -> Result<Response<SaveSkillResponse>, Status> {
        self.do_save_skill(request).await
    }

    async fn retire_skill(
        &self,
        request: Request<RetireSkillRequest>,
    ) -> Result<Response<RetireSkillResponse>, Status> {
        self.do_retire_skill(request).await
    }

    pending_rpcs! {
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
        get_client_config(GetClientConfigRequest) -> GetClientConfigResponse;
        export_client_config(ExportClientConfigRequest) -> ExportClientConfigResponse;
        import_client_config(ImportClientConfigRequest) -> ImportClientConfigResponse;
        list_client_config_history(ListClientConfigHistoryRequest) -> ListClientConfigHistoryResponse;
    }
}
