//! The requirements.toml RPCs: authorize, call the domain, convert.

use codex_central_proto::CallContext;
use codex_central_proto::config::v1::*;
use codex_central_proto::ms_to_timestamp;
use codex_central_store::entities::config_documents::Model as VersionRow;
use tonic::{Request, Response, Status};

use crate::domain::codex_toml::model::{self as m};
use crate::domain::requirements_docs::{self, Version};
use crate::grpc::ConfigGrpc;
use crate::grpc_content::{admin, next_token, offset_page, write_status};

fn from_proto(r: Requirements) -> m::Requirements {
    m::Requirements {
        allowed_approval_policies: r.allowed_approval_policies,
        allowed_sandbox_modes: r.allowed_sandbox_modes,
        allowed_web_search_modes: r.allowed_web_search_modes,
        free_blocks: r
            .free_blocks
            .into_iter()
            .map(|b| m::FreeBlock {
                name: b.name,
                toml: b.toml,
            })
            .collect(),
    }
}

fn to_proto(r: &m::Requirements) -> Requirements {
    Requirements {
        allowed_approval_policies: r.allowed_approval_policies.clone(),
        allowed_sandbox_modes: r.allowed_sandbox_modes.clone(),
        allowed_web_search_modes: r.allowed_web_search_modes.clone(),
        free_blocks: r
            .free_blocks
            .iter()
            .map(|b| FreeTomlBlock {
                name: b.name.clone(),
                toml: b.toml.clone(),
            })
            .collect(),
    }
}

fn document(row: &VersionRow, model: Option<&m::Requirements>) -> RequirementsDocument {
    RequirementsDocument {
        requirements: model.map(to_proto),
        content: row.rendered.clone(),
        sha256: row.sha256.clone(),
        size_bytes: u64::try_from(row.size_bytes).unwrap_or(0),
        updated_at: Some(ms_to_timestamp(row.updated_at)),
        updated_by: row.updated_by.clone(),
        version: u32::try_from(row.version).unwrap_or(0),
        note: row.note.clone(),
    }
}

fn version_doc(v: &Version) -> RequirementsDocument {
    document(&v.row, Some(&v.model))
}

impl ConfigGrpc {
    pub(crate) async fn do_get_requirements(
        &self,
        request: Request<GetRequirementsRequest>,
    ) -> Result<Response<GetRequirementsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let current = requirements_docs::current(&self.store).await?;
        Ok(Response::new(GetRequirementsResponse {
            document: current.as_ref().map(version_doc),
        }))
    }

    pub(crate) async fn do_update_requirements(
        &self,
        request: Request<UpdateRequirementsRequest>,
    ) -> Result<Response<UpdateRequirementsResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let model = req
            .requirements
            .map(from_proto)
            .ok_or_else(|| crate::Error::invalid("requirements", "requirements is required"))?;
        let (status, v) =
            requirements_docs::save(&self.store, &actor, model, &req.expected_sha256, "").await?;
        self.baker.invalidate();
        Ok(Response::new(UpdateRequirementsResponse {
            document: Some(version_doc(&v)),
            status: write_status(status),
        }))
    }

    pub(crate) async fn do_list_requirements_versions(
        &self,
        request: Request<ListRequirementsVersionsRequest>,
    ) -> Result<Response<ListRequirementsVersionsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let (offset, limit) = offset_page(request.into_inner().page)?;
        let rows = requirements_docs::history(&self.store, offset, limit).await?;
        Ok(Response::new(ListRequirementsVersionsResponse {
            next_page_token: next_token(offset, limit, rows.len()),
            versions: rows.iter().map(|r| document(r, None)).collect(),
        }))
    }

    pub(crate) async fn do_restore_requirements_version(
        &self,
        request: Request<RestoreRequirementsVersionRequest>,
    ) -> Result<Response<RestoreRequirementsVersionResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let version = i32::try_from(req.version)
            .ok()
            .filter(|v| *v > 0)
            .ok_or_else(|| crate::Error::invalid("version", "a version number is required"))?;
        let v =
            requirements_docs::restore(&self.store, &actor, version, &req.expected_sha256).await?;
        self.baker.invalidate();
        Ok(Response::new(RestoreRequirementsVersionResponse {
            document: Some(version_doc(&v)),
        }))
    }
}
