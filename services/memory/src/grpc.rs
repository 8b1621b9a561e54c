//! `codexcentral.memory.v1.MemoryService`: validate, authorize, call the domain, convert.

use codex_central_proto::memory::v1::memory_service_server::MemoryService;
use codex_central_proto::memory::v1::*;
use codex_central_proto::{CallContext, pending_rpcs};
use codex_central_store::Store;
use tonic::{Request, Response, Status};

use crate::domain::settings;

pub struct MemoryGrpc {
    store: Store,
}

impl MemoryGrpc {
    pub fn new(store: Store) -> Self {
        MemoryGrpc { store }
    }
}

#[tonic::async_trait]
impl MemoryService for MemoryGrpc {
    async fn get_memory_settings(
        &self,
        request: Request<GetMemorySettingsRequest>,
    ) -> Result<Response<GetMemorySettingsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let s = settings::get(&self.store).await?;
        Ok(Response::new(GetMemorySettingsResponse {
            settings: Some(MemorySettings {
                max_content_bytes: s.max_content_bytes,
                workspace_quota_bytes: s.workspace_quota_bytes,
            }),
        }))
    }

    pending_rpcs! {
        store_memory(StoreMemoryRequest) -> StoreMemoryResponse;
        retrieve_memory(RetrieveMemoryRequest) -> RetrieveMemoryResponse;
        search_memories(SearchMemoriesRequest) -> SearchMemoriesResponse;
        append_memory(AppendMemoryRequest) -> AppendMemoryResponse;
        query_memories(QueryMemoriesRequest) -> QueryMemoriesResponse;
        list_memories(ListMemoriesRequest) -> ListMemoriesResponse;
        delete_memory(DeleteMemoryRequest) -> DeleteMemoryResponse;
        update_memory_settings(UpdateMemorySettingsRequest) -> UpdateMemorySettingsResponse;
        read_workspace_file(ReadWorkspaceFileRequest) -> ReadWorkspaceFileResponse;
        write_workspace_file(WriteWorkspaceFileRequest) -> WriteWorkspaceFileResponse;
        list_workspace_dir(ListWorkspaceDirRequest) -> ListWorkspaceDirResponse;
        stat_workspace_file(StatWorkspaceFileRequest) -> StatWorkspaceFileResponse;
        search_workspace_files(SearchWorkspaceFilesRequest) -> SearchWorkspaceFilesResponse;
    }
}
