//! The JSON REST API under `/api/v1`. Each handler: extract and validate, call one RPC as the
//! caller, convert the answer into the envelope. No logic lives here.

mod account;
mod audit;
mod client_config;
mod codex_auth;
mod config;
mod config_docs;
pub(crate) mod config_json;
mod config_requirements;
mod oauth;
mod providers;
mod requests;
mod service_tokens;
mod settings;
mod usage;
mod usage_alerts;
pub(crate) mod users;
mod whoami;

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::GatewayState;

pub fn router() -> Router<GatewayState> {
    Router::new()
        .route("/api/openapi.json", get(crate::openapi::get))
        .route("/api/v1/whoami", get(whoami::get))
        .route("/api/v1/account", get(account::get))
        .route(
            "/api/v1/account/tokens",
            get(account::list_tokens).post(account::create_token),
        )
        .route(
            "/api/v1/account/tokens/{id}",
            delete(account::revoke_token).patch(account::update_token),
        )
        .route("/api/v1/account/codex-config", get(client_config::get))
        .route(
            "/api/v1/account/codex-config/export",
            post(client_config::export),
        )
        .route(
            "/api/v1/account/codex-config/import",
            post(client_config::import),
        )
        .route(
            "/api/v1/account/codex-config/history",
            get(client_config::history),
        )
        .route("/api/v1/account/byok", get(account::list_byok))
        .route(
            "/api/v1/account/byok/{provider}",
            put(account::set_byok).delete(account::delete_byok),
        )
        .route("/api/v1/account/links", get(oauth::links))
        .route(
            "/api/v1/account/links/{provider}",
            get(oauth::link).delete(oauth::unlink),
        )
        .route(
            "/api/v1/oauth/providers",
            get(oauth::list).post(oauth::create),
        )
        .route(
            "/api/v1/oauth/providers/{name}",
            get(oauth::get).put(oauth::update).delete(oauth::delete),
        )
        .route(
            "/api/v1/settings/registration",
            get(account::get_registration).put(account::set_registration),
        )
        .route(
            "/api/v1/service-tokens",
            get(service_tokens::list).post(service_tokens::create),
        )
        .route(
            "/api/v1/service-tokens/{id}",
            delete(service_tokens::revoke),
        )
        .route("/api/v1/audit", get(audit::list))
        .route("/admin/logs", get(audit::logs))
        .route(
            "/api/v1/providers",
            get(providers::list).post(providers::create),
        )
        .route(
            "/api/v1/providers/{name}",
            get(providers::get)
                .put(providers::put)
                .delete(providers::delete),
        )
        .route(
            "/api/v1/account/override",
            get(providers::get_override)
                .put(providers::put_override)
                .delete(providers::delete_override),
        )
        .route("/api/v1/requests", get(requests::list))
        .route("/api/v1/users", get(users::list).post(users::create))
        .route(
            "/api/v1/users/{id}",
            get(users::get).patch(users::patch).delete(users::delete),
        )
        .route("/api/v1/users/{id}/role", post(users::set_role))
        .route("/api/v1/users/{id}/enabled", post(users::set_enabled))
        .route("/api/v1/users/{id}/password", post(users::reset_password))
        .route("/api/v1/codex-auth", get(codex_auth::status))
        .route("/api/v1/codex-auth/refresh", post(codex_auth::refresh))
        .route("/api/v1/codex-auth/validate", post(codex_auth::validate))
        .route(
            "/api/v1/codex-auth/settings",
            get(codex_auth::settings).put(codex_auth::put_settings),
        )
        .route("/api/v1/fleet/policy", get(settings::fleet_policy))
        .route("/api/v1/usage/quota-policy", get(settings::quota_policy))
        .route("/api/v1/usage/rows", get(usage::rows))
        .route("/api/v1/usage/ingests", get(usage::ingests))
        .route("/api/v1/usage/aggregate", get(usage::aggregate))
        .route("/api/v1/usage/cost-history", get(usage::cost_history))
        .route("/api/v1/usage/summary", get(usage::summary))
        .route("/api/v1/usage/export.csv", get(usage::export_csv))
        .route("/api/v1/usage/prices/sync", post(usage::sync_prices))
        .route("/api/v1/usage/alerts", get(usage_alerts::list))
        .route(
            "/api/v1/usage/alerts/deliveries",
            get(usage_alerts::deliveries),
        )
        .route(
            "/api/v1/usage/alerts/{id}/acknowledge",
            post(usage_alerts::acknowledge),
        )
        .route(
            "/api/v1/usage/recompute-costs",
            post(usage::recompute_costs),
        )
        .route(
            "/api/v1/usage/prices",
            get(usage::prices).post(usage::create_price),
        )
        .route(
            "/api/v1/usage/prices/{id}",
            axum::routing::delete(usage::delete_price),
        )
        .route(
            "/api/v1/config/settings",
            get(settings::config_settings).put(config::put_settings),
        )
        .route("/api/v1/config/proposals", get(config::list_proposals))
        .route(
            "/api/v1/config/proposals/{id}/approve",
            post(config::approve_proposal),
        )
        .route(
            "/api/v1/config/proposals/{id}/reject",
            post(config::reject_proposal),
        )
        .route(
            "/api/v1/config/agents/versions",
            get(config::agents_versions),
        )
        .route("/api/v1/config/versions", get(config_docs::versions))
        .route(
            "/api/v1/config/versions/{version}",
            get(config_docs::version),
        )
        .route(
            "/api/v1/config/versions/{version}/restore",
            post(config_docs::restore),
        )
        .route("/api/v1/config/diff", get(config_docs::diff))
        .route(
            "/api/v1/config/requirements",
            get(config_requirements::get).put(config_requirements::put),
        )
        .route(
            "/api/v1/config/requirements/versions",
            get(config_requirements::versions),
        )
        .route(
            "/api/v1/config/requirements/versions/{version}/restore",
            post(config_requirements::restore),
        )
        .route(
            "/api/v1/config/profiles",
            get(config_docs::profiles).post(config_docs::create_profile),
        )
        .route(
            "/api/v1/config/profiles/{name}",
            get(config_docs::profile)
                .put(config_docs::update_profile)
                .delete(config_docs::delete_profile),
        )
        .route(
            "/api/v1/config/profiles/{name}/rename",
            post(config_docs::rename_profile),
        )
        .route(
            "/api/v1/config/hosts/{id}/override",
            get(config_docs::host_override)
                .put(config_docs::set_host_override)
                .delete(config_docs::delete_host_override),
        )
        .route(
            "/api/v1/memory/settings",
            get(settings::memory_settings).put(settings::put_memory_settings),
        )
}
