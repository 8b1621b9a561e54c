//! `codexcentral.auth.v1.CodexAuthService`: the vault of the canonical Codex auth.json, for
//! host sync and operators.

use codex_central_common::{Principal, PrincipalKind, Role};
use codex_central_proto::auth::v1::codex_auth_service_server::CodexAuthService;
use codex_central_proto::auth::v1::*;
use codex_central_proto::ms_to_timestamp;
use codex_central_proto::{CallContext, pending_rpcs};
use tonic::{Request, Response, Status};

use super::CodexAuthGrpc;
use crate::domain::canonical::{Stored, Uploader};
use crate::domain::codex_auth::{
    Mode, RefreshPolicy, RetrieveOutcome, StoreOutcome, claims, mask_secret, masked, next_refresh,
};

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

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
    Ok(Uploader {
        principal: Some(p.clone()),
        client_ip: ctx.client_ip_text(),
    })
}

/// The operators' view of the canonical copy: its claims (account and user ids masked), the
/// planned refresh and the document with every token masked.
fn summary(s: &Stored, policy: RefreshPolicy) -> CodexAuthSummary {
    let c = claims(&s.current.text);
    let mask_id = |id: &str| {
        if id.is_empty() {
            String::new()
        } else {
            mask_secret(id)
        }
    };
    CodexAuthSummary {
        present: true,
        digest: s.current.digest.clone(),
        last_refresh: Some(timestamp(s.current.at)),
        stored_at: Some(ms_to_timestamp(s.stored_at)),
        source_host_id: s
            .source
            .strip_prefix("host:")
            .unwrap_or_default()
            .to_string(),
        claims: Some(CodexAuthClaims {
            mode: match c.mode {
                Mode::ApiKey => CodexAuthMode::ApiKey,
                Mode::ChatGpt => CodexAuthMode::Chatgpt,
                Mode::Unknown => CodexAuthMode::Unspecified,
            } as i32,
            email: c.email.clone(),
            plan_type: c.plan_type.clone(),
            account_id: mask_id(&c.account_id),
            chatgpt_user_id: mask_id(&c.chatgpt_user_id),
            access_token_expires_at: c.access_expires_at.map(timestamp),
            id_token_expires_at: c.id_expires_at.map(timestamp),
        }),
        last_validation: None,
        refresh: Some(CodexAuthRefreshState {
            next_due_at: next_refresh(&c, s.current.at, policy).map(timestamp),
            ..Default::default()
        }),
        masked_auth_json: masked(&s.current.text),
        last_refresh_text: s.current.last_refresh.clone(),
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
        let current = answer.current;
        Ok(Response::new(RetrieveCodexAuthResponse {
            status: status as i32,
            canonical_digest: current
                .as_ref()
                .map(|c| c.digest.clone())
                .unwrap_or_default(),
            canonical_last_refresh: current.as_ref().map(|c| timestamp(c.at)),
            auth_json: (answer.outcome == RetrieveOutcome::Outdated)
                .then(|| current.as_ref().map(|c| c.text.clone()))
                .flatten(),
            canonical_last_refresh_text: current
                .map(|c| c.last_refresh.clone())
                .unwrap_or_default(),
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
        let current = answer.current;
        Ok(Response::new(StoreCodexAuthResponse {
            status: status as i32,
            canonical_digest: current
                .as_ref()
                .map(|c| c.digest.clone())
                .unwrap_or_default(),
            canonical_last_refresh: current.as_ref().map(|c| timestamp(c.at)),
            auth_json: (answer.outcome != StoreOutcome::Unchanged)
                .then(|| current.as_ref().map(|c| c.text.clone()))
                .flatten(),
            validation: None,
            runner_applied: false,
            canonical_last_refresh_text: current
                .map(|c| c.last_refresh.clone())
                .unwrap_or_default(),
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
            Some(p) if p.role == Role::Admin => Uploader {
                principal: Some(p.clone()),
                client_ip: ctx.client_ip_text(),
            },
            None if ctx.internal && via_seed_link => Uploader {
                principal: None,
                client_ip: ctx.client_ip_text(),
            },
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
        Ok(Response::new(UploadCodexAuthResponse {
            status: status as i32,
            canonical_digest: answer
                .current
                .as_ref()
                .map(|c| c.digest.clone())
                .unwrap_or_default(),
            canonical_last_refresh: answer.current.as_ref().map(|c| timestamp(c.at)),
            summary: None,
        }))
    }

    async fn get_codex_auth_status(
        &self,
        request: Request<GetCodexAuthStatusRequest>,
    ) -> Result<Response<GetCodexAuthStatusResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let summary = match self.vault.stored().await? {
            None => CodexAuthSummary::default(),
            Some(s) => summary(&s, RefreshPolicy::default()),
        };
        Ok(Response::new(GetCodexAuthStatusResponse {
            summary: Some(summary),
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
        let host_id: i64 = req.host_id.trim().parse().map_err(|_| {
            Status::from(crate::Error::invalid(
                "host_id",
                "host_id is required and must be a host id",
            ))
        })?;
        let canonical = self
            .vault
            .current()
            .await?
            .map(|c| c.digest.clone())
            .unwrap_or_default();
        let states = self
            .vault
            .sync_state(host_id)
            .await?
            .map(|s| HostAuthState {
                host_id: s.host_id.to_string(),
                in_sync: !canonical.is_empty() && s.seen_digest == canonical,
                recent_digests: vec![s.seen_digest.clone()],
                seen_digest: s.seen_digest,
                seen_at: Some(ms_to_timestamp(s.seen_at)),
            })
            .into_iter()
            .collect();
        Ok(Response::new(ListHostAuthStatesResponse {
            states,
            next_page_token: String::new(),
            canonical_digest: canonical,
        }))
    }

    pending_rpcs! {
        delete_codex_auth(DeleteCodexAuthRequest) -> DeleteCodexAuthResponse;
        refresh_codex_auth(RefreshCodexAuthRequest) -> RefreshCodexAuthResponse;
        validate_codex_auth(ValidateCodexAuthRequest) -> ValidateCodexAuthResponse;
    }
}
