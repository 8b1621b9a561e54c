//! The config template and profiles as JSON (REST bodies and answers) and as proto. Unknown
//! fields are refused, so a typo is a 422 naming it instead of a setting silently dropped.

use std::collections::BTreeMap;

use codex_central_proto::config::v1 as pb;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::plumbing::views::rfc3339;

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TemplateJson {
    model: String,
    model_provider: String,
    model_reasoning_effort: String,
    model_reasoning_summary: String,
    model_verbosity: String,
    approval_policy: String,
    sandbox_mode: String,
    sandbox_network_access: Option<bool>,
    notify: Vec<String>,
    history_persistence: String,
    web_search: Option<bool>,
    features: BTreeMap<String, bool>,
    notices: BTreeMap<String, bool>,
    model_providers: Vec<ProviderJson>,
    mcp_servers: Vec<McpJson>,
    projects: Vec<ProjectJson>,
    otel: Option<OtelJson>,
    free_blocks: Vec<BlockJson>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct ProviderJson {
    /// The table key under `[model_providers]`.
    id: String,
    name: String,
    base_url: String,
    wire_api: String,
    env_key: String,
    http_headers: BTreeMap<String, String>,
    request_max_retries: Option<u32>,
    stream_max_retries: Option<u32>,
    stream_idle_timeout_ms: Option<u64>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct McpJson {
    name: String,
    url: String,
    http_headers: BTreeMap<String, String>,
    env_http_headers: BTreeMap<String, String>,
    bearer_token_env_var: String,
    command: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    startup_timeout_sec: Option<u32>,
    tool_timeout_sec: Option<u32>,
    default_tools_approval_mode: String,
    disabled: bool,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct ProjectJson {
    path: String,
    trust_level: String,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct OtelJson {
    exporter: String,
    endpoint: String,
    protocol: String,
    headers: BTreeMap<String, String>,
    environment: String,
    log_user_prompt: Option<bool>,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct BlockJson {
    name: String,
    toml: String,
}

fn hash<K: Clone + Ord + std::hash::Hash, V: Clone>(
    m: &BTreeMap<K, V>,
) -> std::collections::HashMap<K, V> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn tree<K: Clone + Ord, V: Clone>(m: &std::collections::HashMap<K, V>) -> BTreeMap<K, V> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl From<TemplateJson> for pb::ConfigTemplate {
    fn from(t: TemplateJson) -> Self {
        pb::ConfigTemplate {
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
            features: hash(&t.features),
            notices: hash(&t.notices),
            model_providers: t
                .model_providers
                .into_iter()
                .map(|p| pb::CodexModelProvider {
                    name: p.id,
                    display_name: p.name,
                    base_url: p.base_url,
                    wire_api: p.wire_api,
                    env_key: p.env_key,
                    http_headers: hash(&p.http_headers),
                    request_max_retries: p.request_max_retries,
                    stream_max_retries: p.stream_max_retries,
                    stream_idle_timeout_ms: p.stream_idle_timeout_ms,
                })
                .collect(),
            mcp_servers: t
                .mcp_servers
                .into_iter()
                .map(|s| pb::McpServer {
                    name: s.name,
                    url: s.url,
                    command: s.command,
                    args: s.args,
                    env: hash(&s.env),
                    http_headers: hash(&s.http_headers),
                    env_http_headers: hash(&s.env_http_headers),
                    bearer_token_env_var: s.bearer_token_env_var,
                    default_tools_approval_mode: s.default_tools_approval_mode,
                    startup_timeout_sec: s.startup_timeout_sec,
                    tool_timeout_sec: s.tool_timeout_sec,
                    disabled: s.disabled,
                })
                .collect(),
            projects: t
                .projects
                .into_iter()
                .map(|p| pb::ProjectTrust {
                    path: p.path,
                    trust_level: p.trust_level,
                })
                .collect(),
            otel: t.otel.map(|o| pb::OtelSettings {
                exporter: o.exporter,
                endpoint: o.endpoint,
                protocol: o.protocol,
                headers: hash(&o.headers),
                environment: o.environment,
                log_user_prompt: o.log_user_prompt,
            }),
            free_blocks: t
                .free_blocks
                .into_iter()
                .map(|b| pb::FreeTomlBlock {
                    name: b.name,
                    toml: b.toml,
                })
                .collect(),
        }
    }
}

impl From<&pb::ConfigTemplate> for TemplateJson {
    fn from(t: &pb::ConfigTemplate) -> Self {
        TemplateJson {
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
            features: tree(&t.features),
            notices: tree(&t.notices),
            model_providers: t
                .model_providers
                .iter()
                .map(|p| ProviderJson {
                    id: p.name.clone(),
                    name: p.display_name.clone(),
                    base_url: p.base_url.clone(),
                    wire_api: p.wire_api.clone(),
                    env_key: p.env_key.clone(),
                    http_headers: tree(&p.http_headers),
                    request_max_retries: p.request_max_retries,
                    stream_max_retries: p.stream_max_retries,
                    stream_idle_timeout_ms: p.stream_idle_timeout_ms,
                })
                .collect(),
            mcp_servers: t
                .mcp_servers
                .iter()
                .map(|s| McpJson {
                    name: s.name.clone(),
                    url: s.url.clone(),
                    http_headers: tree(&s.http_headers),
                    env_http_headers: tree(&s.env_http_headers),
                    bearer_token_env_var: s.bearer_token_env_var.clone(),
                    command: s.command.clone(),
                    args: s.args.clone(),
                    env: tree(&s.env),
                    startup_timeout_sec: s.startup_timeout_sec,
                    tool_timeout_sec: s.tool_timeout_sec,
                    default_tools_approval_mode: s.default_tools_approval_mode.clone(),
                    disabled: s.disabled,
                })
                .collect(),
            projects: t
                .projects
                .iter()
                .map(|p| ProjectJson {
                    path: p.path.clone(),
                    trust_level: p.trust_level.clone(),
                })
                .collect(),
            otel: t.otel.as_ref().map(|o| OtelJson {
                exporter: o.exporter.clone(),
                endpoint: o.endpoint.clone(),
                protocol: o.protocol.clone(),
                headers: tree(&o.headers),
                environment: o.environment.clone(),
                log_user_prompt: o.log_user_prompt,
            }),
            free_blocks: t
                .free_blocks
                .iter()
                .map(|b| BlockJson {
                    name: b.name.clone(),
                    toml: b.toml.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileJson {
    pub name: String,
    model: String,
    model_provider: String,
    approval_policy: String,
    sandbox_mode: String,
    model_reasoning_effort: String,
    model_reasoning_summary: String,
    model_verbosity: String,
    extra_toml: String,
}

impl From<ProfileJson> for pb::Profile {
    fn from(p: ProfileJson) -> Self {
        pb::Profile {
            name: p.name,
            model: p.model,
            model_provider: p.model_provider,
            approval_policy: p.approval_policy,
            sandbox_mode: p.sandbox_mode,
            model_reasoning_effort: p.model_reasoning_effort,
            model_reasoning_summary: p.model_reasoning_summary,
            model_verbosity: p.model_verbosity,
            extra_toml: p.extra_toml,
            created_at: None,
            updated_at: None,
        }
    }
}

pub fn profile_json(p: &pb::Profile) -> Value {
    json!({
        "name": p.name,
        "filename": format!("{}.config.toml", p.name),
        "model": p.model,
        "model_provider": p.model_provider,
        "approval_policy": p.approval_policy,
        "sandbox_mode": p.sandbox_mode,
        "model_reasoning_effort": p.model_reasoning_effort,
        "model_reasoning_summary": p.model_reasoning_summary,
        "model_verbosity": p.model_verbosity,
        "extra_toml": p.extra_toml,
        "created_at": rfc3339(p.created_at.as_ref()),
        "updated_at": rfc3339(p.updated_at.as_ref()),
    })
}

/// A saved version's metadata (and its template and rendered base file when present).
pub fn document_json(d: &pb::ConfigTemplateDocument) -> Value {
    version_json(
        VersionMeta {
            version: d.version,
            sha256: &d.sha256,
            size_bytes: d.size_bytes,
            updated_at: d.updated_at.as_ref(),
            updated_by: &d.updated_by,
            note: &d.note,
        },
        d.template
            .as_ref()
            .map(|t| (json!(TemplateJson::from(t)), d.rendered_toml.as_str())),
    )
}

/// What every saved version of a structured document (config.toml, requirements.toml) has.
pub struct VersionMeta<'a> {
    pub version: u32,
    pub sha256: &'a str,
    pub size_bytes: u64,
    pub updated_at: Option<&'a prost_types::Timestamp>,
    pub updated_by: &'a str,
    pub note: &'a str,
}

/// A saved version, with its `settings` and rendered `content` when the answer carries them.
pub fn version_json(m: VersionMeta<'_>, body: Option<(Value, &str)>) -> Value {
    let mut v = json!({
        "version": m.version,
        "sha256": m.sha256,
        "size_bytes": m.size_bytes,
        "updated_at": rfc3339(m.updated_at),
        "updated_by": m.updated_by,
        "note": m.note,
    });
    if let Some((settings, content)) = body {
        v["settings"] = settings;
        v["content"] = json!(content);
    }
    v
}

pub fn profile_file_json(f: &pb::ProfileFile, with_content: bool) -> Value {
    let mut v = json!({"name": f.name, "filename": f.filename, "sha256": f.sha256});
    if with_content {
        v["content"] = json!(f.content);
    }
    v
}
