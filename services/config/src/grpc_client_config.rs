//! The per-user Codex client config RPCs: authorize, call the domain, convert.

use codex_central_common::{Principal, PrincipalKind, Role};
use codex_central_proto::CallContext;
use codex_central_proto::config::v1::*;
use codex_central_proto::ms_to_timestamp;
use codex_central_store::audit::Actor;
use codex_central_store::entities::client_config_entries::Model as Row;
use tonic::{Request, Response, Status};

use crate::domain::client_config::{ExportInput, ImportInput, Kind};
use crate::grpc::ConfigGrpc;

/// The user a call is about: the caller (a person, or the local admin of auth mode off), or
/// for admins (`read` also read-only ones) the user named.
fn subject(ctx: &CallContext, named: &str, read: bool) -> Result<(String, Actor), Status> {
    let p: &Principal = ctx.principal()?;
    let actor = Actor {
        principal: p.clone(),
        client_ip: ctx.client_ip_text(),
    };
    let own = match p.kind {
        PrincipalKind::User | PrincipalKind::LocalAdmin => p.id.clone(),
        PrincipalKind::ServiceToken | PrincipalKind::Host => String::new(),
    };
    if named.is_empty() || named == own {
        if own.is_empty() {
            // Authorized, but there is nobody to hold the config: a service token or a host.
            return Err(crate::Error::failed_precondition(
                "a client config belongs to a person; call with a user's session or personal token",
            )
            .into());
        }
        return Ok((own, actor));
    }
    let allowed = p.role == Role::Admin || (read && p.role == Role::ReadOnly);
    if !allowed || p.kind == PrincipalKind::Host {
        return Err(
            crate::Error::permission_denied("only admins read other users' history").into(),
        );
    }
    Ok((named.to_string(), actor))
}

fn kind_to_proto(kind: &str) -> i32 {
    (match Kind::parse(kind) {
        Some(Kind::Initial) => ClientConfigEntryKind::Initial,
        Some(Kind::Apply) => ClientConfigEntryKind::Apply,
        Some(Kind::Restore) => ClientConfigEntryKind::Restore,
        Some(Kind::Import) => ClientConfigEntryKind::Import,
        None => ClientConfigEntryKind::Unspecified,
    }) as i32
}

fn entry_to_proto(r: &Row) -> ClientConfigHistoryEntry {
    ClientConfigHistoryEntry {
        id: r.id.clone(),
        user_id: r.user_id.clone(),
        kind: kind_to_proto(&r.kind),
        provider_id: r.provider_id.clone(),
        model: r.model.clone(),
        note: r.note.clone(),
        created_at: Some(ms_to_timestamp(r.created_at)),
        has_auth_json: !r.auth_json_enc.is_empty(),
    }
}

impl ConfigGrpc {
    pub(crate) async fn do_get_client_config(
        &self,
        request: Request<GetClientConfigRequest>,
    ) -> Result<Response<GetClientConfigResponse>, Status> {
        let (user, _) = subject(&CallContext::of(&request), "", true)?;
        let s = self.client_configs.state(&user).await?;
        Ok(Response::new(GetClientConfigResponse {
            state: Some(ClientConfigState {
                provider_id: s.provider_id,
                model: s.model,
                base_url: s.base_url,
                config_toml: s.config_toml,
                latest_entry: s.latest.as_ref().map(entry_to_proto),
            }),
        }))
    }

    pub(crate) async fn do_export_client_config(
        &self,
        request: Request<ExportClientConfigRequest>,
    ) -> Result<Response<ExportClientConfigResponse>, Status> {
        let (user, actor) = subject(&CallContext::of(&request), "", false)?;
        let req = request.into_inner();
        let (bundle, entry) = self
            .client_configs
            .export(
                &actor,
                &user,
                ExportInput {
                    entry_id: req.history_entry_id.trim(),
                    api_key: req.api_key.trim(),
                    zip: req.zip,
                    provider_id: &req.provider_id,
                    model: &req.model,
                },
            )
            .await?;
        Ok(Response::new(ExportClientConfigResponse {
            bundle: Some(ClientConfigBundle {
                auth_json: bundle.auth_json,
                config_toml: bundle.config_toml,
                apply_sh: bundle.apply_sh,
                apply_ps1: bundle.apply_ps1,
                zip: bundle.zip.unwrap_or_default(),
            }),
            entry: Some(entry_to_proto(&entry)),
        }))
    }

    pub(crate) async fn do_import_client_config(
        &self,
        request: Request<ImportClientConfigRequest>,
    ) -> Result<Response<ImportClientConfigResponse>, Status> {
        let (user, actor) = subject(&CallContext::of(&request), "", false)?;
        let req = request.into_inner();
        let entry = self
            .client_configs
            .import(
                &actor,
                &user,
                ImportInput {
                    auth_json: &req.auth_json,
                    config_toml: &req.config_toml,
                    provider_id: &req.provider_id,
                    model: &req.model,
                    note: &req.note,
                },
            )
            .await?;
        Ok(Response::new(ImportClientConfigResponse {
            entry: Some(entry_to_proto(&entry)),
        }))
    }

    pub(crate) async fn do_list_client_config_history(
        &self,
        request: Request<ListClientConfigHistoryRequest>,
    ) -> Result<Response<ListClientConfigHistoryResponse>, Status> {
        let named = request.get_ref().user_id.trim().to_string();
        let (user, _) = subject(&CallContext::of(&request), &named, true)?;
        let rows = self.client_configs.history(&user).await?;
        Ok(Response::new(ListClientConfigHistoryResponse {
            entries: rows.iter().map(entry_to_proto).collect(),
        }))
    }
}
