//! Request ids, request spans and Prometheus metrics: one tower stack for every surface.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// How often queued histogram samples are folded into their buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the process-wide Prometheus recorder once (several in-process servers in tests
/// share it).
pub fn install_metrics() {
    PROMETHEUS.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_seconds".into()),
                &[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ],
            )
            .ok()?
            .build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).ok()?;
        // Histogram samples queue in the recorder until they are folded into the buckets:
        // without this, a server nobody scrapes kept every request's timings (about 0.2 MB/s
        // at 11,000 req/s, for ever).
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            })
            .ok()?;
        Some(handle)
    });
}

pub fn render_metrics() -> String {
    PROMETHEUS
        .get()
        .and_then(Option::as_ref)
        .map(PrometheusHandle::render)
        .unwrap_or_default()
}

#[derive(Clone, Copy, Default)]
struct UuidV7RequestId;

impl MakeRequestId for UuidV7RequestId {
    fn make_request_id<B>(&mut self, _req: &http::Request<B>) -> Option<RequestId> {
        let id = uuid::Uuid::now_v7().simple().to_string();
        http::HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Wraps the whole app: request id (kept when the client sent a sane one), a span carrying it
/// around every log line of the request, metrics, and redaction of credential headers.
pub fn layers(router: Router) -> Router {
    router
        .layer(middleware::from_fn(track))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &http::Request<_>| {
                let id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %loggable_path(req.uri().path()))
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, UuidV7RequestId))
        .layer(SetSensitiveRequestHeadersLayer::new([
            http::header::AUTHORIZATION,
            http::header::COOKIE,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("x-cc-internal"),
        ]))
}

/// Paths that carry a single-use token (`/install/<token>`, `/seed/auth/<token>`) are logged
/// with only the token's short prefix.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["/install/", "/seed/auth/"] {
        if let Some(token) = path.strip_prefix(prefix) {
            let shown = codex_central_common::crypto::token_display_prefix(token);
            return std::borrow::Cow::Owned(format!("{prefix}{shown}"));
        }
    }
    std::borrow::Cow::Borrowed(path)
}

async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let response = next.run(req).await;
    let route = match matched {
        Some(route) => route,
        None => grpc_route(&path, &response),
    };
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status).increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(start.elapsed().as_secs_f64());
    response
}

/// gRPC methods are bounded by the protos; anything else (unknown paths, unknown methods) is
/// pooled under one label so clients cannot blow up the metric's cardinality.
fn grpc_route(path: &str, response: &Response) -> String {
    let known = path.starts_with("/codexcentral.") || path.starts_with("/grpc.");
    let unimplemented = response
        .headers()
        .get("grpc-status")
        .is_some_and(|v| v.as_bytes() == b"12");
    if known && !unimplemented && path.len() <= 128 {
        path.to_owned()
    } else {
        "unmatched".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_use_tokens_are_shortened_in_logged_paths() {
        let token = format!("cci_{}", "ab".repeat(32));
        let shown = loggable_path(&format!("/install/{token}")).into_owned();
        assert_eq!(shown, "/install/cci_abababab");
        assert_eq!(
            loggable_path("/seed/auth/garbage"),
            "/seed/auth/<unrecognized>"
        );
        assert_eq!(loggable_path("/api/v1/whoami"), "/api/v1/whoami");
    }
}
