//! Live views (`Watch…` server streams): what the dashboard follows instead of polling. A write
//! shows on an open stream at once (well before the periodic recheck), callers see only what
//! they may, and an open stream does not hold up the server's shutdown.

use std::time::{Duration, Instant};

use codex_central::config::Layer;
use codex_central_proto::fleet::v1::fleet_service_client::FleetServiceClient;
use codex_central_proto::fleet::v1::{WatchFleetOverviewRequest, WatchFleetOverviewResponse};
use codex_central_proto::usage::v1::usage_service_client::UsageServiceClient;
use codex_central_proto::usage::v1::{WatchUsageSummaryRequest, WatchUsageSummaryResponse};
use serde_json::json;
use tonic::{Code, Streaming};

use crate::on_all_backends;
use crate::testkit::{Opts, Ready, auth_on, authed, new_token, register_host, sign_in};

/// Less than either service's recheck (5 s and 10 s): an answer this quick came from the poke.
const SOON: Duration = Duration::from_secs(4);

async fn next<T>(s: &mut Streaming<T>, within: Duration) -> Option<T> {
    match tokio::time::timeout(within, s.message()).await {
        Ok(Ok(m)) => m,
        Ok(Err(status)) => panic!("the stream failed: {status}"),
        Err(_) => None,
    }
}

fn total(m: &WatchFleetOverviewResponse) -> u32 {
    m.overview.as_ref().map_or(0, |o| o.total_hosts)
}

fn day_tokens(m: &WatchUsageSummaryResponse) -> u64 {
    m.summary
        .as_ref()
        .and_then(|s| s.day.as_ref())
        .and_then(|d| d.tokens.as_ref())
        .map_or(0, |t| t.total_tokens)
}

async fn fleet_overview_follows_changes(r: Ready) {
    let mut fleet = FleetServiceClient::new(r.srv.channel().await);
    let mut live = fleet
        .watch_fleet_overview(authed(&r.admin, WatchFleetOverviewRequest {}))
        .await
        .unwrap()
        .into_inner();
    let first = next(&mut live, SOON).await.expect("the overview at once");
    assert_eq!(total(&first), 0);

    register_host(&r.srv, &r.admin, "live-1.example.com").await;
    let after = next(&mut live, SOON).await.expect("the new host, pushed");
    assert_eq!(total(&after), 1);
    let (status, _) = r
        .admin_post("/admin/api/state", json!({"disabled": true}))
        .await;
    assert_eq!(status, 200);
    let off = next(&mut live, SOON)
        .await
        .expect("the kill switch, pushed");
    assert!(!off.overview.unwrap().policy.unwrap().api_enabled);

    // Without credentials, or as a member: no stream.
    let err = fleet
        .watch_fleet_overview(WatchFleetOverviewRequest {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let session = sign_in(&r.srv, &r.admin, "live-member").await;
    let member = new_token(&r.srv, &session, json!({"name": "live"})).await;
    let refused = match fleet
        .watch_fleet_overview(authed(&member, WatchFleetOverviewRequest {}))
        .await
    {
        Err(status) => status.code(),
        Ok(s) => s.into_inner().message().await.unwrap_err().code(),
    };
    assert_eq!(refused, Code::PermissionDenied);
}

async fn usage_summary_follows_ingest(r: Ready) {
    let (host, key) = register_host(&r.srv, &r.admin, "live-usage.example.com").await;
    let host_id = host["host"]["id"].to_string().trim_matches('"').to_string();
    let mut usage = UsageServiceClient::new(r.srv.channel().await);
    let mut live = usage
        .watch_usage_summary(authed(
            &r.admin,
            WatchUsageSummaryRequest {
                host_id: host_id.clone(),
                user_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        day_tokens(&next(&mut live, SOON).await.expect("at once")),
        0
    );

    // A member asking for the host's totals follows their own (none).
    let session = sign_in(&r.srv, &r.admin, "live-usage-member").await;
    let member = new_token(&r.srv, &session, json!({"name": "live"})).await;
    let mut own = usage
        .watch_usage_summary(authed(
            &member,
            WatchUsageSummaryRequest {
                host_id,
                user_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(day_tokens(&next(&mut own, SOON).await.expect("at once")), 0);

    let (status, body) = r
        .host_post(
            &key,
            "/usage",
            json!({"input_tokens": 900, "output_tokens": 100, "total_tokens": 1000,
                   "model": "gpt-5-mini", "session_id": "s-live", "response_id": "resp_live"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let moved = next(&mut live, SOON).await.expect("the ingest, pushed");
    assert_eq!(day_tokens(&moved), 1000);
    assert!(
        next(&mut own, SOON).await.is_none(),
        "the member's own totals did not change, nothing is sent"
    );

    let bad = usage
        .watch_usage_summary(authed(
            &r.admin,
            WatchUsageSummaryRequest {
                host_id: "not-a-host".into(),
                user_id: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
}

on_all_backends!(ready(auth_on()) => fleet_overview_follows_changes, usage_summary_follows_ingest);

/// With a minute of grace for in-flight requests, a server with an open live view still stops
/// at once: closing ends the streams instead of waiting for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_stream_does_not_hold_up_shutdown() {
    let opts = Opts {
        layer: Layer {
            shutdown_timeout_secs: Some(60),
            ..auth_on().layer
        },
    };
    let Some(r) = Ready::start(crate::testkit::Backend::Sqlite, opts).await else {
        return;
    };
    let mut fleet = FleetServiceClient::new(r.srv.channel().await);
    let mut live = fleet
        .watch_fleet_overview(authed(&r.admin, WatchFleetOverviewRequest {}))
        .await
        .unwrap()
        .into_inner();
    next(&mut live, SOON).await.expect("the overview at once");
    let started = Instant::now();
    r.srv.stop().await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(30), "shutdown waited {took:?}");
    let ended = tokio::time::timeout(SOON, live.message()).await;
    assert!(
        matches!(ended, Ok(Ok(None)) | Ok(Err(_))),
        "the stream is over"
    );
}
