//! The peer-compatible surface (codex-orchestrator's host and admin API, contract §3): the
//! routes the peer's own `cdx` and admin scripts call, wire-compatible with it.

mod agents;
mod chatgpt;
mod config;
pub(crate) mod content;
mod host_sync;
mod hosts;
mod install;
mod memories;
mod overview;
mod policy;
mod prompts;
mod seed;
mod skills;
mod usage;
mod usage_admin;

pub(crate) use chatgpt::QuotaCache;
pub(crate) use usage::MonthUsageCache;
mod wrappers;

use axum::Router;
use axum::routing::{get, post};

use crate::GatewayState;

pub fn router() -> Router<GatewayState> {
    Router::new()
        .route("/admin/overview", get(overview::get))
        .route(
            "/admin/api/state",
            get(policy::get_api_state).post(policy::set_api_state),
        )
        .route("/admin/cdx-silent", post(policy::set_silent))
        .route(
            "/admin/quota-mode",
            get(policy::get_quota).post(policy::set_quota),
        )
        .route("/admin/prune-policy", post(policy::set_prune))
        .route("/admin/hosts/register", post(hosts::register))
        .route("/admin/hosts/prune", post(hosts::prune))
        .route("/admin/hosts/insecure", get(hosts::insecure))
        .route("/admin/hosts", get(hosts::list))
        .route("/admin/hosts/{id}", get(hosts::get).delete(hosts::delete))
        .route("/admin/hosts/{id}/roaming", post(hosts::roaming))
        .route("/admin/hosts/{id}/secure", post(hosts::secure))
        .route("/admin/hosts/{id}/vip", post(hosts::vip))
        .route("/admin/hosts/{id}/ipv4", post(hosts::ipv4))
        .route(
            "/admin/hosts/{id}/curl-insecure",
            post(hosts::curl_insecure),
        )
        .route("/admin/hosts/{id}/enabled", post(hosts::enabled))
        .route(
            "/admin/hosts/{id}/insecure/enable",
            post(hosts::insecure_enable),
        )
        .route(
            "/admin/hosts/{id}/insecure/disable",
            post(hosts::insecure_disable),
        )
        .route("/admin/hosts/{id}/model", post(hosts::model))
        .route(
            "/admin/hosts/{id}/codex-version",
            post(hosts::codex_version),
        )
        .route("/admin/hosts/{id}/clear", post(hosts::clear))
        .route("/admin/hosts/{id}/rotate", post(hosts::rotate))
        .route("/config/retrieve", post(config::host_retrieve))
        .route("/admin/config", get(config::admin_get))
        .route("/admin/config/render", post(config::admin_render))
        .route("/admin/config/store", post(config::admin_store))
        .route("/agents/retrieve", post(agents::host_retrieve))
        .route("/mcp/memories/store", post(memories::store))
        .route("/mcp/memories/retrieve", post(memories::retrieve))
        .route("/mcp/memories/search", post(memories::search))
        .route("/mcp/memories/delete", post(memories::delete_by_body))
        .route(
            "/mcp/memories/{id}",
            axum::routing::delete(memories::delete_by_path),
        )
        .route("/admin/mcp/memories", get(memories::admin_search))
        .route("/admin/mcp/logs", get(crate::mcp::admin_logs))
        .route("/admin/chatgpt/usage", get(chatgpt::usage))
        .route("/admin/chatgpt/usage/refresh", post(chatgpt::refresh))
        .route("/admin/chatgpt/usage/history", get(chatgpt::history))
        .route("/admin/usage", get(usage_admin::usages))
        .route("/admin/tokens", get(usage_admin::tokens))
        .route("/admin/usage/cost-history", get(usage_admin::cost_history))
        .route("/admin/usage/ingests", get(usage_admin::ingests))
        .route(
            "/admin/mcp/memories/{record_id}",
            axum::routing::delete(memories::admin_delete),
        )
        .route(
            "/admin/agents",
            get(agents::admin_get).delete(agents::admin_clear),
        )
        .route("/admin/agents/store", post(agents::admin_store))
        .route("/slash-commands", get(prompts::host_list))
        .route("/slash-commands/retrieve", post(prompts::host_retrieve))
        .route("/slash-commands/store", post(prompts::host_store))
        .route("/admin/slash-commands", get(prompts::admin_list))
        .route("/admin/slash-commands/store", post(prompts::admin_store))
        .route(
            "/admin/slash-commands/{filename}",
            get(prompts::admin_get).delete(prompts::admin_retire),
        )
        .route("/skills", get(skills::host_list))
        .route("/skills/retrieve", post(skills::host_retrieve))
        .route("/skills/store", post(skills::host_store))
        .route("/admin/skills", get(skills::admin_list))
        .route("/admin/skills/store", post(skills::admin_store))
        .route(
            "/admin/skills/{slug}",
            get(skills::admin_get).delete(skills::admin_retire),
        )
        .merge(host_sync::router())
        .merge(install::router())
        .merge(seed::router())
        .merge(wrappers::router())
        .merge(usage::router())
}
