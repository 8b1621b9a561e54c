//! The JSON REST API under `/api/v1`. Each handler: extract and validate, call one RPC as the
//! caller, convert the answer into the envelope. No logic lives here.

mod account;
mod audit;
pub(crate) mod hosts;
mod oauth;
mod overview;
mod policy;
mod providers;
mod requests;
mod service_tokens;
mod settings;
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
        .route("/api/v1/fleet/policy", get(settings::fleet_policy))
        .route("/api/v1/usage/quota-policy", get(settings::quota_policy))
        .route("/api/v1/config/settings", get(settings::config_settings))
        .route("/api/v1/memory/settings", get(settings::memory_settings))
}

/// Converts a protobuf timestamp to RFC 3339 for JSON.
pub(crate) fn rfc3339(ts: Option<&prost_types::Timestamp>) -> serde_json::Value {
    match ts.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)) {
        Some(dt) => {
            serde_json::Value::String(dt.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        }
        None => serde_json::Value::Null,
    }
}
