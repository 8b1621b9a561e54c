//! `codexcentral.memory.v1.MemoryService`: validate, authorize, call the domain, convert.

use codex_central_common::{Principal, Role};
use codex_central_proto::memory::v1::memory_service_server::MemoryService;
use codex_central_proto::memory::v1::*;
use codex_central_proto::{CallContext, ms_to_timestamp, pending_rpcs};
use codex_central_store::entities::memories::Model;
use codex_central_store::memories::{self as rows, Hit, Written};
use codex_central_store::{Store, now_ms};
use tonic::{Request, Response, Status};

use crate::Error;
use crate::domain::memories::{self, Draft, Owner, Scope, check_key};
use crate::domain::settings;

pub struct MemoryGrpc {
    store: Store,
}

impl MemoryGrpc {
    pub fn new(store: Store) -> Self {
        MemoryGrpc { store }
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
            memory: Some(memory_proto(m, None)),
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
        Ok(Response::new(RetrieveMemoryResponse {
            found: found.is_some(),
            memory: found.map(|m| memory_proto(m, None)),
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
            matches: ranked(hits),
        }))
    }

    async fn append_memory(
        &self,
        request: Request<AppendMemoryRequest>,
    ) -> Result<Response<AppendMemoryResponse>, Status> {
        let ctx = CallContext::of(&request);
        let owner = Owner::of(ctx.principal()?)?;
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
            memory: Some(memory_proto(m, None)),
        }))
    }

    async fn query_memories(
        &self,
        request: Request<QueryMemoriesRequest>,
    ) -> Result<Response<QueryMemoriesResponse>, Status> {
        let ctx = CallContext::of(&request);
        let owner = Owner::of(ctx.principal()?)?;
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
            matches: ranked(hits),
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
            memories: rows.into_iter().map(|m| memory_proto(m, None)).collect(),
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
            settings: Some(MemorySettings {
                max_content_bytes: s.max_content_bytes,
                workspace_quota_bytes: s.workspace_quota_bytes,
            }),
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
            settings::MemorySettings {
                max_content_bytes: wanted.max_content_bytes,
                workspace_quota_bytes: wanted.workspace_quota_bytes,
            },
        )
        .await?;
        Ok(Response::new(UpdateMemorySettingsResponse {
            settings: Some(MemorySettings {
                max_content_bytes: s.max_content_bytes,
                workspace_quota_bytes: s.workspace_quota_bytes,
            }),
        }))
    }

    pending_rpcs! {
        read_workspace_file(ReadWorkspaceFileRequest) -> ReadWorkspaceFileResponse;
        write_workspace_file(WriteWorkspaceFileRequest) -> WriteWorkspaceFileResponse;
        list_workspace_dir(ListWorkspaceDirRequest) -> ListWorkspaceDirResponse;
        stat_workspace_file(StatWorkspaceFileRequest) -> StatWorkspaceFileResponse;
        search_workspace_files(SearchWorkspaceFilesRequest) -> SearchWorkspaceFilesResponse;
    }
}
