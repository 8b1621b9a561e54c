//! `codexcentral.auth.v1.CodexAuthService`: the vault of the canonical Codex auth.json, for
//! host sync and operators.

use codex_central_common::{Principal, PrincipalKind, Role};
use codex_central_proto::auth::v1::codex_auth_service_server::CodexAuthService;
use codex_central_proto::auth::v1::*;
use codex_central_proto::ms_to_timestamp;
use codex_central_proto::paging::{decode_id_token, next_page_token, page_limit};
use codex_central_proto::{CallContext, pending_rpcs};
use tonic::{Request, Response, Status};

use super::CodexAuthGrpc;
use super::codex_auth_view::{custody_proto, refresh_state, summary, timestamp};
use crate::domain::canonical::{CodexAuthSettings, Custody, Snapshot, Uploader};
use crate::domain::codex_auth::{RetrieveOutcome, StoreOutcome, masked};

/// The host id of a host principal (sync state is recorded per host).
fn host_id(principal: &Principal) -> Option<i64> {
    (principal.kind == PrincipalKind::Host)
        .then(|| principal.id.parse().ok())
        .flatten()
}

fn uploader(ctx: &CallContext) -> Result<Uploader, Status> {
    let p = ctx.principal()?;
    if !matches!(p.role, Role::Admin | Role::Host) {
        return Err(Status::from(crate::Error::permission_denied(
            "only hosts and admins can store auth.json",
        )));
    }
    Ok(Uploader::person(p.clone(), ctx.client_ip_text()))
}

/// What a host's sync answer says about the canonical copy: the form hosts receive, its expiry
/// and the server's refresh state.
struct HostView {
    digest: String,
    last_refresh: Option<prost_types::Timestamp>,
    last_refresh_text: String,
    expires_at: Option<prost_types::Timestamp>,
    refresh: CodexAuthRefreshState,
}

impl CodexAuthGrpc {
    fn host_view(&self, snapshot: &Snapshot) -> HostView {
        let current = snapshot.current.as_deref();
        let (_, digest) = snapshot.served().unwrap_or_default();
        HostView {
            digest: digest.to_string(),
            last_refresh: current.map(|c| timestamp(c.at)),
            last_refresh_text: current.map(|c| c.last_refresh.clone()).unwrap_or_default(),
            expires_at: current.and_then(|c| c.expires_at).map(timestamp),
            refresh: refresh_state(
                current,
                &snapshot.lifecycle,
                self.refresher.settings().policy,
            ),
        }
    }

    async fn summary(&self) -> Result<CodexAuthSummary, Status> {
        let stored = self.vault.stored().await?;
        let lifecycle = self.vault.lifecycle().await?;
        let settings = self.vault.settings().await?;
        Ok(summary(
            stored.as_ref(),
            &lifecycle,
            settings.refresh_token_custody,
            self.refresher.settings().policy,
        ))
    }
}

#[tonic::async_trait]
impl CodexAuthService for CodexAuthGrpc {
    async fn retrieve_codex_auth(
        &self,
        request: Request<RetrieveCodexAuthRequest>,
    ) -> Result<Response<RetrieveCodexAuthResponse>, Status> {
        let ctx = CallContext::of(&request);
        let principal = ctx.principal()?;
        if !matches!(principal.role, Role::Admin | Role::Host) {
            return Err(Status::from(crate::Error::permission_denied(
                "only hosts and admins can retrieve auth.json",
            )));
        }
        let req = request.into_inner();
        let answer = self
            .vault
            .retrieve(host_id(principal), &req.digest, &req.last_refresh)
            .await?;
        let status = match answer.outcome {
            RetrieveOutcome::Missing => RetrieveCodexAuthStatus::Missing,
            RetrieveOutcome::Valid => RetrieveCodexAuthStatus::Valid,
            RetrieveOutcome::UploadRequired => RetrieveCodexAuthStatus::UploadRequired,
            RetrieveOutcome::Outdated => RetrieveCodexAuthStatus::Outdated,
        };
        let v = self.host_view(&answer.snapshot);
        Ok(Response::new(RetrieveCodexAuthResponse {
            status: status as i32,
            auth_json: (answer.outcome == RetrieveOutcome::Outdated)
                .then(|| served_text(&answer.snapshot)),
            canonical_digest: v.digest,
            canonical_last_refresh: v.last_refresh,
            canonical_last_refresh_text: v.last_refresh_text,
            access_token_expires_at: v.expires_at,
            refresh: Some(v.refresh),
        }))
    }

    async fn store_codex_auth(
        &self,
        request: Request<StoreCodexAuthRequest>,
    ) -> Result<Response<StoreCodexAuthResponse>, Status> {
        let ctx = CallContext::of(&request);
        let who = uploader(&ctx)?;
        let host = ctx.principal.as_ref().and_then(host_id);
        let answer = self
            .vault
            .store(&who, host, &request.into_inner().auth_json)
            .await?;
        let status = match answer.outcome {
            StoreOutcome::Updated => StoreCodexAuthStatus::Updated,
            StoreOutcome::Unchanged => StoreCodexAuthStatus::Unchanged,
            StoreOutcome::Outdated => StoreCodexAuthStatus::Outdated,
        };
        if answer.outcome == StoreOutcome::Updated {
            self.validator.after_store();
        }
        let v = self.host_view(&answer.snapshot);
        Ok(Response::new(StoreCodexAuthResponse {
            status: status as i32,
            auth_json: (answer.outcome != StoreOutcome::Unchanged)
                .then(|| served_text(&answer.snapshot)),
            canonical_digest: v.digest,
            canonical_last_refresh: v.last_refresh,
            validation: None,
            runner_applied: false,
            canonical_last_refresh_text: v.last_refresh_text,
            access_token_expires_at: v.expires_at,
            refresh: Some(v.refresh),
        }))
    }

    async fn upload_codex_auth(
        &self,
        request: Request<UploadCodexAuthRequest>,
    ) -> Result<Response<UploadCodexAuthResponse>, Status> {
        let ctx = CallContext::of(&request);
        let via_seed_link = request.get_ref().via_seed_link;
        // Admins upload directly; the gateway uploads for a seed link it has just consumed
        // (an internal call without a principal that says so). Hosts use StoreCodexAuth.
        let who = match ctx.principal.as_ref() {
            Some(p) if p.role == Role::Admin => Uploader::person(p.clone(), ctx.client_ip_text()),
            None if ctx.internal && via_seed_link => Uploader::seed_link(ctx.client_ip_text()),
            Some(_) => {
                return Err(Status::from(crate::Error::permission_denied(
                    "admin access required",
                )));
            }
            None => {
                return Err(Status::from(crate::Error::unauthenticated(
                    "authentication required",
                )));
            }
        };
        let req = request.into_inner();
        if req.dry_run {
            let doc = self.vault.validate(&req.auth_json)?;
            return Ok(Response::new(UploadCodexAuthResponse {
                status: StoreCodexAuthStatus::Unspecified as i32,
                canonical_digest: doc.digest,
                canonical_last_refresh: Some(timestamp(doc.last_refresh_at)),
                summary: None,
            }));
        }
        let answer = self.vault.store(&who, None, &req.auth_json).await?;
        let status = match answer.outcome {
            StoreOutcome::Updated => StoreCodexAuthStatus::Updated,
            StoreOutcome::Unchanged => StoreCodexAuthStatus::Unchanged,
            StoreOutcome::Outdated => StoreCodexAuthStatus::Outdated,
        };
        if answer.outcome == StoreOutcome::Updated {
            self.validator.after_store();
        }
        let current = answer.snapshot.current;
        Ok(Response::new(UploadCodexAuthResponse {
            status: status as i32,
            canonical_digest: current
                .as_ref()
                .map(|c| c.digest.clone())
                .unwrap_or_default(),
            canonical_last_refresh: current.as_ref().map(|c| timestamp(c.at)),
            summary: Some(self.summary().await?),
        }))
    }

    async fn get_codex_auth_status(
        &self,
        request: Request<GetCodexAuthStatusRequest>,
    ) -> Result<Response<GetCodexAuthStatusResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        Ok(Response::new(GetCodexAuthStatusResponse {
            summary: Some(self.summary().await?),
        }))
    }

    async fn reveal_codex_auth(
        &self,
        request: Request<RevealCodexAuthRequest>,
    ) -> Result<Response<RevealCodexAuthResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let admin = if req.masked {
            ctx.require_admin_read()?.clone()
        } else {
            ctx.require_admin()?.clone()
        };
        let Some(current) = self.vault.current().await? else {
            return Err(Status::from(crate::Error::not_found(
                "no canonical auth.json yet",
            )));
        };
        let auth_json = if req.masked {
            masked(&current.text)
        } else {
            self.vault
                .audit_reveal(&admin, &ctx.client_ip_text(), &req.reason, &current.digest)
                .await?;
            current.text.clone()
        };
        Ok(Response::new(RevealCodexAuthResponse {
            auth_json,
            digest: current.digest.clone(),
            last_refresh: current.last_refresh.clone(),
        }))
    }

    async fn list_host_auth_states(
        &self,
        request: Request<ListHostAuthStatesRequest>,
    ) -> Result<Response<ListHostAuthStatesResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let req = request.into_inner();
        let host_id = match req.host_id.trim() {
            "" => None,
            id => Some(id.parse::<i64>().map_err(|_| {
                Status::from(crate::Error::invalid(
                    "host_id",
                    "host_id must be a host id, or empty for every host",
                ))
            })?),
        };
        // Hosts hold what they were served (the custody form), so that is what they match.
        let canonical = self
            .vault
            .snapshot()
            .await?
            .served()
            .map(|(_, digest)| digest.to_string())
            .unwrap_or_default();
        let page = req.page.unwrap_or_default();
        let limit = page_limit(page.page_size);
        let (rows, next_page_token) = match host_id {
            Some(id) => (
                self.vault.sync_state(id).await?.into_iter().collect(),
                String::new(),
            ),
            None => {
                let after = decode_id_token(&page.page_token)?;
                let rows = self.vault.sync_states(after, limit).await?;
                let next = next_page_token(&rows, limit, |r| r.host_id);
                (rows, next)
            }
        };
        let states = rows
            .into_iter()
            .map(|s| HostAuthState {
                host_id: s.host_id.to_string(),
                in_sync: !canonical.is_empty() && s.seen_digest == canonical,
                recent_digests: vec![s.seen_digest.clone()],
                seen_digest: s.seen_digest,
                seen_at: Some(ms_to_timestamp(s.seen_at)),
            })
            .collect();
        Ok(Response::new(ListHostAuthStatesResponse {
            states,
            next_page_token,
            canonical_digest: canonical,
        }))
    }

    async fn refresh_codex_auth(
        &self,
        request: Request<RefreshCodexAuthRequest>,
    ) -> Result<Response<RefreshCodexAuthResponse>, Status> {
        let ctx = CallContext::of(&request);
        let by = if ctx.internal && ctx.principal.is_none() {
            None
        } else {
            Some(Uploader::person(
                ctx.require_admin()?.clone(),
                ctx.client_ip_text(),
            ))
        };
        let outcome = self
            .refresher
            .run(request.get_ref().force, by.as_ref())
            .await?;
        Ok(Response::new(RefreshCodexAuthResponse {
            refreshed: outcome == crate::domain::refresh::Outcome::Refreshed,
            summary: Some(self.summary().await?),
            outcome: outcome.as_str().into(),
        }))
    }

    async fn get_codex_auth_settings(
        &self,
        request: Request<GetCodexAuthSettingsRequest>,
    ) -> Result<Response<GetCodexAuthSettingsResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let settings = self.vault.settings().await?;
        Ok(Response::new(GetCodexAuthSettingsResponse {
            settings: Some(settings_proto(settings)),
        }))
    }

    async fn update_codex_auth_settings(
        &self,
        request: Request<UpdateCodexAuthSettingsRequest>,
    ) -> Result<Response<UpdateCodexAuthSettingsResponse>, Status> {
        let ctx = CallContext::of(&request);
        let admin = ctx.require_admin()?.clone();
        let wanted = request.into_inner().settings.unwrap_or_default();
        let custody = match RefreshTokenCustody::try_from(wanted.refresh_token_custody) {
            Ok(RefreshTokenCustody::Server) => Custody::Server,
            Ok(RefreshTokenCustody::Shared) => Custody::Shared,
            _ => {
                return Err(Status::from(crate::Error::invalid(
                    "settings.refresh_token_custody",
                    "must be server or shared",
                )));
            }
        };
        let settings = self
            .vault
            .set_settings(
                &admin,
                &ctx.client_ip_text(),
                CodexAuthSettings {
                    refresh_token_custody: custody,
                },
            )
            .await?;
        Ok(Response::new(UpdateCodexAuthSettingsResponse {
            settings: Some(settings_proto(settings)),
        }))
    }

    async fn validate_codex_auth(
        &self,
        request: Request<ValidateCodexAuthRequest>,
    ) -> Result<Response<ValidateCodexAuthResponse>, Status> {
        let ctx = CallContext::of(&request);
        if !(ctx.internal && ctx.principal.is_none()) {
            ctx.require_admin()?;
        }
        // A validation already running in this process answers for this call too.
        self.validator.validate(request.get_ref().run_probe).await?;
        let summary = self.summary().await?;
        Ok(Response::new(ValidateCodexAuthResponse {
            validation: summary.last_validation.clone(),
            summary: Some(summary),
        }))
    }

    async fn poll_chat_gpt_usage(
        &self,
        request: Request<PollChatGptUsageRequest>,
    ) -> Result<Response<PollChatGptUsageResponse>, Status> {
        let ctx = CallContext::of(&request);
        let poll = request.get_ref().poll;
        // Reading the cooldown is a view; calling upstream with the fleet's token is not.
        if poll {
            ctx.require_admin()?;
        } else {
            ctx.require_admin_read()?;
        }
        let report = if poll {
            self.chatgpt_usage.poll().await?
        } else {
            self.chatgpt_usage.report().await?
        };
        Ok(Response::new(PollChatGptUsageResponse {
            outcome: report.outcome,
            next_eligible_at: report.next_eligible_at.map(ms_to_timestamp),
            polled_at: report.polled_at.map(ms_to_timestamp),
            message: report.message,
        }))
    }

    pending_rpcs! {
        delete_codex_auth(DeleteCodexAuthRequest) -> DeleteCodexAuthResponse;
    }
}

/// The document as hosts receive it.
fn served_text(snapshot: &Snapshot) -> String {
    snapshot
        .served()
        .map(|(text, _)| text.to_string())
        .unwrap_or_default()
}

fn settings_proto(s: CodexAuthSettings) -> codex_central_proto::auth::v1::CodexAuthSettings {
    codex_central_proto::auth::v1::CodexAuthSettings {
        refresh_token_custody: custody_proto(s.refresh_token_custody) as i32,
    }
}
