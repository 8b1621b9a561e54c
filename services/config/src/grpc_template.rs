//! The config.toml template, profile, version, host-override and bake RPCs: authorize, call
//! the domain, convert.

use std::collections::{BTreeMap, HashMap};

use codex_central_common::PrincipalKind;
use codex_central_proto::CallContext;
use codex_central_proto::config::v1 as pb;
use codex_central_proto::config::v1::*;
use codex_central_proto::ms_to_timestamp;
use codex_central_store::entities::config_documents::Model as VersionRow;
use codex_central_store::entities::host_config_overrides::Model as OverrideRow;
use tonic::{Request, Response, Status};

use crate::domain::bake::{self, BakeRequest, Baked};
use crate::domain::codex_toml::model::{self as m, Template};
use crate::domain::codex_toml::render::ManagedMcp;
use crate::domain::codex_toml::{KEY_PLACEHOLDER, render_base, render_config};
use crate::domain::config_docs::{self, BakedFile, Version};
use crate::domain::settings;
use crate::grpc::ConfigGrpc;
use crate::grpc_content::{
    admin, host, next_token, offset_page, reader, sync_status, write_status,
};

fn map(m: HashMap<String, String>) -> BTreeMap<String, String> {
    m.into_iter().collect()
}

fn unmap(m: &BTreeMap<String, String>) -> HashMap<String, String> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

pub(crate) fn template_from_proto(t: ConfigTemplate) -> Template {
    Template {
        model: t.model,
        model_provider: t.model_provider,
        model_reasoning_effort: t.model_reasoning_effort,
        model_reasoning_summary: t.model_reasoning_summary,
        model_verbosity: t.model_verbosity,
        approval_policy: t.approval_policy,
        sandbox_mode: t.sandbox_mode,
        sandbox_network_access: t.sandbox_network_access,
        notify: t.notify,
        history_persistence: t.history_persistence,
        web_search: t.web_search,
        features: t.features.into_iter().collect(),
        notices: t.notices.into_iter().collect(),
        model_providers: t
            .model_providers
            .into_iter()
            .map(|p| m::ModelProvider {
                id: p.name,
                display_name: p.display_name,
                base_url: p.base_url,
                wire_api: p.wire_api,
                env_key: p.env_key,
                http_headers: map(p.http_headers),
                request_max_retries: p.request_max_retries,
                stream_max_retries: p.stream_max_retries,
                stream_idle_timeout_ms: p.stream_idle_timeout_ms,
            })
            .collect(),
        mcp_servers: t
            .mcp_servers
            .into_iter()
            .map(|s| m::McpServer {
                name: s.name,
                url: s.url,
                http_headers: map(s.http_headers),
                env_http_headers: map(s.env_http_headers),
                bearer_token_env_var: s.bearer_token_env_var,
                command: s.command,
                args: s.args,
                env: map(s.env),
                startup_timeout_sec: s.startup_timeout_sec,
                tool_timeout_sec: s.tool_timeout_sec,
                default_tools_approval_mode: s.default_tools_approval_mode,
                disabled: s.disabled,
            })
            .collect(),
        projects: t
            .projects
            .into_iter()
            .map(|p| m::ProjectTrust {
                path: p.path,
                trust_level: p.trust_level,
            })
            .collect(),
        otel: t.otel.map(|o| m::Otel {
            exporter: o.exporter,
            endpoint: o.endpoint,
            protocol: o.protocol,
            headers: map(o.headers),
            environment: o.environment,
            log_user_prompt: o.log_user_prompt,
        }),
        free_blocks: t
            .free_blocks
            .into_iter()
            .map(|b| m::FreeBlock {
                name: b.name,
                toml: b.toml,
            })
            .collect(),
    }
}

pub(crate) fn template_to_proto(t: &Template) -> ConfigTemplate {
    ConfigTemplate {
        model: t.model.clone(),
        model_provider: t.model_provider.clone(),
        model_reasoning_effort: t.model_reasoning_effort.clone(),
        model_reasoning_summary: t.model_reasoning_summary.clone(),
        model_verbosity: t.model_verbosity.clone(),
        approval_policy: t.approval_policy.clone(),
        sandbox_mode: t.sandbox_mode.clone(),
        sandbox_network_access: t.sandbox_network_access,
        notify: t.notify.clone(),
        history_persistence: t.history_persistence.clone(),
        web_search: t.web_search,
        features: t.features.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        notices: t.notices.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        model_providers: t
            .model_providers
            .iter()
            .map(|p| CodexModelProvider {
                name: p.id.clone(),
                display_name: p.display_name.clone(),
                base_url: p.base_url.clone(),
                wire_api: p.wire_api.clone(),
                env_key: p.env_key.clone(),
                http_headers: unmap(&p.http_headers),
                request_max_retries: p.request_max_retries,
                stream_max_retries: p.stream_max_retries,
                stream_idle_timeout_ms: p.stream_idle_timeout_ms,
            })
            .collect(),
        mcp_servers: t
            .mcp_servers
            .iter()
            .map(|s| pb::McpServer {
                name: s.name.clone(),
                url: s.url.clone(),
                command: s.command.clone(),
                args: s.args.clone(),
                env: unmap(&s.env),
                http_headers: unmap(&s.http_headers),
                env_http_headers: unmap(&s.env_http_headers),
                bearer_token_env_var: s.bearer_token_env_var.clone(),
                default_tools_approval_mode: s.default_tools_approval_mode.clone(),
                startup_timeout_sec: s.startup_timeout_sec,
                tool_timeout_sec: s.tool_timeout_sec,
                disabled: s.disabled,
            })
            .collect(),
        projects: t
            .projects
            .iter()
            .map(|p| pb::ProjectTrust {
                path: p.path.clone(),
                trust_level: p.trust_level.clone(),
            })
            .collect(),
        otel: t.otel.as_ref().map(|o| OtelSettings {
            exporter: o.exporter.clone(),
            endpoint: o.endpoint.clone(),
            protocol: o.protocol.clone(),
            headers: unmap(&o.headers),
            environment: o.environment.clone(),
            log_user_prompt: o.log_user_prompt,
        }),
        free_blocks: t
            .free_blocks
            .iter()
            .map(|b| FreeTomlBlock {
                name: b.name.clone(),
                toml: b.toml.clone(),
            })
            .collect(),
    }
}

fn profile_from_proto(p: pb::Profile) -> m::Profile {
    m::Profile {
        name: p.name.trim().to_string(),
        model: p.model,
        model_provider: p.model_provider,
        approval_policy: p.approval_policy,
        sandbox_mode: p.sandbox_mode,
        model_reasoning_effort: p.model_reasoning_effort,
        model_reasoning_summary: p.model_reasoning_summary,
        model_verbosity: p.model_verbosity,
        extra_toml: p.extra_toml,
        created_at: 0,
        updated_at: 0,
    }
}

fn profile_to_proto(p: &m::Profile) -> pb::Profile {
    pb::Profile {
        name: p.name.clone(),
        model: p.model.clone(),
        model_provider: p.model_provider.clone(),
        approval_policy: p.approval_policy.clone(),
        sandbox_mode: p.sandbox_mode.clone(),
        model_reasoning_effort: p.model_reasoning_effort.clone(),
        model_reasoning_summary: p.model_reasoning_summary.clone(),
        model_verbosity: p.model_verbosity.clone(),
        extra_toml: p.extra_toml.clone(),
        created_at: Some(ms_to_timestamp(p.created_at)),
        updated_at: Some(ms_to_timestamp(p.updated_at)),
    }
}

fn document(row: &VersionRow, template: Option<&Template>) -> ConfigTemplateDocument {
    ConfigTemplateDocument {
        template: template.map(template_to_proto),
        rendered_toml: row.rendered.clone(),
        sha256: row.sha256.clone(),
        size_bytes: u64::try_from(row.size_bytes).unwrap_or(0),
        updated_at: Some(ms_to_timestamp(row.updated_at)),
        updated_by: row.updated_by.clone(),
        version: u32::try_from(row.version).unwrap_or(0),
        note: row.note.clone(),
    }
}

fn version_doc(v: &Version) -> ConfigTemplateDocument {
    document(&v.row, Some(&v.model.template))
}

fn override_to_proto(r: &OverrideRow) -> HostConfigOverride {
    HostConfigOverride {
        host_id: r.host_id.to_string(),
        extra_toml: r.extra_toml.clone(),
        default_profile: r.default_profile.clone(),
        updated_at: Some(ms_to_timestamp(r.updated_at)),
        requirements_toml: r.requirements_toml.clone(),
    }
}

fn host_id(field: &str, v: &str) -> Result<i64, Status> {
    v.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| crate::Error::invalid(field, "a host id is a positive integer").into())
}

fn version_number(field: &str, v: u32) -> Result<i32, Status> {
    i32::try_from(v)
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| crate::Error::invalid(field, "a version number is required").into())
}

fn baked_to_proto(b: &Baked, with_bodies: bool) -> BakedConfig {
    BakedConfig {
        content: if with_bodies {
            b.content.clone()
        } else {
            String::new()
        },
        sha256: b.sha256.clone(),
        base_sha256: b.base_sha256.clone(),
        size_bytes: b.content.len() as u64,
        updated_at: Some(ms_to_timestamp(b.updated_at)),
        profiles: b
            .profiles
            .iter()
            .map(|p| ProfileFile {
                name: p.name.clone(),
                filename: p.filename.clone(),
                sha256: p.sha256.clone(),
                content: if with_bodies {
                    p.content.clone()
                } else {
                    String::new()
                },
            })
            .collect(),
    }
}

fn file_to_proto(f: BakedFile) -> ProfileFile {
    ProfileFile {
        name: f.name,
        filename: f.filename,
        sha256: f.sha256,
        content: f.content,
    }
}

impl ConfigGrpc {
    pub(crate) async fn do_get_config_template(
        &self,
        request: Request<GetConfigTemplateRequest>,
    ) -> Result<Response<GetConfigTemplateResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let current = config_docs::current(&self.store).await?;
        Ok(Response::new(GetConfigTemplateResponse {
            document: current.as_ref().map(version_doc),
        }))
    }

    pub(crate) async fn do_update_config_template(
        &self,
        request: Request<UpdateConfigTemplateRequest>,
    ) -> Result<Response<UpdateConfigTemplateResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let template = req
            .template
            .map(template_from_proto)
            .ok_or_else(|| crate::Error::invalid("template", "template is required"))?;
        let (status, v) =
            config_docs::save_template(&self.store, &actor, template, &req.expected_sha256).await?;
        self.baker.invalidate();
        Ok(Response::new(UpdateConfigTemplateResponse {
            document: Some(version_doc(&v)),
            status: write_status(status),
        }))
    }

    pub(crate) async fn do_render_config(
        &self,
        request: Request<RenderConfigRequest>,
    ) -> Result<Response<RenderConfigResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let current = config_docs::current(&self.store).await?;
        let template = match req.template {
            Some(t) => template_from_proto(t),
            None => current
                .as_ref()
                .map(|v| v.model.template.clone())
                .ok_or_else(|| crate::Error::not_found("no config template was saved yet"))?,
        };
        let base = render_base(&template)?;
        let mut template = template;
        if !req.model_override.trim().is_empty() {
            template.model = req.model_override.trim().to_string();
        }
        if !req.reasoning_effort_override.trim().is_empty() {
            template.model_reasoning_effort = req.reasoning_effort_override.trim().to_string();
        }
        // An unsaved override (the dashboard's preview) stands in for the stored one.
        let extra = match req.host_override {
            Some(o) => Some(o.extra_toml),
            None if req.host_id.trim().is_empty() => None,
            None => config_docs::host_override(&self.store, host_id("host_id", &req.host_id)?)
                .await?
                .map(|o| o.extra_toml),
        };
        let managed = settings::get(&self.store).await?.managed_mcp_enabled;
        let entry = ManagedMcp {
            url: self.baker.mcp_url(),
            bearer: KEY_PLACEHOLDER,
        };
        let content = render_config(
            &template,
            extra.as_deref().map(|e| ("host_override.extra_toml", e)),
            managed.then_some(&entry),
        )?;
        let profiles = match &current {
            Some(v) => config_docs::profile_files(&v.model)?
                .into_iter()
                .map(file_to_proto)
                .collect(),
            None => Vec::new(),
        };
        Ok(Response::new(RenderConfigResponse {
            config: Some(BakedConfig {
                sha256: crate::domain::content::sha256_hex(content.as_bytes()),
                base_sha256: crate::domain::content::sha256_hex(base.as_bytes()),
                size_bytes: content.len() as u64,
                content,
                updated_at: current.as_ref().map(|v| ms_to_timestamp(v.row.updated_at)),
                profiles,
            }),
        }))
    }

    pub(crate) async fn do_list_config_versions(
        &self,
        request: Request<ListConfigVersionsRequest>,
    ) -> Result<Response<ListConfigVersionsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let (offset, limit) = offset_page(request.into_inner().page)?;
        let rows = config_docs::history(&self.store, offset, limit).await?;
        Ok(Response::new(ListConfigVersionsResponse {
            next_page_token: next_token(offset, limit, rows.len()),
            versions: rows.iter().map(|r| document(r, None)).collect(),
        }))
    }

    pub(crate) async fn do_get_config_version(
        &self,
        request: Request<GetConfigVersionRequest>,
    ) -> Result<Response<GetConfigVersionResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let n = version_number("version", request.into_inner().version)?;
        let v = config_docs::version(&self.store, n).await?;
        Ok(Response::new(GetConfigVersionResponse {
            document: Some(version_doc(&v)),
            profiles: v.model.profiles.iter().map(profile_to_proto).collect(),
            files: config_docs::files(&v.model)?
                .into_iter()
                .map(file_to_proto)
                .collect(),
        }))
    }

    pub(crate) async fn do_diff_config_versions(
        &self,
        request: Request<DiffConfigVersionsRequest>,
    ) -> Result<Response<DiffConfigVersionsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let from = config_docs::version(
            &self.store,
            version_number("from_version", req.from_version)?,
        )
        .await?;
        let to = if req.to_version == 0 {
            config_docs::current(&self.store)
                .await?
                .ok_or_else(|| crate::Error::not_found("no config template was saved yet"))?
        } else {
            config_docs::version(&self.store, version_number("to_version", req.to_version)?).await?
        };
        Ok(Response::new(DiffConfigVersionsResponse {
            diff: config_docs::diff(&from, &to)?,
        }))
    }

    pub(crate) async fn do_restore_config_version(
        &self,
        request: Request<RestoreConfigVersionRequest>,
    ) -> Result<Response<RestoreConfigVersionResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let n = version_number("version", req.version)?;
        let v = config_docs::restore(&self.store, &actor, n, &req.expected_sha256).await?;
        self.baker.invalidate();
        Ok(Response::new(RestoreConfigVersionResponse {
            document: Some(version_doc(&v)),
        }))
    }

    pub(crate) async fn do_list_profiles(
        &self,
        request: Request<ListProfilesRequest>,
    ) -> Result<Response<ListProfilesResponse>, Status> {
        reader(&CallContext::of(&request))?;
        let current = config_docs::current(&self.store).await?;
        let mut profiles: Vec<pb::Profile> = current
            .iter()
            .flat_map(|v| v.model.profiles.iter().map(profile_to_proto))
            .collect();
        profiles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Response::new(ListProfilesResponse { profiles }))
    }

    pub(crate) async fn do_get_profile(
        &self,
        request: Request<GetProfileRequest>,
    ) -> Result<Response<GetProfileResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let name = request.into_inner().name;
        let current = config_docs::current(&self.store).await?;
        let p = current
            .as_ref()
            .and_then(|v| v.profile(name.trim()))
            .ok_or_else(|| crate::Error::not_found(format!("profile {name} not found")))?;
        Ok(Response::new(GetProfileResponse {
            profile: Some(profile_to_proto(p)),
        }))
    }

    pub(crate) async fn do_create_profile(
        &self,
        request: Request<CreateProfileRequest>,
    ) -> Result<Response<CreateProfileResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let p = request
            .into_inner()
            .profile
            .map(profile_from_proto)
            .ok_or_else(|| crate::Error::invalid("profile", "profile is required"))?;
        let p = config_docs::create_profile(&self.store, &actor, p).await?;
        self.baker.invalidate();
        Ok(Response::new(CreateProfileResponse {
            profile: Some(profile_to_proto(&p)),
        }))
    }

    pub(crate) async fn do_update_profile(
        &self,
        request: Request<UpdateProfileRequest>,
    ) -> Result<Response<UpdateProfileResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let p = request
            .into_inner()
            .profile
            .map(profile_from_proto)
            .ok_or_else(|| crate::Error::invalid("profile", "profile is required"))?;
        let p = config_docs::update_profile(&self.store, &actor, p).await?;
        self.baker.invalidate();
        Ok(Response::new(UpdateProfileResponse {
            profile: Some(profile_to_proto(&p)),
        }))
    }

    pub(crate) async fn do_rename_profile(
        &self,
        request: Request<RenameProfileRequest>,
    ) -> Result<Response<RenameProfileResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let req = request.into_inner();
        let p =
            config_docs::rename_profile(&self.store, &actor, req.name.trim(), req.new_name.trim())
                .await?;
        self.baker.invalidate();
        Ok(Response::new(RenameProfileResponse {
            profile: Some(profile_to_proto(&p)),
        }))
    }

    pub(crate) async fn do_delete_profile(
        &self,
        request: Request<DeleteProfileRequest>,
    ) -> Result<Response<DeleteProfileResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let name = request.into_inner().name;
        config_docs::delete_profile(&self.store, &actor, name.trim()).await?;
        self.baker.invalidate();
        Ok(Response::new(DeleteProfileResponse {}))
    }

    pub(crate) async fn do_get_host_config_override(
        &self,
        request: Request<GetHostConfigOverrideRequest>,
    ) -> Result<Response<GetHostConfigOverrideResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let id = host_id("host_id", &request.into_inner().host_id)?;
        let row = config_docs::host_override(&self.store, id).await?;
        Ok(Response::new(GetHostConfigOverrideResponse {
            host_override: row.as_ref().map(override_to_proto),
        }))
    }

    pub(crate) async fn do_set_host_config_override(
        &self,
        request: Request<SetHostConfigOverrideRequest>,
    ) -> Result<Response<SetHostConfigOverrideResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let o = request
            .into_inner()
            .host_override
            .ok_or_else(|| crate::Error::invalid("host_override", "host_override is required"))?;
        let id = host_id("host_override.host_id", &o.host_id)?;
        let row = config_docs::set_host_override(
            &self.store,
            &actor,
            id,
            config_docs::HostOverride {
                extra_toml: &o.extra_toml,
                default_profile: o.default_profile.trim(),
                requirements_toml: &o.requirements_toml,
            },
        )
        .await?;
        self.baker.invalidate();
        Ok(Response::new(SetHostConfigOverrideResponse {
            host_override: Some(override_to_proto(&row)),
        }))
    }

    pub(crate) async fn do_delete_host_config_override(
        &self,
        request: Request<DeleteHostConfigOverrideRequest>,
    ) -> Result<Response<DeleteHostConfigOverrideResponse>, Status> {
        let actor = admin(&CallContext::of(&request))?;
        let id = host_id("host_id", &request.into_inner().host_id)?;
        if !config_docs::delete_host_override(&self.store, &actor, id).await? {
            return Err(crate::Error::not_found("the host has no config override").into());
        }
        self.baker.invalidate();
        Ok(Response::new(DeleteHostConfigOverrideResponse {}))
    }

    pub(crate) async fn do_bake_config(
        &self,
        request: Request<BakeConfigRequest>,
    ) -> Result<Response<BakeConfigResponse>, Status> {
        let ctx = CallContext::of(&request);
        host(&ctx)?;
        let principal = ctx.principal()?;
        debug_assert_eq!(principal.kind, PrincipalKind::Host);
        let id = host_id("host", &principal.id)?;
        let req = request.into_inner();
        let baked = self
            .baker
            .bake(&BakeRequest {
                host_id: id,
                bearer: &req.mcp_bearer_token,
                model_override: req.model_override.trim(),
                effort_override: req.reasoning_effort_override.trim(),
            })
            .await?;
        let known = req.compare_profiles.then_some(&req.known_profiles);
        let status = bake::sync_status(baked.as_deref(), &req.known_sha256, known);
        let updated = status == crate::domain::content::SyncStatus::Updated;
        let requirements = match &baked {
            Some(b) => b.requirements.clone(),
            None => self.baker.requirements_only(id).await?,
        };
        let requirements_status = crate::domain::content::sync_status(
            requirements.as_ref().map(|r| (false, r.sha256.as_str())),
            &req.known_requirements_sha256,
        );
        let requirements_updated =
            requirements_status == crate::domain::content::SyncStatus::Updated;
        Ok(Response::new(BakeConfigResponse {
            requirements: Some(RequirementsFile {
                status: sync_status(requirements_status),
                sha256: requirements
                    .as_ref()
                    .map(|r| r.sha256.clone())
                    .unwrap_or_default(),
                content: requirements
                    .filter(|_| requirements_updated)
                    .map(|r| r.content)
                    .unwrap_or_default(),
            }),
            status: sync_status(status),
            default_profile: baked
                .as_ref()
                .map(|b| b.default_profile.clone())
                .unwrap_or_default(),
            config: baked.as_ref().map(|b| baked_to_proto(b, updated)),
        }))
    }
}
