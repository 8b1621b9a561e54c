//! `GET /api/openapi.json`: an OpenAPI 3.1 description of the JSON APIs (`/api/v1`, `/v1`) and
//! the host API, built from one table so the document and the routes are checked together
//! (a test calls every operation listed here and expects a route behind it).

use axum::Json;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

/// Who may call an operation. The gateway enforces it before any body is read (see
/// `access.rs`); the services authorize every call again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// No credential (the token in the path or the form is the credential, if any).
    Open,
    /// A host key (`X-API-Key` or `Authorization: Bearer`).
    Host,
    /// Any signed-in principal (person, token).
    Member,
    /// Admins and read-only service tokens.
    AdminRead,
    Admin,
}

impl Access {
    pub fn name(self) -> &'static str {
        match self {
            Access::Open => "open",
            Access::Host => "host",
            Access::Member => "member",
            Access::AdminRead => "admin-read",
            Access::Admin => "admin",
        }
    }
}

/// The access of the operation at a route pattern (`/admin/hosts/{id}`), if it is listed.
pub fn access_of(method: &str, path: &str) -> Option<Access> {
    OPERATIONS
        .iter()
        .find(|o| o.path == path && o.method.eq_ignore_ascii_case(method))
        .map(|o| o.access)
}

pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
}

const fn op(method: &'static str, path: &'static str, access: Access, summary: &'static str) -> Op {
    Op {
        method,
        path,
        summary,
        access,
    }
}

pub const OPERATIONS: &[Op] = &[
    op(
        "get",
        "/api/v1/whoami",
        Access::Member,
        "The caller's principal.",
    ),
    op(
        "get",
        "/api/v1/service-tokens",
        Access::AdminRead,
        "List service tokens (keyset pagination).",
    ),
    op(
        "post",
        "/api/v1/service-tokens",
        Access::Admin,
        "Create a service token; the secret is returned once.",
    ),
    op(
        "delete",
        "/api/v1/service-tokens/{id}",
        Access::Admin,
        "Revoke a service token.",
    ),
    op(
        "get",
        "/api/v1/audit",
        Access::AdminRead,
        "Audit events with filters (keyset pagination).",
    ),
    op(
        "get",
        "/api/v1/fleet/policy",
        Access::AdminRead,
        "Fleet policy (kill switch, silent mode, prune window, Codex version).",
    ),
    op(
        "get",
        "/api/v1/usage/quota-policy",
        Access::AdminRead,
        "Quota policy.",
    ),
    op(
        "get",
        "/api/v1/config/settings",
        Access::AdminRead,
        "Config-distribution settings (managed MCP entry, default profile, host_content_push).",
    ),
    op(
        "put",
        "/api/v1/config/settings",
        Access::Admin,
        "Change config-distribution settings; fields left out keep their values.",
    ),
    op(
        "get",
        "/api/v1/config/proposals",
        Access::AdminRead,
        "Prompts and skills hosts pushed for review (?state=pending|approved|rejected, paged).",
    ),
    op(
        "post",
        "/api/v1/config/proposals/{id}/approve",
        Access::Admin,
        "Approve a proposal: its content becomes the fleet's copy.",
    ),
    op(
        "post",
        "/api/v1/config/proposals/{id}/reject",
        Access::Admin,
        "Reject a proposal ({reason}).",
    ),
    op(
        "get",
        "/api/v1/config/agents/versions",
        Access::AdminRead,
        "Every saved version of AGENTS.md, newest first (paged).",
    ),
    op(
        "get",
        "/api/v1/memory/settings",
        Access::AdminRead,
        "Memory store settings.",
    ),
    op(
        "post",
        "/admin/setup",
        Access::Open,
        "First-run setup: {username, password, display_name?} creates the first admin and signs in (201 data.user, data.csrf_token, session cookie); 409 once any user exists.",
    ),
    op(
        "post",
        "/admin/login",
        Access::Open,
        "Sign in: {username, password} -> data.user, data.csrf_token and the session cookie; 401 bad credentials, 429 with Retry-After when locked out.",
    ),
    op(
        "post",
        "/admin/logout",
        Access::Open,
        "Sign out (cookie callers send X-CSRF-Token).",
    ),
    op(
        "post",
        "/admin/register",
        Access::Open,
        "Open registration: creates a member and signs in (403 when registration is closed).",
    ),
    op(
        "get",
        "/api/v1/account",
        Access::Member,
        "The signed-in user, the auth mode and (cookie callers) a CSRF token for X-CSRF-Token.",
    ),
    op(
        "get",
        "/api/v1/account/tokens",
        Access::Member,
        "The caller's personal API tokens (include_revoked, keyset pagination).",
    ),
    op(
        "post",
        "/api/v1/account/tokens",
        Access::Member,
        "Create a personal token {name?, models?, expires_at?, rpm?, tpm?, budget?: {period, micros, alert_percent?}} (or the policy nested under policy); 201 data: {id, name, token (the m2c_ secret, shown once), prefix, created_at, ...policy}.",
    ),
    op(
        "patch",
        "/api/v1/account/tokens/{id}",
        Access::Member,
        "Replace a token's policy {policy: {allowed_models, requests_per_minute, tokens_per_minute, budget_period, budget_micros, budget_alert_percent}}.",
    ),
    op(
        "delete",
        "/api/v1/account/tokens/{id}",
        Access::Member,
        "Revoke one of the caller's tokens.",
    ),
    op(
        "get",
        "/api/v1/account/byok",
        Access::Member,
        "The caller's own upstream keys (masked suffix and status only).",
    ),
    op(
        "put",
        "/api/v1/account/byok/{provider}",
        Access::Member,
        "Store the caller's key {api_key} for an upstream provider (encrypted; listed only as masked).",
    ),
    op(
        "delete",
        "/api/v1/account/byok/{provider}",
        Access::Member,
        "Delete the caller's key for a provider.",
    ),
    op(
        "get",
        "/api/v1/oauth/providers",
        Access::AdminRead,
        "Sign-in providers (GitHub, Gitee, OpenID Connect) with their callback URLs; secrets are never returned.",
    ),
    op(
        "post",
        "/api/v1/oauth/providers",
        Access::Admin,
        "Add a sign-in provider {name, kind: github|gitee|oidc, client_id, client_secret, issuer_url (OIDC issuer, or a GitHub Enterprise / Gitee base URL), scopes?, display_name?, enabled?}.",
    ),
    op(
        "get",
        "/api/v1/oauth/providers/{name}",
        Access::AdminRead,
        "One sign-in provider.",
    ),
    op(
        "put",
        "/api/v1/oauth/providers/{name}",
        Access::Admin,
        "Edit a sign-in provider; absent fields and a blank client_secret keep their values.",
    ),
    op(
        "delete",
        "/api/v1/oauth/providers/{name}",
        Access::Admin,
        "Remove a sign-in provider.",
    ),
    op(
        "get",
        "/api/v1/account/links",
        Access::Member,
        "The caller's linked sign-in accounts.",
    ),
    op(
        "get",
        "/api/v1/account/links/{provider}",
        Access::Member,
        "The caller's link to one provider.",
    ),
    op(
        "delete",
        "/api/v1/account/links/{provider}",
        Access::Member,
        "Unlink a sign-in account (never the last way to sign in: 409).",
    ),
    op(
        "get",
        "/api/v1/settings/registration",
        Access::Admin,
        "Whether open registration is on.",
    ),
    op(
        "put",
        "/api/v1/settings/registration",
        Access::Admin,
        "Turn open registration on or off {open_registration}.",
    ),
    op(
        "get",
        "/api/v1/users",
        Access::AdminRead,
        "People's accounts (?q=, include_disabled, keyset pagination by username).",
    ),
    op(
        "post",
        "/api/v1/users",
        Access::Admin,
        "Create a user: username, password (at least 8 characters), display_name, role admin|member.",
    ),
    op("get", "/api/v1/users/{id}", Access::AdminRead, "One user."),
    op(
        "patch",
        "/api/v1/users/{id}",
        Access::Admin,
        "Change a user's display_name.",
    ),
    op(
        "delete",
        "/api/v1/users/{id}",
        Access::Admin,
        "Delete a user (never the last enabled admin: 409).",
    ),
    op(
        "post",
        "/api/v1/users/{id}/role",
        Access::Admin,
        "Set role admin|member (never demoting the last enabled admin: 409).",
    ),
    op(
        "post",
        "/api/v1/users/{id}/enabled",
        Access::Admin,
        "Enable or disable a user (never the last enabled admin: 409).",
    ),
    op(
        "post",
        "/api/v1/users/{id}/password",
        Access::Admin,
        "Set a user's password.",
    ),
    op(
        "get",
        "/api/v1/providers",
        Access::AdminRead,
        "Upstream providers of the /v1 gateway (keys shown as a suffix only).",
    ),
    op(
        "post",
        "/api/v1/providers",
        Access::Admin,
        "Add a provider: name, kind, base_url, wire_api, models, api_key (write-only), enabled.",
    ),
    op(
        "get",
        "/api/v1/providers/{name}",
        Access::AdminRead,
        "One provider.",
    ),
    op(
        "put",
        "/api/v1/providers/{name}",
        Access::Admin,
        "Replace a provider's settings; a blank api_key keeps the stored one, clear_api_key removes it.",
    ),
    op(
        "delete",
        "/api/v1/providers/{name}",
        Access::Admin,
        "Remove a provider.",
    ),
    op(
        "get",
        "/api/v1/account/override",
        Access::Member,
        "The caller's runtime override (provider + model), or null.",
    ),
    op(
        "put",
        "/api/v1/account/override",
        Access::Member,
        "Route every /v1 call of the caller to this provider and model until reset.",
    ),
    op(
        "delete",
        "/api/v1/account/override",
        Access::Member,
        "Reset the caller's runtime override.",
    ),
    op(
        "get",
        "/api/v1/requests",
        Access::Member,
        "The /v1 request log (admins: all; others: their own; keyset pagination).",
    ),
    op(
        "get",
        "/v1/models",
        Access::Member,
        "Models the caller may use (OpenAI list shape).",
    ),
    op(
        "post",
        "/v1/responses",
        Access::Member,
        "OpenAI Responses API, streaming or not, routed to the model's provider.",
    ),
    op(
        "post",
        "/v1/chat/completions",
        Access::Member,
        "OpenAI Chat Completions API, streaming or not, routed to the model's provider.",
    ),
    op(
        "post",
        "/auth",
        Access::Host,
        "Retrieve or store the canonical auth.json (codex-orchestrator compatible).",
    ),
    op(
        "delete",
        "/auth",
        Access::Host,
        "Deregister the calling host (?force=1 from a new IP).",
    ),
    op(
        "get",
        "/versions",
        Access::Open,
        "Fleet versions and policy flags.",
    ),
    op(
        "post",
        "/host/users",
        Access::Host,
        "Record a local user running Codex on the host.",
    ),
    op(
        "post",
        "/usage",
        Access::Host,
        "Report token usage (a Codex summary line or numbers, or {usages:[…]}).",
    ),
    op(
        "get",
        "/wrapper",
        Access::Host,
        "The wrapper release for ?platform= (or ?os=&arch=).",
    ),
    op(
        "get",
        "/wrapper/download",
        Access::Host,
        "Download that wrapper (X-SHA256, ETag).",
    ),
    op(
        "post",
        "/agents/retrieve",
        Access::Host,
        "Sync AGENTS.md: missing, unchanged or updated (+content), given the host's sha256.",
    ),
    op(
        "get",
        "/slash-commands",
        Access::Host,
        "Every slash-command prompt (retired ones with deleted_at), without bodies.",
    ),
    op(
        "post",
        "/slash-commands/retrieve",
        Access::Host,
        "Sync one prompt: missing, deleted, unchanged or updated (+prompt).",
    ),
    op(
        "post",
        "/slash-commands/store",
        Access::Host,
        "Push a new or edited prompt (host_content_push: on, review → 202, off → 403).",
    ),
    op(
        "get",
        "/skills",
        Access::Host,
        "Every skill (retired ones with deleted_at), without content.",
    ),
    op(
        "post",
        "/skills/retrieve",
        Access::Host,
        "Sync one skill: missing, deleted, unchanged or updated (+manifest, files).",
    ),
    op(
        "post",
        "/skills/store",
        Access::Host,
        "Push a new or edited skill (host_content_push: on, review → 202, off → 403).",
    ),
    op(
        "get",
        "/admin/skills",
        Access::AdminRead,
        "Every skill, retired ones included, without content.",
    ),
    op(
        "get",
        "/admin/skills/{slug}",
        Access::AdminRead,
        "One live skill with its SKILL.md and files.",
    ),
    op(
        "post",
        "/admin/skills/store",
        Access::Admin,
        "Create or edit a skill ({slug, manifest, files[{path, content_base64}], expected_sha256?}).",
    ),
    op(
        "delete",
        "/admin/skills/{slug}",
        Access::Admin,
        "Retire a skill; hosts delete it on their next sync.",
    ),
    op(
        "get",
        "/admin/agents",
        Access::AdminRead,
        "The fleet's AGENTS.md (status ok or missing).",
    ),
    op(
        "post",
        "/admin/agents/store",
        Access::Admin,
        "Save AGENTS.md ({content, sha256?}: sha256 is the copy edited; 409 when stale).",
    ),
    op(
        "delete",
        "/admin/agents",
        Access::Admin,
        "Clear AGENTS.md; hosts remove their copies.",
    ),
    op(
        "get",
        "/admin/slash-commands",
        Access::AdminRead,
        "Every prompt, retired ones included, without bodies.",
    ),
    op(
        "get",
        "/admin/slash-commands/{filename}",
        Access::AdminRead,
        "One live prompt with its body.",
    ),
    op(
        "post",
        "/admin/slash-commands/store",
        Access::Admin,
        "Create or edit a prompt ({filename, prompt, description, argument_hint, expected_sha256?}).",
    ),
    op(
        "delete",
        "/admin/slash-commands/{filename}",
        Access::Admin,
        "Retire a prompt; hosts delete it on their next sync.",
    ),
    op(
        "get",
        "/admin/api/state",
        Access::Admin,
        "The kill switch: whether host routes answer.",
    ),
    op(
        "post",
        "/admin/api/state",
        Access::Admin,
        "Turn the host API on or off.",
    ),
    op(
        "post",
        "/admin/cdx-silent",
        Access::Admin,
        "Silent mode for cdx.",
    ),
    op(
        "get",
        "/admin/quota-mode",
        Access::Admin,
        "ChatGPT quota policy.",
    ),
    op(
        "post",
        "/admin/quota-mode",
        Access::Admin,
        "Set the ChatGPT quota policy.",
    ),
    op(
        "post",
        "/admin/prune-policy",
        Access::Admin,
        "Days of inactivity before hosts are pruned.",
    ),
    op(
        "get",
        "/admin/overview",
        Access::AdminRead,
        "Fleet totals, canonical auth, versions, policy.",
    ),
    op(
        "get",
        "/admin/logs",
        Access::AdminRead,
        "The audit log in the peer's shape.",
    ),
    op("get", "/admin/hosts", Access::AdminRead, "List hosts."),
    op(
        "get",
        "/admin/hosts/insecure",
        Access::AdminRead,
        "Hosts with an insecure window.",
    ),
    op(
        "post",
        "/admin/hosts/register",
        Access::Admin,
        "Register a host; returns its key and installer.",
    ),
    op(
        "post",
        "/admin/hosts/prune",
        Access::Admin,
        "Prune inactive hosts now.",
    ),
    op("get", "/admin/hosts/{id}", Access::AdminRead, "One host."),
    op(
        "delete",
        "/admin/hosts/{id}",
        Access::Admin,
        "Remove a host.",
    ),
    op(
        "get",
        "/admin/hosts/{id}/auth",
        Access::AdminRead,
        "A host's auth.json sync state.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/roaming",
        Access::Admin,
        "Allow roaming IPs.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/secure",
        Access::Admin,
        "Mark a host secure or insecure.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/vip",
        Access::Admin,
        "Exempt a host from quota hard failure.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/ipv4",
        Access::Admin,
        "Force IPv4.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/curl-insecure",
        Access::Admin,
        "Let the installer skip TLS checks.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/enabled",
        Access::Admin,
        "Enable or disable a host.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/insecure/enable",
        Access::Admin,
        "Open an insecure window.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/insecure/disable",
        Access::Admin,
        "Close the insecure window.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/model",
        Access::Admin,
        "Model and reasoning overrides.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/codex-version",
        Access::Admin,
        "Pin a host's Codex version.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/clear",
        Access::Admin,
        "Clear a host's sync state.",
    ),
    op(
        "post",
        "/admin/hosts/{id}/rotate",
        Access::Admin,
        "Rotate a host's key.",
    ),
    op(
        "post",
        "/admin/auth/upload",
        Access::Admin,
        "Upload the canonical auth.json.",
    ),
    op(
        "post",
        "/admin/auth/seed-command",
        Access::Admin,
        "A single-use seed link and command.",
    ),
    op(
        "post",
        "/admin/codex-version",
        Access::Admin,
        "The fleet's Codex version selection.",
    ),
    op(
        "post",
        "/admin/versions/check",
        Access::Admin,
        "Read the latest Codex release now.",
    ),
    op(
        "get",
        "/admin/wrappers",
        Access::AdminRead,
        "Wrapper releases.",
    ),
    op(
        "post",
        "/admin/wrappers",
        Access::Admin,
        "Publish a wrapper release (multipart, up to 64 MiB).",
    ),
    op(
        "delete",
        "/admin/wrappers/{platform}/{version}",
        Access::Admin,
        "Delete a wrapper release.",
    ),
    op(
        "get",
        "/install/{token}",
        Access::Open,
        "The installer script (single use; the token is the credential).",
    ),
    op(
        "get",
        "/seed/auth/{token}",
        Access::Open,
        "The seed upload script.",
    ),
    op(
        "post",
        "/seed/auth/{token}",
        Access::Open,
        "Upload auth.json through a seed link (single use).",
    ),
    op("get", "/api/openapi.json", Access::Open, "This document."),
];

fn security(access: Access) -> Value {
    match access {
        Access::Open => json!([]),
        Access::Host => json!([{"hostKey": []}, {"bearer": []}]),
        Access::Member | Access::AdminRead | Access::Admin => json!([{"bearer": []}]),
    }
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let params: Vec<Value> = o
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut operation = json!({
            "summary": o.summary,
            "security": security(o.access),
            "responses": {
                "200": {"description": "Success: {\"status\":\"ok\",\"data\":…} (the /v1 routes answer in OpenAI's shapes)."},
                "4XX": {"description": "Error: {\"status\":\"error\",\"message\",\"code\"} with `errors` on 422 (/v1: {\"error\":{\"message\",\"type\",\"code\"}})."}
            },
        });
        if let Some(obj) = operation.as_object_mut() {
            obj.insert("x-access".into(), json!(o.access.name()));
        }
        if !params.is_empty()
            && let Some(obj) = operation.as_object_mut()
        {
            obj.insert("parameters".into(), Value::Array(params));
        }
        if matches!(o.method, "post" | "put" | "patch")
            && let Some(obj) = operation.as_object_mut()
        {
            obj.insert(
                "requestBody".into(),
                json!({"content": {"application/json": {"schema": {"type": "object"}}}}),
            );
        }
        let entry = paths
            .entry(o.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(obj) = entry.as_object_mut() {
            obj.insert(o.method.to_string(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "codex-central", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "A service token (cct_…), personal token (m2c_…) or, on host routes, a host key."},
            "hostKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
        }},
    })
}

pub async fn get() -> impl IntoResponse {
    Json(document())
}
