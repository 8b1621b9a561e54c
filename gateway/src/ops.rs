//! Probes and metrics: `/healthz` (the process is alive), `/readyz` (the services report
//! SERVING, i.e. the database is reachable and migrations are current), `/metrics`.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;

use crate::{GatewayState, observe};

pub fn router() -> Router<GatewayState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> Response {
    axum::Json(json!({ "status": "ok", "data": { "alive": true } })).into_response()
}

async fn readyz(axum::extract::State(state): axum::extract::State<GatewayState>) -> Response {
    let check = state
        .clients()
        .health()
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await;
    let (ready, reason) = match check {
        Ok(res) if res.get_ref().status() == ServingStatus::Serving => (true, String::new()),
        Ok(_) => (
            false,
            "database unreachable or migrations pending".to_string(),
        ),
        Err(status) => (false, format!("services unreachable: {}", status.message())),
    };
    if ready {
        axum::Json(json!({ "status": "ok", "data": { "ready": true } })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "error", "code": "not_ready", "message": reason })),
        )
            .into_response()
    }
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        observe::render_metrics(),
    )
        .into_response()
}
