//! `codexcentral.memory.v1.MemoryService`: validate, authorize, call the domain, convert.

use codex_central_common::{Principal, Role};
use codex_central_proto::memory::v1::memory_service_server::MemoryService;
use codex_central_proto::memory::v1::*;
use codex_central_proto::{CallContext, ms_to_timestamp};
use codex_central_store::entities::memories::Model;
use codex_central_store::memories::{self as rows, Hit, Written};
use codex_central_store::{Store, now_ms};
use tonic::{Request, Response, Status};

use crate::domain::access_log::AccessLogWriter;
use crate::domain::memories::{self, Draft, Owner, Scope, check_key};
use crate::domain::owners;
use crate::domain::settings;
use crate::{Error, grpc_access_log, grpc_workspace};

pub struct MemoryGrpc {
    store: Store,
    access_log: AccessLogWriter,
}

impl MemoryGrpc {
    /// Starts the `/mcp` access-log writer, so it needs a Tokio runtime.
    pub fn new(store: Store) -> Self {
        let access_log = AccessLogWriter::spawn(store.clone());
        MemoryGrpc { store, access_log }
    }

    /// Memories with their owners named (host fqdn, username). The caller's own name comes with
    /// its principal, so only other owners (an admin's view) are looked up.
    async fn named(
        &self,
        caller: &Principal,
        mut list: Vec<Memory>,
    ) -> Result<Vec<Memory>, Status> {
        let kind = |o: &MemoryOwner| match o.kind() {
            MemoryOwnerKind::Host => "host",
            MemoryOwnerKind::User => "user",
            MemoryOwnerKind::Fleet | MemoryOwnerKind::Unspecified => "",
        };
        let own = Owner::of(caller).ok();
        let is_own = |o: &MemoryOwner| {
            own.as_ref()
                .is_some_and(|c| c.kind == kind(o) && c.id == o.id)
        };
        let names = owners::names(
            &self.store,
            list.iter()
                .filter_map(|m| m.owner.as_ref())
                .filter(|o| !is_own(o))
                .map(|o| (kind(o), o.id.as_str())),
        )
        .await?;
        for owner in list.iter_mut().filter_map(|m| m.owner.as_mut()) {
            if is_own(owner) {
                owner.name = caller.name.clone();
            } else if let Some(name) = names.get(&(kind(owner).to_string(), owner.id.clone())) {
                owner.name = name.clone();
            }
        }
        Ok(list)
    }

    async fn named_one(&self, caller: &Principal, m: Memory) -> Result<Memory, Status> {
        Ok(self.named(caller, vec![m]).await?.pop().unwrap_or_default())
    }
}

fn is_admin_reader(p: &Principal) -> bool {
    matches!(p.role, Role::Admin | Role::ReadOnly)
}

fn owner_proto(kind: &str, id: &str) -> MemoryOwner {
    let kind = match kind {
        "host" => MemoryOwnerKind::Host,
        "user" => MemoryOwnerKind::User,
        "fleet" => MemoryOwnerKind::Fleet,
        _ => MemoryOwnerKind::Unspecified,
    };
    MemoryOwner {
        kind: kind as i32,
        id: id.to_string(),
        name: String::new(),
    }
}

fn memory_proto(m: Model, score: Option<f64>) -> Memory {
    Memory {
        owner: Some(owner_proto(&m.owner_kind, &m.owner_id)),
        record_id: m.record_id,
        id: m.mem_key,
        title: m.title,
        content: m.content,
        tags: m
            .tags_text
            .split(' ')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        metadata_json: m.metadata_json,
        created_at: Some(ms_to_timestamp(m.created_at)),
        updated_at: Some(ms_to_timestamp(m.updated_at)),
        score,
    }
}

/// Search hits as proto memories with their scores.
fn ranked(hits: Vec<Hit>) -> Vec<Memory> {
    hits.into_iter()
        .map(|h| memory_proto(h.memory, Some(h.score)))
        .collect()
}

/// Whose memories a read covers: admins name one owner or see everyone; others see their own
/// and the fleet's.
fn scope(p: &Principal, owner: Option<&MemoryOwner>) -> Result<Scope, Status> {
    match (is_admin_reader(p), owner) {
        (true, Some(o)) => {
            let kind = match MemoryOwnerKind::try_from(o.kind) {
                Ok(MemoryOwnerKind::Host) => "host",
                Ok(MemoryOwnerKind::User) => "user",
                Ok(MemoryOwnerKind::Fleet) => Owner::FLEET,
                _ => return Err(Error::invalid("owner.kind", "must be host, user or fleet").into()),
            };
            Ok(Scope::Only(Owner {
                kind,
                id: o.id.trim().to_string(),
            }))
        }
        (true, None) => Ok(Scope::Everyone),
        (false, Some(_)) => {
            Err(Error::permission_denied("only admins can name another owner").into())
        }
        (false, None) => Ok(Scope::OwnAndFleet(Owner::of(p)?)),
    }
}

fn settings_proto(s: &settings::MemorySettings) -> MemorySettings {
    MemorySettings {
        max_content_bytes: s.max_content_bytes,
        workspace_quota_bytes: s.workspace_quota_bytes,
        workspace_enabled: Some(s.workspace_enabled),
        workspace_max_file_bytes: s.workspace_max_file_bytes,
    }
}

fn written_proto(w: Written) -> MemoryWriteStatus {
    match w {
        Written::Created => MemoryWriteStatus::Created,
        Written::Updated => MemoryWriteStatus::Updated,
        Written::Unchanged => MemoryWriteStatus::Unchanged,
    }
}

#[tonic::async_trait]
impl MemoryService for MemoryGrpc {
    async fn store_memory(
        &self,
        request: Request<StoreMemoryRequest>,
    ) -> Result<Response<StoreMemoryResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?;
        let req = request.get_ref();
        let owner = if req.shared {
            ctx.require_admin()?;
            Owner::fleet()
        } else {
            Owner::of(p)?
        };
        let req = request.into_inner();
        let draft = Draft {
            key: req.id.trim().to_string(),
            title: req.title,
            content: req.content,
            tags: req.tags,
            metadata_json: req.metadata_json,
            resource_id: String::new(),
            content_field: "content",
        };
        let (written, m) = memories::store(&self.store, &owner, draft).await?;
        Ok(Response::new(StoreMemoryResponse {
            status: written_proto(written) as i32,
            memory: Some(self.named_one(p, memory_proto(m, None)).await?),
        }))
    }

    async fn retrieve_memory(
        &self,
        request: Request<RetrieveMemoryRequest>,
    ) -> Result<Response<RetrieveMemoryResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?;
        let req = request.get_ref();
        let found = if !req.record_id.is_empty() {
            ctx.require_admin_read()?;
            rows::get_record(self.store.db(), req.record_id.trim())
                .await
                .map_err(Error::from)?
        } else {
            let key = req.id.trim();
            check_key("id", key)?;
            let own = Owner::of(p)?;
            match rows::get(self.store.db(), own.kind, &own.id, key)
                .await
                .map_err(Error::from)?
            {
                Some(m) => Some(m),
                None => rows::get(self.store.db(), Owner::FLEET, "", key)
                    .await
                    .map_err(Error::from)?,
            }
        };
        let memory = match found {
            Some(m) => Some(self.named_one(p, memory_proto(m, None)).await?),
            None => None,
        };
        Ok(Response::new(RetrieveMemoryResponse {
            found: memory.is_some(),
            memory,
        }))
    }

    async fn search_memories(
        &self,
        request: Request<SearchMemoriesRequest>,
    ) -> Result<Response<SearchMemoriesResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?;
        let req = request.get_ref();
        let scope = scope(p, req.owner.as_ref())?;
        let limit = if req.limit == 0 {
            20
        } else {
            req.limit.min(200)
        };
        let hits = memories::search(
            &self.store,
            &scope,
            &req.query,
            &req.tags,
            None,
            limit.into(),
        )
        .await?;
        Ok(Response::new(SearchMemoriesResponse {
            matches: self.named(p, ranked(hits)).await?,
        }))
    }

    async fn append_memory(
        &self,
        request: Request<AppendMemoryRequest>,
    ) -> Result<Response<AppendMemoryResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?;
        let owner = Owner::of(p)?;
        let req = request.into_inner();
        let resource_id = req.resource_id.trim().to_string();
        check_key("resource_id", &resource_id)?;
        let draft = Draft {
            key: String::new(),
            title: String::new(),
            content: req.text,
            tags: req.tags,
            metadata_json: String::new(),
            resource_id,
            content_field: "text",
        };
        let (_, m) = memories::store(&self.store, &owner, draft).await?;
        Ok(Response::new(AppendMemoryResponse {
            memory: Some(self.named_one(p, memory_proto(m, None)).await?),
        }))
    }

    async fn query_memories(
        &self,
        request: Request<QueryMemoriesRequest>,
    ) -> Result<Response<QueryMemoriesResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?;
        let owner = Owner::of(p)?;
        let req = request.into_inner();
        let resource_id = req.resource_id.trim().to_string();
        check_key("resource_id", &resource_id)?;
        let top_k = if req.top_k == 0 { 5 } else { req.top_k.min(50) };
        let hits = memories::search(
            &self.store,
            &Scope::OwnAndFleet(owner),
            &req.query,
            &[],
            Some(resource_id),
            top_k.into(),
        )
        .await?;
        Ok(Response::new(QueryMemoriesResponse {
            matches: self.named(p, ranked(hits)).await?,
        }))
    }

    async fn list_memories(
        &self,
        request: Request<ListMemoriesRequest>,
    ) -> Result<Response<ListMemoriesResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?;
        let req = request.into_inner();
        let scope = scope(p, req.owner.as_ref())?;
        let page = req.page.unwrap_or_default();
        let size = if page.page_size == 0 {
            50
        } else {
            page.page_size
        };
        let resource = Some(req.resource_id.trim().to_string()).filter(|r| !r.is_empty());
        let (rows, next) = memories::list(
            &self.store,
            &scope,
            &req.tags,
            resource,
            size.into(),
            &page.page_token,
        )
        .await?;
        Ok(Response::new(ListMemoriesResponse {
            memories: self
                .named(p, rows.into_iter().map(|m| memory_proto(m, None)).collect())
                .await?,
            next_page_token: next,
        }))
    }

    async fn delete_memory(
        &self,
        request: Request<DeleteMemoryRequest>,
    ) -> Result<Response<DeleteMemoryResponse>, Status> {
        let ctx = CallContext::of(&request);
        let p = ctx.principal()?;
        let req = request.get_ref();
        let deleted = if !req.record_id.is_empty() {
            ctx.require_admin()?;
            rows::delete_record(self.store.db(), req.record_id.trim(), now_ms())
                .await
                .map_err(Error::from)?
        } else {
            let key = req.id.trim();
            check_key("id", key)?;
            let own = Owner::of(p)?;
            rows::delete(self.store.db(), own.kind, &own.id, key, now_ms())
                .await
                .map_err(Error::from)?
        };
        Ok(Response::new(DeleteMemoryResponse { deleted }))
    }

    async fn get_memory_settings(
        &self,
        request: Request<GetMemorySettingsRequest>,
    ) -> Result<Response<GetMemorySettingsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let s = settings::get(&self.store).await?;
        Ok(Response::new(GetMemorySettingsResponse {
            settings: Some(settings_proto(&s)),
        }))
    }

    async fn update_memory_settings(
        &self,
        request: Request<UpdateMemorySettingsRequest>,
    ) -> Result<Response<UpdateMemorySettingsResponse>, Status> {
        let ctx = CallContext::of(&request);
        let admin = ctx.require_admin()?.clone();
        let wanted = request.into_inner().settings.unwrap_or_default();
        let s = settings::update(
            &self.store,
            &admin,
            &ctx.client_ip_text(),
            settings::Change {
                max_content_bytes: wanted.max_content_bytes,
                workspace_quota_bytes: wanted.workspace_quota_bytes,
                workspace_enabled: wanted.workspace_enabled,
                workspace_max_file_bytes: wanted.workspace_max_file_bytes,
            },
        )
        .await?;
        Ok(Response::new(UpdateMemorySettingsResponse {
            settings: Some(settings_proto(&s)),
        }))
    }

    async fn read_workspace_file(
        &self,
        request: Request<ReadWorkspaceFileRequest>,
    ) -> Result<Response<ReadWorkspaceFileResponse>, Status> {
        grpc_workspace::read(&self.store, request).await
    }

    async fn write_workspace_file(
        &self,
        request: Request<WriteWorkspaceFileRequest>,
    ) -> Result<Response<WriteWorkspaceFileResponse>, Status> {
        grpc_workspace::write(&self.store, request).await
    }

    async fn list_workspace_dir(
        &self,
        request: Request<ListWorkspaceDirRequest>,
    ) -> Result<Response<ListWorkspaceDirResponse>, Status> {
        grpc_workspace::list_dir(&self.store, request).await
    }

    async fn stat_workspace_file(
        &self,
        request: Request<StatWorkspaceFileRequest>,
    ) -> Result<Response<StatWorkspaceFileResponse>, Status> {
        grpc_workspace::stat(&self.store, request).await
    }

    async fn search_workspace_files(
        &self,
        request: Request<SearchWorkspaceFilesRequest>,
    ) -> Result<Response<SearchWorkspaceFilesResponse>, Status> {
        grpc_workspace::search(&self.store, request).await
    }

    async fn record_mcp_access(
        &self,
        request: Request<RecordMcpAccessRequest>,
    ) -> Result<Response<RecordMcpAccessResponse>, Status> {
        grpc_access_log::record(&self.access_log, request).await
    }

    async fn list_mcp_access_logs(
        &self,
        request: Request<ListMcpAccessLogsRequest>,
    ) -> Result<Response<ListMcpAccessLogsResponse>, Status> {
        grpc_access_log::list(&self.store, request).await
    }
}
