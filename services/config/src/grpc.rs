//! `codexcentral.config.v1.ConfigService`: validate, authorize, call the domain, convert.

use codex_central_common::{CallContext, pending_rpcs};
use codex_central_proto::config::v1::config_service_server::ConfigService;
use codex_central_proto::config::v1::*;
use codex_central_store::Store;
use tonic::{Request, Response, Status};

use crate::domain::settings;

pub struct ConfigGrpc {
    store: Store,
}

impl ConfigGrpc {
    pub fn new(store: Store) -> Self {
        ConfigGrpc { store }
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
        list_upstream_providers(ListUpstreamProvidersRequest) -> ListUpstreamProvidersResponse;
        get_upstream_provider(GetUpstreamProviderRequest) -> GetUpstreamProviderResponse;
        create_upstream_provider(CreateUpstreamProviderRequest) -> CreateUpstreamProviderResponse;
        update_upstream_provider(UpdateUpstreamProviderRequest) -> UpdateUpstreamProviderResponse;
        delete_upstream_provider(DeleteUpstreamProviderRequest) -> DeleteUpstreamProviderResponse;
        list_models(ListModelsRequest) -> ListModelsResponse;
        resolve_route(ResolveRouteRequest) -> ResolveRouteResponse;
        get_runtime_override(GetRuntimeOverrideRequest) -> GetRuntimeOverrideResponse;
        set_runtime_override(SetRuntimeOverrideRequest) -> SetRuntimeOverrideResponse;
        clear_runtime_override(ClearRuntimeOverrideRequest) -> ClearRuntimeOverrideResponse;
        get_client_config(GetClientConfigRequest) -> GetClientConfigResponse;
        export_client_config(ExportClientConfigRequest) -> ExportClientConfigResponse;
        import_client_config(ImportClientConfigRequest) -> ImportClientConfigResponse;
        list_client_config_history(ListClientConfigHistoryRequest) -> ListClientConfigHistoryResponse;
    }
}
