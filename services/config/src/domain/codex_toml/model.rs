//! The structured config documents: the fleet's `config.toml` template with its profiles, and
//! `requirements.toml`. Stored as JSON; maps are ordered so that rendering is deterministic.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The fleet `config.toml`: the keys Codex 0.169 accepts as fields, plus free TOML blocks for
/// anything else, kept verbatim.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Template {
    pub model: String,
    pub model_provider: String,
    pub model_reasoning_effort: String,
    pub model_reasoning_summary: String,
    pub model_verbosity: String,
    pub approval_policy: String,
    pub sandbox_mode: String,
    /// `[sandbox_workspace_write] network_access`.
    pub sandbox_network_access: Option<bool>,
    /// `notify`: the program (and arguments) Codex runs after each turn.
    pub notify: Vec<String>,
    /// `[history] persistence`.
    pub history_persistence: String,
    /// `[tools] web_search`.
    pub web_search: Option<bool>,
    /// `[features]`.
    pub features: BTreeMap<String, bool>,
    /// `[notice]`.
    pub notices: BTreeMap<String, bool>,
    pub model_providers: Vec<ModelProvider>,
    pub mcp_servers: Vec<McpServer>,
    pub projects: Vec<ProjectTrust>,
    pub otel: Option<Otel>,
    pub free_blocks: Vec<FreeBlock>,
}

/// A `[model_providers.<name>]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelProvider {
    /// The table's key.
    pub id: String,
    /// Its `name` (Codex requires one; the key when empty).
    pub display_name: String,
    pub base_url: String,
    pub wire_api: String,
    pub env_key: String,
    pub http_headers: BTreeMap<String, String>,
    pub request_max_retries: Option<u32>,
    pub stream_max_retries: Option<u32>,
    pub stream_idle_timeout_ms: Option<u64>,
}

/// A `[mcp_servers.<name>]` table: streamable HTTP (`url`) or stdio (`command`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct McpServer {
    pub name: String,
    pub url: String,
    pub http_headers: BTreeMap<String, String>,
    pub env_http_headers: BTreeMap<String, String>,
    pub bearer_token_env_var: String,
    pub command: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub startup_timeout_sec: Option<u32>,
    pub tool_timeout_sec: Option<u32>,
    pub default_tools_approval_mode: String,
    /// Rendered as `enabled = false`.
    pub disabled: bool,
}

/// A `[projects."<path>"]` trust entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectTrust {
    pub path: String,
    pub trust_level: String,
}

/// `[otel]`: `exporter` is `none`, `otlp-http` or `otlp-grpc`; the OTLP ones carry the
/// endpoint, headers and (HTTP only) protocol.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Otel {
    pub exporter: String,
    pub endpoint: String,
    pub protocol: String,
    pub headers: BTreeMap<String, String>,
    pub environment: String,
    pub log_user_prompt: Option<bool>,
}

/// TOML kept as typed: comments, order and formatting survive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FreeBlock {
    pub name: String,
    pub toml: String,
}

/// A profile: its own `<name>.config.toml`, layered over `config.toml` by `codex -p <name>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub name: String,
    pub model: String,
    pub model_provider: String,
    pub approval_policy: String,
    pub sandbox_mode: String,
    pub model_reasoning_effort: String,
    pub model_reasoning_summary: String,
    pub model_verbosity: String,
    pub extra_toml: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One stored version of the config document: the template and the profiles, versioned
/// together so that a restore brings back a consistent set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigModel {
    pub template: Template,
    pub profiles: Vec<Profile>,
}

impl Profile {
    /// The profile's fields as a template with nothing else set, so that a profile file is
    /// rendered and checked like `config.toml` (its `extra_toml` is passed as a block).
    pub fn as_template(&self) -> Template {
        Template {
            model: self.model.clone(),
            model_provider: self.model_provider.clone(),
            approval_policy: self.approval_policy.clone(),
            sandbox_mode: self.sandbox_mode.clone(),
            model_reasoning_effort: self.model_reasoning_effort.clone(),
            model_reasoning_summary: self.model_reasoning_summary.clone(),
            model_verbosity: self.model_verbosity.clone(),
            ..Template::default()
        }
    }

    pub fn filename(&self) -> String {
        format!("{}.config.toml", self.name)
    }
}

/// The fleet's `requirements.toml` (Codex's managed requirements, installed by `cdx` to
/// `/etc/codex/requirements.toml` when it runs as root): the allow-lists as fields, the rest
/// (MCP server allow-list by identity, feature pins, …) as free blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Requirements {
    pub allowed_approval_policies: Vec<String>,
    pub allowed_sandbox_modes: Vec<String>,
    pub allowed_web_search_modes: Vec<String>,
    pub free_blocks: Vec<FreeBlock>,
}
