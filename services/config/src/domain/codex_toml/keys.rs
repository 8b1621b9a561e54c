//! The configuration keys Codex 0.169 accepts, as `--strict-config` judged them on that binary
//! (each key tried alone; "unknown configuration field" separated unknown keys from known ones
//! with a wrong value). Tables listed in [`NESTED`] are checked one level further; the others
//! (e.g. `tui`, `features`) only at their name.

/// Top-level keys.
pub const TOP_LEVEL: &[&str] = &[
    "agents",
    "allow_login_shell",
    "allow_symlinked_codex_home",
    "analytics",
    "apps",
    "apps_mcp_product_sku",
    "approval_policy",
    "approvals_reviewer",
    "audio",
    "auto_review",
    "background_terminal_max_timeout",
    "chatgpt_base_url",
    "check_for_update_on_startup",
    "cli_auth_credentials_store",
    "cloud",
    "compact_prompt",
    "default_permissions",
    "developer_instructions",
    "disable_paste_burst",
    "experimental_compact_prompt_file",
    "experimental_realtime_start_instructions",
    "experimental_realtime_webrtc_call_base_url",
    "experimental_realtime_ws_backend_prompt",
    "experimental_realtime_ws_base_url",
    "experimental_realtime_ws_model",
    "experimental_realtime_ws_startup_context",
    "experimental_thread_store",
    "experimental_thread_store_endpoint",
    "experimental_use_unified_exec_tool",
    "features",
    "feedback",
    "file_opener",
    "forced_chatgpt_workspace_id",
    "forced_login_method",
    "ghost_snapshot",
    "goals",
    "hide_agent_reasoning",
    "history",
    "hooks",
    "include_apps_instructions",
    "include_collaboration_mode_instructions",
    "include_environment_context",
    "instructions",
    "js_repl_node_module_dirs",
    "js_repl_node_path",
    "log_dir",
    "mcp_enterprise_managed_auth",
    "mcp_oauth_callback_port",
    "mcp_oauth_callback_url",
    "mcp_oauth_credentials_store",
    "mcp_optional_startup_grace_ms",
    "mcp_servers",
    "memories",
    "model",
    "model_auto_compact_token_limit",
    "model_auto_compact_token_limit_scope",
    "model_catalog_json",
    "model_context_window",
    "model_instructions_file",
    "model_post_turn_compact_threshold_percent",
    "model_provider",
    "model_providers",
    "model_reasoning_effort",
    "model_reasoning_summary",
    "model_verbosity",
    "notice",
    "notify",
    "openai_base_url",
    "orchestrator",
    "oss_provider",
    "otel",
    "permissions",
    "personality",
    "plan_mode_reasoning_effort",
    "project_doc_fallback_filenames",
    "project_doc_max_bytes",
    "project_root_markers",
    "projects",
    "realtime",
    "responses_api_metadata",
    "review_model",
    "sandbox_mode",
    "sandbox_workspace_write",
    "shell_environment_policy",
    "show_raw_agent_reasoning",
    "skills",
    "sqlite_home",
    "suppress_unstable_features_warning",
    "thread_unload_delay_secs",
    "tool_output_token_limit",
    "tools",
    "tui",
    "web_search",
    "windows",
];

/// Keys of one server table under `[mcp_servers]`.
pub const MCP_SERVER: &[&str] = &[
    "args",
    "bearer_token",
    "bearer_token_env_var",
    "command",
    "cwd",
    "default_tools_approval_mode",
    "disabled_tools",
    "enabled",
    "enabled_tools",
    "env",
    "env_http_headers",
    "env_vars",
    "http_headers",
    "oauth",
    "oauth_resource",
    "required",
    "scopes",
    "startup_timeout_ms",
    "startup_timeout_sec",
    "supports_parallel_tool_calls",
    "tool_timeout_sec",
    "tools",
    "url",
];

/// Keys of one provider table under `[model_providers]`.
pub const MODEL_PROVIDER: &[&str] = &[
    "auth",
    "base_url",
    "env_http_headers",
    "env_key",
    "env_key_instructions",
    "experimental_bearer_token",
    "http_headers",
    "name",
    "query_params",
    "request_max_retries",
    "requires_openai_auth",
    "stream_idle_timeout_ms",
    "stream_max_retries",
    "supports_websockets",
    "websocket_connect_timeout_ms",
    "wire_api",
];

/// Tables whose own keys are checked: (table, keys). `*` stands for "each entry of".
pub const NESTED: &[(&str, &[&str])] = &[
    ("mcp_servers.*", MCP_SERVER),
    ("model_providers.*", MODEL_PROVIDER),
    ("projects.*", &["trust_level"]),
    (
        "sandbox_workspace_write",
        &[
            "exclude_slash_tmp",
            "exclude_tmpdir_env_var",
            "network_access",
            "writable_roots",
        ],
    ),
    ("history", &["max_bytes", "persistence"]),
    (
        "tools",
        &[
            "client_search_provider",
            "experimental_request_user_input",
            "update_plan",
            "web_search",
        ],
    ),
    (
        "otel",
        &[
            "environment",
            "exporter",
            "log_user_prompt",
            "metrics_exporter",
            "trace_exporter",
        ],
    ),
];

/// Keys that older Codex accepted and 0.169 refuses, with what to do instead.
pub const RETIRED: &[(&str, &str)] = &[
    (
        "profile",
        "legacy `profile = …` is no longer supported; create a profile (its own <name>.config.toml, selected with `codex -p <name>`)",
    ),
    (
        "profiles",
        "`[profiles.*]` is no longer supported; create profiles instead (each is its own <name>.config.toml)",
    ),
    (
        "experimental_use_rmcp_client",
        "removed from Codex: streamable HTTP MCP servers need no flag",
    ),
    (
        "features.rmcp_client",
        "removed from Codex: streamable HTTP MCP servers need no flag",
    ),
    ("model_supports_reasoning_summaries", "removed from Codex"),
    ("disable_response_storage", "removed from Codex"),
];

/// Allowed values of the enumerated fields, as Codex 0.169 parses them.
pub const APPROVAL_POLICIES: &[&str] = &["on-failure", "on-request", "never"];
pub const SANDBOX_MODES: &[&str] = &["read-only", "workspace-write", "danger-full-access"];
pub const REASONING_EFFORTS: &[&str] = &["none", "minimal", "low", "medium", "high", "xhigh"];
pub const REASONING_SUMMARIES: &[&str] = &["auto", "concise", "detailed", "none"];
pub const VERBOSITIES: &[&str] = &["low", "medium", "high"];
pub const HISTORY_PERSISTENCE: &[&str] = &["save-all", "none"];
pub const TRUST_LEVELS: &[&str] = &["trusted", "untrusted"];
pub const TOOLS_APPROVAL_MODES: &[&str] = &["auto", "prompt", "writes", "approve"];
pub const OTEL_EXPORTERS: &[&str] = &["none", "otlp-http", "otlp-grpc"];
pub const OTEL_PROTOCOLS: &[&str] = &["binary", "json"];
