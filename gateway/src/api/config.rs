//! `/api/v1/config/…`: the config-distribution settings, host-push proposals and the history
//! of `AGENTS.md` (the peer-shaped content routes live in `peer/`).

use axum::extract::State;
use axum::response::Response;
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::config::v1::{
    ApproveContentProposalRequest, ConfigSettings, ContentProposal, GetConfigSettingsRequest,
    HostContentPush, ListAgentsDocumentVersionsRequest, ListContentProposalsRequest, ProposalState,
    RejectContentProposalRequest, UpdateConfigSettingsRequest, content_proposal,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::plumbing::caller::Caller;
use crate::plumbing::error::ok;
use crate::plumbing::extract::{Json, Path, Q};
use crate::plumbing::views::rfc3339;
use crate::{ApiError, GatewayState};

fn push_text(p: HostContentPush) -> &'static str {
    match p {
        HostContentPush::On | HostContentPush::Unspecified => "on",
        HostContentPush::Review => "review",
        HostContentPush::Off => "off",
    }
}

pub fn settings_json(s: &ConfigSettings) -> Value {
    json!({
        "managed_mcp_enabled": s.managed_mcp_enabled,
        "default_profile": s.default_profile,
        "host_content_push": push_text(s.host_content_push()),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    managed_mcp_enabled: Option<bool>,
    default_profile: Option<String>,
    host_content_push: Option<PushMode>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum PushMode {
    On,
    Review,
    Off,
}

/// `PUT /api/v1/config/settings`: fields left out keep their values.
pub async fn put_settings(
    State(state): State<GatewayState>,
    caller: Caller,
    body: Result<Json<SettingsBody>, ApiError>,
) -> Result<Response, ApiError> {
    let Json(b) = body?;
    let mut config = state.clients().config();
    let current = config
        .get_config_settings(caller.request(&state, GetConfigSettingsRequest {}))
        .await?
        .into_inner()
        .settings
        .unwrap_or_default();
    let push = match b.host_content_push {
        None => HostContentPush::Unspecified,
        Some(PushMode::On) => HostContentPush::On,
        Some(PushMode::Review) => HostContentPush::Review,
        Some(PushMode::Off) => HostContentPush::Off,
    };
    let wanted = ConfigSettings {
        managed_mcp_enabled: b.managed_mcp_enabled.unwrap_or(current.managed_mcp_enabled),
        default_profile: b.default_profile.unwrap_or(current.default_profile),
        host_content_push: push as i32,
    };
    let res = config
        .update_config_settings(caller.request(
            &state,
            UpdateConfigSettingsRequest {
                settings: Some(wanted),
            },
        ))
        .await?
        .into_inner();
    Ok(ok(settings_json(&res.settings.unwrap_or_default())))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    page_size: u32,
    #[serde(default)]
    page_token: String,
    #[serde(default)]
    state: Option<String>,
}

fn page(q: &PageQuery) -> Option<PageRequest> {
    Some(PageRequest {
        page_size: q.page_size,
        page_token: q.page_token.clone(),
    })
}

fn proposal_json(p: &ContentProposal) -> Value {
    let state = match p.state() {
        ProposalState::Pending => "pending",
        ProposalState::Approved => "approved",
        ProposalState::Rejected => "rejected",
        ProposalState::Unspecified => "",
    };
    let (kind, item) = match &p.content {
        Some(content_proposal::Content::Prompt(prompt)) => (
            "prompt",
            json!({
                "filename": prompt.filename,
                "sha256": prompt.sha256,
                "description": prompt.description,
                "argument_hint": prompt.argument_hint,
                "prompt": prompt.body,
            }),
        ),
        Some(content_proposal::Content::Skill(skill)) => (
            "skill",
            json!({"slug": skill.slug, "sha256": skill.sha256, "manifest": skill.manifest}),
        ),
        None => ("", Value::Null),
    };
    json!({
        "id": p.id,
        "state": state,
        "kind": kind,
        "item": item,
        "host_id": p.host_id,
        "base_sha256": p.base_sha256,
        "created_at": rfc3339(p.created_at.as_ref()),
        "decided_by": p.decided_by,
        "decided_at": rfc3339(p.decided_at.as_ref()),
        "reason": p.reason,
    })
}

/// `GET /api/v1/config/proposals?state=pending`: host pushes awaiting (or past) review.
pub async fn list_proposals(
    State(state): State<GatewayState>,
    caller: Caller,
    Q(q): Q<PageQuery>,
) -> Result<Response, ApiError> {
    let wanted = match q.state.as_deref().unwrap_or("") {
        "" => ProposalState::Unspecified,
        "pending" => ProposalState::Pending,
        "approved" => ProposalState::Approved,
        "rejected" => ProposalState::Rejected,
        _ => {
            return Err(ApiError::invalid_field(
                "state",
                "state must be pending, approved or rejected",
            ));
        }
    };
    let res = state
        .clients()
        .config()
        .list_content_proposals(caller.request(
            &state,
            ListContentProposalsRequest {
                page: page(&q),
                state: wanted as i32,
            },
        ))
        .await?
        .into_inner();
    Ok(ok(json!({
        "proposals": res.proposals.iter().map(proposal_json).collect::<Vec<_>>(),
        "next_page_token": res.next_page_token,
    })))
}

/// `POST /api/v1/config/proposals/{id}/approve`: the pushed content becomes the fleet's.
pub async fn approve_proposal(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .approve_content_proposal(caller.request(&state, ApproveContentProposalRequest { id }))
        .await?
        .into_inner();
    Ok(ok(proposal_json(&res.proposal.unwrap_or_default())))
}

#[derive(Deserialize, Default)]
pub struct RejectBody {
    #[serde(default)]
    reason: String,
}

/// `POST /api/v1/config/proposals/{id}/reject` with an optional `{reason}`.
pub async fn reject_proposal(
    State(state): State<GatewayState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<RejectBody>, ApiError>,
) -> Result<Response, ApiError> {
    let reason = body.map(|Json(b)| b.reason)?;
    let res = state
        .clients()
        .config()
        .reject_content_proposal(
            caller.request(&state, RejectContentProposalRequest { id, reason }),
        )
        .await?
        .into_inner();
    Ok(ok(proposal_json(&res.proposal.unwrap_or_default())))
}

/// `GET /api/v1/config/agents/versions`: every saved version of `AGENTS.md`, newest first.
pub async fn agents_versions(
    State(state): State<GatewayState>,
    caller: Caller,
    Q(q): Q<PageQuery>,
) -> Result<Response, ApiError> {
    let res = state
        .clients()
        .config()
        .list_agents_document_versions(
            caller.request(&state, ListAgentsDocumentVersionsRequest { page: page(&q) }),
        )
        .await?
        .into_inner();
    let versions: Vec<Value> = res
        .versions
        .iter()
        .map(|v| {
            json!({
                "version": v.version,
                "sha256": (!v.sha256.is_empty()).then_some(&v.sha256),
                "size_bytes": v.size_bytes,
                "cleared": v.sha256.is_empty(),
                "updated_at": rfc3339(v.updated_at.as_ref()),
                "updated_by": v.updated_by,
            })
        })
        .collect();
    Ok(ok(json!({
        "versions": versions,
        "next_page_token": res.next_page_token,
    })))
}
