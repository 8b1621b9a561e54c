//! `codexcentral.config.v1.ConfigService`: validate, authorize, call the domain, convert.

use codex_central_proto::CallContext;
use codex_central_proto::config::v1::config_service_server::ConfigService;
use codex_central_proto::config::v1::*;
use codex_central_store::Store;
use tonic::{Request, Response, Status};

use crate::domain::bake::Baker;
use crate::domain::client_config::ClientConfigs;
use crate::domain::providers::Providers;
use crate::domain::settings;

pub struct ConfigGrpc {
    pub(crate) store: Store,
    pub(crate) providers: Providers,
    pub(crate) baker: Baker,
    pub(crate) client_configs: ClientConfigs,
}

impl ConfigGrpc {
    /// `public_url` is where hosts reach this server (the managed MCP entry points there).
    pub fn new(store: Store, providers: Providers, public_url: &str) -> Self {
        ConfigGrpc {
            baker: Baker::new(store.clone(), public_url),
            client_configs: ClientConfigs::new(
                store.clone(),
                providers.keyring(),
                providers.clone(),
                public_url,
            ),
            store,
            providers,
        }
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

    async fn get_config_template(
        &self,
        request: Request<GetConfigTemplateRequest>,
    ) -> Result<Response<GetConfigTemplateResponse>, Status> {
        self.do_get_config_template(request).await
    }

    async fn update_config_template(
        &self,
        request: Request<UpdateConfigTemplateRequest>,
    ) -> Result<Response<UpdateConfigTemplateResponse>, Status> {
        self.do_update_config_template(request).await
    }

    async fn render_config(
        &self,
        request: Request<RenderConfigRequest>,
    ) -> Result<Response<RenderConfigResponse>, Status> {
        self.do_render_config(request).await
    }

    async fn list_config_versions(
        &self,
        request: Request<ListConfigVersionsRequest>,
    ) -> Result<Response<ListConfigVersionsResponse>, Status> {
        self.do_list_config_versions(request).await
    }

    async fn get_config_version(
        &self,
        request: Request<GetConfigVersionRequest>,
    ) -> Result<Response<GetConfigVersionResponse>, Status> {
        self.do_get_config_version(request).await
    }

    async fn diff_config_versions(
        &self,
        request: Request<DiffConfigVersionsRequest>,
    ) -> Result<Response<DiffConfigVersionsResponse>, Status> {
        self.do_diff_config_versions(request).await
    }

    async fn restore_config_version(
        &self,
        request: Request<RestoreConfigVersionRequest>,
    ) -> Result<Response<RestoreConfigVersionResponse>, Status> {
        self.do_restore_config_version(request).await
    }

    async fn list_profiles(
        &self,
        request: Request<ListProfilesRequest>,
    ) -> Result<Response<ListProfilesResponse>, Status> {
        self.do_list_profiles(request).await
    }

    async fn get_profile(
        &self,
        request: Request<GetProfileRequest>,
    ) -> Result<Response<GetProfileResponse>, Status> {
        self.do_get_profile(request).await
    }

    async fn create_profile(
        &self,
        request: Request<CreateProfileRequest>,
    ) -> Result<Response<CreateProfileResponse>, Status> {
        self.do_create_profile(request).await
    }

    async fn update_profile(
        &self,
        request: Request<UpdateProfileRequest>,
    ) -> Result<Response<UpdateProfileResponse>, Status> {
        self.do_update_profile(request).await
    }

    async fn rename_profile(
        &self,
        request: Request<RenameProfileRequest>,
    ) -> Result<Response<RenameProfileResponse>, Status> {
        self.do_rename_profile(request).await
    }

    async fn delete_profile(
        &self,
        request: Request<DeleteProfileRequest>,
    ) -> Result<Response<DeleteProfileResponse>, Status> {
        self.do_delete_profile(request).await
    }

    async fn get_host_config_override(
        &self,
        request: Request<GetHostConfigOverrideRequest>,
    ) -> Result<Response<GetHostConfigOverrideResponse>, Status> {
        self.do_get_host_config_override(request).await
    }

    async fn set_host_config_override(
        &self,
        request: Request<SetHostConfigOverrideRequest>,
    ) -> Result<Response<SetHostConfigOverrideResponse>, Status> {
        self.do_set_host_config_override(request).await
    }

    async fn delete_host_config_override(
        &self,
        request: Request<DeleteHostConfigOverrideRequest>,
    ) -> Result<Response<DeleteHostConfigOverrideResponse>, Status> {
        self.do_delete_host_config_override(request).await
    }

    async fn bake_config(
        &self,
        request: Request<BakeConfigRequest>,
    ) -> Result<Response<BakeConfigResponse>, Status> {
        self.do_bake_config(request).await
    }

    async fn get_requirements(
        &self,
        request: Request<GetRequirementsRequest>,
    ) -> Result<Response<GetRequirementsResponse>, Status> {
        self.do_get_requirements(request).await
    }

    async fn update_requirements(
        &self,
        request: Request<UpdateRequirementsRequest>,
    ) -> Result<Response<UpdateRequirementsResponse>, Status> {
        self.do_update_requirements(request).await
    }

    async fn list_requirements_versions(
        &self,
        request: Request<ListRequirementsVersionsRequest>,
    ) -> Result<Response<ListRequirementsVersionsResponse>, Status> {
        self.do_list_requirements_versions(request).await
    }

    async fn restore_requirements_version(
        &self,
        request: Request<RestoreRequirementsVersionRequest>,
    ) -> Result<Response<RestoreRequirementsVersionResponse>, Status> {
        self.do_restore_requirements_version(request).await
    }

    async fn get_client_config(
        &self,
        request: Request<GetClientConfigRequest>,
    ) -> Result<Response<GetClientConfigResponse>, Status> {
        self.do_get_client_config(request).await
    }
    async fn export_client_config(
        &self,
        request: Request<ExportClientConfigRequest>,
    ) -> Result<Response<ExportClientConfigResponse>, Status> {
        self.do_export_client_config(request).await
    }
    async fn import_client_config(
        &self,
        request: Request<ImportClientConfigRequest>,
    ) -> Result<Response<ImportClientConfigResponse>, Status> {
        self.do_import_client_config(request).await
    }
    async fn list_client_config_history(
        &self,
        request: Request<ListClientConfigHistoryRequest>,
    ) -> Result<Response<ListClientConfigHistoryResponse>, Status> {
        self.do_list_client_config_history(request).await
    }
}
