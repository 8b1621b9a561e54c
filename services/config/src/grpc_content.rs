//! The settings, `AGENTS.md`, prompt and proposal RPCs: authorize, call the domain, convert.

use codex_central_common::PrincipalKind;
use codex_central_proto::CallContext;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::config::v1::*;
use codex_central_proto::ms_to_timestamp;
use codex_central_proto::paging::{decode_token, encode_token, page_limit};
use codex_central_store::audit::Actor;
use codex_central_store::entities::agents_documents::Model as AgentsRow;
use codex_central_store::entities::content_proposals::Model as ProposalRow;
use codex_central_store::entities::prompts::Model as PromptRow;
use codex_central_store::entities::skills::Model as SkillRow;
use tonic::{Request, Response, Status};

use crate::domain::content::{HostPush, SyncStatus, WriteStatus};
use crate::domain::prompts::{self, Draft};
use crate::domain::skills::{self, SkillFile as FileDraft};
use crate::domain::{agents, proposals, settings};
use crate::grpc::ConfigGrpc;

pub(crate) fn actor(ctx: &CallContext, principal: &codex_central_common::Principal) -> Actor {
    Actor {
        principal: principal.clone(),
        client_ip: ctx.client_ip_text(),
    }
}

pub(crate) fn admin(ctx: &CallContext) -> Result<Actor, Status> {
    Ok(actor(ctx, ctx.require_admin()?))
}

/// Host-only RPCs (the host sync routes).
pub(crate) fn host(ctx: &CallContext) -> Result<Actor, Status> {
    let p = ctx.principal()?;
    if p.kind != PrincipalKind::Host {
        return Err(crate::Error::permission_denied("a host key is required").into());
    }
    Ok(actor(ctx, p))
}

/// Lists: admins (read-only included), hosts and signed-in members.
pub(crate) fn reader(ctx: &CallContext) -> Result<(), Status> {
    let p = ctx.principal()?;
    match p.kind {
        PrincipalKind::Host | PrincipalKind::User | PrincipalKind::LocalAdmin => Ok(()),
        PrincipalKind::ServiceToken => ctx.require_admin_read().map(|_| ()),
    }
}

/// Member reads of one item: admins (read-only included) and signed-in members, not hosts.
fn member_reader(ctx: &CallContext) -> Result<(), Status> {
    if ctx.principal()?.kind == PrincipalKind::Host {
        return Err(crate::Error::permission_denied("not available to hosts").into());
    }
    reader(ctx)
}

pub(crate) fn offset_page(page: Option<PageRequest>) -> Result<(u64, u64), Status> {
    let page = page.unwrap_or_default();
    let offset = match decode_token(&page.page_token)? {
        None => 0,
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| crate::Error::invalid("page.page_token", "invalid page token"))?,
    };
    Ok((offset, page_limit(page.page_size)))
}

pub(crate) fn next_token(offset: u64, limit: u64, returned: usize) -> String {
    if returned as u64 == limit {
        encode_token(&(offset + limit).to_string())
    } else {
        String::new()
    }
}

pub(crate) fn sync_status(s: SyncStatus) -> i32 {
    (match s {
        SyncStatus::Missing => ContentSyncStatus::Missing,
        SyncStatus::Deleted => ContentSyncStatus::Deleted,
        SyncStatus::Unchanged => ContentSyncStatus::Unchanged,
        SyncStatus::Updated => ContentSyncStatus::Updated,
    }) as i32
}

pub(crate) fn write_status(s: WriteStatus) -> i32 {
    (match s {
        WriteStatus::Created => ContentWriteStatus::Created,
        WriteStatus::Updated => ContentWriteStatus::Updated,
        WriteStatus::Unchanged => ContentWriteStatus::Unchanged,
        WriteStatus::Proposed => ContentWriteStatus::Proposed,
    }) as i32
}

fn push_to_proto(p: HostPush) -> i32 {
    (match p {
        HostPush::On => HostContentPush::On,
        HostPush::Review => HostContentPush::Review,
        HostPush::Off => HostContentPush::Off,
    }) as i32
}

pub(crate) fn settings_to_proto(s: settings::ConfigSettings) -> ConfigSettings {
    ConfigSettings {
        managed_mcp_enabled: s.managed_mcp_enabled,
        default_profile: s.default_profile,
        host_content_push: push_to_proto(s.host_content_push),
    }
}

fn agents_to_proto(r: AgentsRow, with_content: bool) -> AgentsDocument {
    AgentsDocument {
        version: u32::try_from(r.version).unwrap_or(0),
        content: if with_content {
            r.content
        } else {
            String::new()
        },
        sha256: r.sha256,
        size_bytes: u64::try_from(r.size_bytes).unwrap_or(0),
        updated_at: Some(ms_to_timestamp(r.updated_at)),
        updated_by: r.updated_by,
    }
}

fn prompt_to_proto(r: PromptRow, with_body: bool) -> Prompt {
    Prompt {
        id: r.id,
        filename: r.filename,
        description: r.description,
        argument_hint: r.argument_hint,
        body: if with_body { r.body } else { String::new() },
        sha256: r.sha256,
        updated_at: Some(ms_to_timestamp(r.updated_at)),
        deleted_at: r.deleted_at.map(ms_to_timestamp),
        updated_by: r.updated_by,
    }
}

fn skill_to_proto(r: SkillRow, with_content: bool) -> Result<Skill, Status> {
    let files = if with_content {
        files_to_proto(skills::files_of(&r)?)
    } else {
        Vec::new()
    };
    Ok(Skill {
        id: r.id,
        slug: r.slug,
        display_name: r.display_name,
        description: r.description,
        manifest: if with_content {
            r.manifest
        } else {
            String::new()
        },
        files,
        sha256: r.sha256,
        updated_at: Some(ms_to_timestamp(r.updated_at)),
        deleted_at: r.deleted_at.map(ms_to_timestamp),
        updated_by: r.updated_by,
    })
}

fn files_to_proto(files: Vec<FileDraft>) -> Vec<SkillFile> {
    files
        .into_iter()
        .map(|f| SkillFile {
            path: f.path,
            content: f.content,
            sha256: f.sha256,
        })
        .collect()
}

fn file_drafts(files: Vec<SkillFile>) -> Vec<FileDraft> {
    files
        .into_iter()
        .map(|f| FileDraft {
            path: f.path,
            content: f.content,
            sha256: f.sha256,
        })
        .collect()
}

fn proposal_to_proto(r: ProposalRow) -> ContentProposal {
    let state = match r.state.as_str() {
        "pending" => ProposalState::Pending,
        "approved" => ProposalState::Approved,
        "rejected" => ProposalState::Rejected,
        _ => ProposalState::Unspecified,
    };
    let content = match r.kind.as_str() {
        prompts::KIND => serde_json::from_str::<Draft>(&r.payload).ok().map(|d| {
            content_proposal::Content::Prompt(Prompt {
                filename: d.filename,
                sha256: r.content_sha256.clone(),
                description: d.description,
                argument_hint: d.argument_hint,
                body: d.body,
                ..Default::default()
            })
        }),
        skills::KIND => skills::proposal_draft(&r).map(|d| {
            content_proposal::Content::Skill(Skill {
                slug: d.slug,
                display_name: d.display_name,
                description: d.description,
                manifest: d.manifest,
                sha256: r.content_sha256.clone(),
                files: files_to_proto(d.files),
                ..Default::default()
            })
        }),
        _ => None,
    };
    ContentProposal {
        id: r.id,
        state: state as i32,
        host_id: r.host_id.to_string(),
        created_at: Some(ms_to_timestamp(r.created_at)),
        base_sha256: r.base_sha256,
        content,
        decided_by: r.decided_by,
        decided_at: r.decided_at.map(ms_to_timestamp),
        reason: r.reason,
    }
}

impl ConfigGrpc {
    pub(crate) async fn do_update_config_settings(
        &self,
        request: Request<UpdateConfigSettingsRequest>,
    ) -> Result<Response<UpdateConfigSettingsResponse>, Status> {
        let ctx = CallContext::of(&request);
        let actor = admin(&ctx)?;
        let wanted = request
            .into_inner()
            .settings
            .ok_or_else(|| crate::Error::invalid("settings", "settings is required"))?;
        let mut next = settings::get(&self.store).await?;
        next.managed_mcp_enabled = wanted.managed_mcp_enabled;
        match wanted.host_content_push() {
            HostContentPush::Unspecified => {}
            HostContentPush::On => next.host_content_push = HostPush::On,
            HostContentPush::Review => next.host_content_push = HostPush::Review,
            HostContentPush::Off => next.host_content_push = HostPush::Off,
        }
        let profile = wanted.default_profile.trim();
        if !profile.is_empty() {
            let current = crate::domain::config_docs::current(&self.store).await?;
            if current.as_ref().and_then(|v| v.profile(profile)).is_none() {
                return Err(crate::Error::invalid(
                    "settings.default_profile",
                    format!("there is no profile named {profile:?}"),
                )
                .into());
            }
        }
        next.default_profile = profile.to_string();
        settings::put(&self.store, &actor, &next).await?;
        self.baker.invalidate();
        Ok(Response::new(UpdateConfigSettingsResponse {
            settings: Some(settings_to_proto(next)),
        }))
    }

    // ---- AGENTS.md ----

    pub(crate) async fn do_get_agents_document(
        &self,
        request: Request<GetAgentsDocumentRequest>,
    ) -> Result<Response<GetAgentsDocumentResponse>, Status> {
        member_reader(&CallContext::of(&request))?;
        let doc = agents::current(&self.store).await?;
        Ok(Response::new(GetAgentsDocumentResponse {
            document: doc.map(|d| agents_to_proto(d, true)),
        }))
    }

    pub(crate) async fn do_retrieve_agents_document(
        &self,
        request: Request<RetrieveAgentsDocumentRequest>,
    ) -> Result<Response<RetrieveAgentsDocumentResponse>, Status> {
        host(&CallContext::of(&request))?;
        let known = request.into_inner().known_sha256;
        let (status, doc) = agents::retrieve(&self.store, &known).await?;
        Ok(Response::new(RetrieveAgentsDocumentResponse {
            status: sync_status(status),
            document: doc.map(|d| agents_to_proto(d, status == SyncStatus::Updated)),
        }))
    }

    pub(crate) async fn do_save_agents_document(
        &self,
        request: Request<SaveAgentsDocumentRequest>,
    ) -> Result<Response<SaveAgentsDocumentResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let (status, doc) =
            agents::save(&self.store, &actor, &req.content, &req.expected_sha256).await?;
        Ok(Response::new(SaveAgentsDocumentResponse {
            status: write_status(status),
            document: Some(agents_to_proto(doc, true)),
        }))
    }

    pub(crate) async fn do_clear_agents_document(
        &self,
        request: Request<ClearAgentsDocumentRequest>,
    ) -> Result<Response<ClearAgentsDocumentResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        agents::clear(&self.store, &actor).await?;
        Ok(Response::new(ClearAgentsDocumentResponse {}))
    }

    pub(crate) async fn do_list_agents_document_versions(
        &self,
        request: Request<ListAgentsDocumentVersionsRequest>,
    ) -> Result<Response<ListAgentsDocumentVersionsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let (offset, limit) = offset_page(request.into_inner().page)?;
        let rows = agents::versions(&self.store, offset, limit).await?;
        Ok(Response::new(ListAgentsDocumentVersionsResponse {
            next_page_token: next_token(offset, limit, rows.len()),
            versions: rows
                .into_iter()
                .map(|r| agents_to_proto(r, false))
                .collect(),
        }))
    }

    // ---- Prompts ----

    pub(crate) async fn do_list_prompts(
        &self,
        request: Request<ListPromptsRequest>,
    ) -> Result<Response<ListPromptsResponse>, Status> {
        reader(&CallContext::of(&request))?;
        let rows = prompts::list(&self.store, request.into_inner().include_retired).await?;
        Ok(Response::new(ListPromptsResponse {
            prompts: rows
                .into_iter()
                .map(|r| prompt_to_proto(r, false))
                .collect(),
        }))
    }

    pub(crate) async fn do_get_prompt(
        &self,
        request: Request<GetPromptRequest>,
    ) -> Result<Response<GetPromptResponse>, Status> {
        member_reader(&CallContext::of(&request))?;
        let row = prompts::get(&self.store, &request.into_inner().filename).await?;
        Ok(Response::new(GetPromptResponse {
            prompt: Some(prompt_to_proto(row, true)),
        }))
    }

    pub(crate) async fn do_retrieve_prompt(
        &self,
        request: Request<RetrievePromptRequest>,
    ) -> Result<Response<RetrievePromptResponse>, Status> {
        host(&CallContext::of(&request))?;
        let req = request.into_inner();
        let (status, row) =
            prompts::retrieve(&self.store, &req.filename, &req.known_sha256).await?;
        Ok(Response::new(RetrievePromptResponse {
            status: sync_status(status),
            prompt: row.map(|r| prompt_to_proto(r, status == SyncStatus::Updated)),
        }))
    }

    pub(crate) async fn do_push_prompt(
        &self,
        request: Request<PushPromptRequest>,
    ) -> Result<Response<PushPromptResponse>, Status> {
        let actor = host(&CallContext::of(&request))?;
        let req = request.into_inner();
        let mode = settings::get(&self.store).await?.host_content_push;
        let draft = Draft {
            filename: req.filename,
            body: req.body,
            description: req.description,
            argument_hint: req.argument_hint,
        };
        let (status, row, proposal) =
            prompts::push(&self.store, &actor, mode, draft, &req.sha256).await?;
        Ok(Response::new(PushPromptResponse {
            status: write_status(status),
            prompt: Some(prompt_to_proto(row, false)),
            proposal_id: proposal.map(|p| p.id).unwrap_or_default(),
        }))
    }

    pub(crate) async fn do_save_prompt(
        &self,
        request: Request<SavePromptRequest>,
    ) -> Result<Response<SavePromptResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let draft = Draft {
            filename: req.filename,
            body: req.body,
            description: req.description,
            argument_hint: req.argument_hint,
        };
        let (status, row) = prompts::save(
            &self.store,
            &actor,
            draft,
            &req.sha256,
            &req.expected_sha256,
        )
        .await?;
        Ok(Response::new(SavePromptResponse {
            status: write_status(status),
            prompt: Some(prompt_to_proto(row, true)),
        }))
    }

    pub(crate) async fn do_retire_prompt(
        &self,
        request: Request<RetirePromptRequest>,
    ) -> Result<Response<RetirePromptResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let row = prompts::retire(&self.store, &actor, &request.into_inner().filename).await?;
        Ok(Response::new(RetirePromptResponse {
            prompt: Some(prompt_to_proto(row, false)),
        }))
    }

    // ---- Skills ----

    pub(crate) async fn do_list_skills(
        &self,
        request: Request<ListSkillsRequest>,
    ) -> Result<Response<ListSkillsResponse>, Status> {
        reader(&CallContext::of(&request))?;
        let rows = skills::list(&self.store, request.into_inner().include_retired).await?;
        Ok(Response::new(ListSkillsResponse {
            skills: rows
                .into_iter()
                .map(|r| skill_to_proto(r, false))
                .collect::<Result<_, _>>()?,
        }))
    }

    pub(crate) async fn do_get_skill(
        &self,
        request: Request<GetSkillRequest>,
    ) -> Result<Response<GetSkillResponse>, Status> {
        member_reader(&CallContext::of(&request))?;
        let row = skills::get(&self.store, &request.into_inner().slug).await?;
        Ok(Response::new(GetSkillResponse {
            skill: Some(skill_to_proto(row, true)?),
        }))
    }

    pub(crate) async fn do_retrieve_skill(
        &self,
        request: Request<RetrieveSkillRequest>,
    ) -> Result<Response<RetrieveSkillResponse>, Status> {
        host(&CallContext::of(&request))?;
        let req = request.into_inner();
        let (status, row) = skills::retrieve(&self.store, &req.slug, &req.known_sha256).await?;
        Ok(Response::new(RetrieveSkillResponse {
            status: sync_status(status),
            skill: row
                .map(|r| skill_to_proto(r, status == SyncStatus::Updated))
                .transpose()?,
        }))
    }

    pub(crate) async fn do_push_skill(
        &self,
        request: Request<PushSkillRequest>,
    ) -> Result<Response<PushSkillResponse>, Status> {
        let actor = host(&CallContext::of(&request))?;
        let req = request.into_inner();
        let mode = settings::get(&self.store).await?.host_content_push;
        let draft = skills::Draft {
            slug: req.slug,
            manifest: req.manifest,
            files: file_drafts(req.files),
            display_name: req.display_name,
            description: req.description,
        };
        let (status, row, proposal) =
            skills::push(&self.store, &actor, mode, draft, &req.sha256).await?;
        Ok(Response::new(PushSkillResponse {
            status: write_status(status),
            skill: Some(skill_to_proto(row, false)?),
            proposal_id: proposal.map(|p| p.id).unwrap_or_default(),
        }))
    }

    pub(crate) async fn do_save_skill(
        &self,
        request: Request<SaveSkillRequest>,
    ) -> Result<Response<SaveSkillResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let draft = skills::Draft {
            slug: req.slug,
            manifest: req.manifest,
            files: file_drafts(req.files),
            display_name: req.display_name,
            description: req.description,
        };
        let (status, row) = skills::save(&self.store, &actor, draft, &req.expected_sha256).await?;
        Ok(Response::new(SaveSkillResponse {
            status: write_status(status),
            skill: Some(skill_to_proto(row, true)?),
        }))
    }

    pub(crate) async fn do_retire_skill(
        &self,
        request: Request<RetireSkillRequest>,
    ) -> Result<Response<RetireSkillResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let row = skills::retire(&self.store, &actor, &request.into_inner().slug).await?;
        Ok(Response::new(RetireSkillResponse {
            skill: Some(skill_to_proto(row, false)?),
        }))
    }

    // ---- Proposals ----

    pub(crate) async fn do_list_content_proposals(
        &self,
        request: Request<ListContentProposalsRequest>,
    ) -> Result<Response<ListContentProposalsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let state = match req.state() {
            ProposalState::Unspecified => "",
            ProposalState::Pending => "pending",
            ProposalState::Approved => "approved",
            ProposalState::Rejected => "rejected",
        };
        let (offset, limit) = offset_page(req.page)?;
        let rows = proposals::list(&self.store, state, offset, limit).await?;
        Ok(Response::new(ListContentProposalsResponse {
            next_page_token: next_token(offset, limit, rows.len()),
            proposals: rows.into_iter().map(proposal_to_proto).collect(),
        }))
    }

    pub(crate) async fn do_approve_content_proposal(
        &self,
        request: Request<ApproveContentProposalRequest>,
    ) -> Result<Response<ApproveContentProposalResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let row = proposals::approve(&self.store, &actor, &request.into_inner().id).await?;
        Ok(Response::new(ApproveContentProposalResponse {
            proposal: Some(proposal_to_proto(row)),
        }))
    }

    pub(crate) async fn do_reject_content_proposal(
        &self,
        request: Request<RejectContentProposalRequest>,
    ) -> Result<Response<RejectContentProposalResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let row = proposals::reject(&self.store, &actor, &req.id, &req.reason).await?;
        Ok(Response::new(RejectContentProposalResponse {
            proposal: Some(proposal_to_proto(row)),
        }))
    }
}
