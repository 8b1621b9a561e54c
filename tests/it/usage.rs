//! Usage with costs against the real server: a host reports Codex 0.169's rollout lines and a
//! priced entry over `POST /usage`, sends them again without counting them twice, a `/v1` call
//! becomes a gateway usage record that the host's later report of the same response does not
//! double, and prices are managed over gRPC.

use std::time::Duration;

use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::usage::v1::usage_service_client::UsageServiceClient;
use codex_central_proto::usage::v1::*;
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

use crate::on_all_backends;
use crate::testkit::{Ready, auth_on, authed, json, new_token, sign_in};

const ROLLOUT: &str = include_str!("../fixtures/codex-0.169/rollout-usage-lines.jsonl");

fn rollout_lines() -> Vec<Value> {
    ROLLOUT
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A stub upstream answering every Responses call with id `resp_gw` and fixed usage.
async fn upstream() -> String {
    let app = axum::Router::new().route(
        "/v1/responses",
        axum::routing::post(|| async {
            axum::Json(
                json!({"id": "resp_gw", "object": "response", "model": "gpt-5",
                "output": [], "usage": {"input_tokens": 12, "output_tokens": 5, "total_tokens": 17,
                "input_tokens_details": {"cached_tokens": 4},
                "output_tokens_details": {"reasoning_tokens": 2}}}),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn rows(ch: &Channel, token: &str, filter: UsageFilter) -> Vec<UsageRow> {
    UsageServiceClient::new(ch.clone())
        .list_usage_rows(authed(
            token,
            ListUsageRowsRequest {
                page: Some(PageRequest {
                    page_size: 100,
                    page_token: String::new(),
                }),
                filter: Some(filter),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .rows
}

async fn reports_are_priced_idempotent_and_include_gateway_calls(ready: Ready) {
    let key = ready.host_key("usage.example.com").await;
    let mut lines = rollout_lines();
    // The first session says which model its turns ran (the fixture's stub model has no price).
    lines.insert(
        1,
        json!({"timestamp": "2026-11-23T17:56:49.430Z", "type": "turn_context",
               "payload": {"cwd": "/w", "model": "gpt-5", "approval_policy": "never"}}),
    );
    let mut usages = lines.clone();
    usages.push(json!({"model": "gpt-5", "input_tokens": "1,000,000",
        "cached_input_tokens": 400000, "output_tokens": 100000, "session_id": "s-x",
        "turn_id": "t-1"}));
    let kind = |i: usize| {
        lines[i]["payload"]["type"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let records: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i]["type"] == "token_usage_record")
        .collect();
    let counts: Vec<usize> = (0..lines.len())
        .filter(|&i| kind(i) == "token_count")
        .collect();
    let others: Vec<usize> = (0..lines.len())
        .filter(|&i| ["task_started", "task_complete"].contains(&kind(i).as_str()))
        .collect();
    assert_eq!((records.len(), counts.len(), others.len()), (4, 4, 6));

    let (status, body) = ready
        .host_post(&key, "/usage", json!({ "usages": usages }))
        .await;
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    assert_eq!(d["recorded_count"], 5, "{d}");
    // Codex writes each response twice (record and running count): counted once.
    assert_eq!(d["superseded"], json!(counts), "{d}");
    let refused: Vec<u64> = d["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(
        refused,
        others.iter().map(|&i| i as u64).collect::<Vec<_>>()
    );
    let priced = d["usages"].as_array().unwrap().last().unwrap();
    // 600k fresh input × 1.25 + 400k cached × 0.125 + 100k output × 10 USD per million.
    assert_eq!(priced["cost"], 1.8, "{priced}");
    assert_eq!(priced["unpriced"], false);
    let first = &d["usages"][0];
    assert_eq!(first["response_id"], "resp_82b4b7a1b665");
    assert_eq!(
        (first["total"].clone(), first["cached"].clone()),
        (json!(130), json!(100))
    );
    // 23 fresh × 1.25 + 100 cached × 0.125 + 7 × 10 = 111.25 micros.
    assert_eq!(
        (first["model"].clone(), first["cost"].clone()),
        (json!("gpt-5"), json!(0.000111))
    );
    let third = &d["usages"][2];
    assert_eq!(
        third["unpriced"], true,
        "the next session's stub model has no price"
    );
    assert_eq!(d["cost"], 1.800222);
    assert_eq!(d["currency"], "USD");
    assert_eq!(
        d["quota_recorded"], true,
        "token_count lines carried rate limits"
    );
    // The newest of them is the fleet's quota in /auth answers and for admins.
    let (status, body) = ready
        .host_post(
            &key,
            "/auth",
            json!({"command": "retrieve", "last_refresh": "2026-01-01T00:00:00Z",
                   "digest": "0".repeat(64)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let quota = &body["data"]["chatgpt_usage"];
    assert_eq!(quota["status"], "ok", "{quota}");
    assert_eq!(quota["primary_window"]["used_percent"], 43, "{quota}");
    assert_eq!(quota["primary_window"]["limit_seconds"], 18000);
    assert_eq!(quota["secondary_window"]["used_percent"], 13);
    assert_eq!(quota["fetched_at"], "2026-11-23T17:57:43.819Z");
    let (status, body) = ready.admin_get("/admin/chatgpt/usage").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["snapshot"]["primary_window"]["used_percent"],
        43
    );
    let (status, body) = ready
        .admin_get("/admin/chatgpt/usage/history?days=90")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["history"][0]["primary_window"]["used_percent"],
        42.5
    );
    let (status, _) = ready.admin_get("/admin/chatgpt/usage/history?days=0").await;
    assert_eq!(status, 422);

    // The same file again: nothing new.
    let (status, body) = ready
        .host_post(&key, "/usage", json!({ "usages": usages }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["recorded_count"], 0, "{body}");
    assert_eq!(body["data"]["duplicates"].as_array().unwrap().len(), 5);
    let (_, body) = ready
        .admin_get("/admin/chatgpt/usage/history?days=90")
        .await;
    assert_eq!(
        body["data"]["history"].as_array().unwrap().len(),
        1,
        "not twice: {body}"
    );

    let ch = ready.srv.channel().await;
    let mine = rows(&ch, &ready.admin, UsageFilter::default()).await;
    assert_eq!(mine.len(), 5);
    assert!(mine.iter().all(|r| r.source == UsageSource::Host as i32));
    let ingests = UsageServiceClient::new(ch.clone())
        .list_ingests(authed(&ready.admin, ListIngestsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .ingests;
    assert_eq!(ingests.len(), 2);
    assert_eq!((ingests[0].row_count, ingests[0].duplicate_count), (0, 5));
    assert_eq!((ingests[1].row_count, ingests[1].error_count), (5, 6));
    assert_eq!(ingests[1].cost_micros, 1_800_222);

    // A /v1 call through the gateway is usage too, priced from the shipped table.
    let url = upstream().await;
    let (status, body) = ready
        .admin_post(
            "/api/v1/providers",
            json!({"name": "local", "kind": "openai-compatible", "base_url": url,
                   "wire_api": "responses", "models": [{"name": "fast", "upstream": "gpt-5.1"}],
                   "api_key": "sk-x"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = json(
        ready
            .srv
            .post("/v1/responses")
            .bearer_auth(&key)
            .json(&json!({"model": "fast", "input": "hi"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let gateway = UsageFilter {
        source: UsageSource::Gateway as i32,
        ..Default::default()
    };
    let mut found = Vec::new();
    for _ in 0..50 {
        found = rows(&ch, &ready.admin, gateway.clone()).await;
        if !found.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found.len(), 1, "the call's usage is recorded");
    let g = &found[0];
    assert_eq!(g.response_id, "resp_gw");
    assert_eq!(g.model, "gpt-5.1", "priced as what the upstream ran");
    assert_eq!(g.tokens.unwrap().input_tokens, 12);
    // 8 fresh × 1.25 + 4 cached × 0.125 + 5 × 10 = 60.5 micros, rounded half up.
    assert_eq!((g.cost_micros, g.pricing_missing), (61, false));
    assert!(!g.host_id.is_empty());

    // The host reporting that response afterwards does not count it again.
    let (status, body) = ready
        .host_post(
            &key,
            "/usage",
            json!({"type": "token_usage_record", "timestamp": "2026-11-23T17:56:49.521Z",
                   "payload": {"session_id": "s-gw", "turn_id": "t", "response_id": "resp_gw",
                   "usage": {"input_tokens": 12, "cached_input_tokens": 4, "output_tokens": 5,
                             "reasoning_output_tokens": 2, "total_tokens": 17}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["recorded_count"], 0, "{body}");
    assert_eq!(body["data"]["duplicates"], json!([0]));

    // A person sees only their own usage.
    let session = sign_in(&ready.srv, &ready.admin, "ulla").await;
    let token = new_token(&ready.srv, &session, json!({"name": "t"})).await;
    assert!(rows(&ch, &token, UsageFilter::default()).await.is_empty());
    let err = UsageServiceClient::new(ch.clone())
        .list_usage_rows(authed(
            &ready.admin,
            ListUsageRowsRequest {
                filter: Some(UsageFilter {
                    host_id: "x".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

on_all_backends!(ready(auth_on()) => reports_are_priced_idempotent_and_include_gateway_calls);

async fn prices_are_managed_and_apply_from_their_date(ready: Ready) {
    let ch = ready.srv.channel().await;
    let mut usage = UsageServiceClient::new(ch.clone());
    let current = usage
        .list_prices(authed(&ready.admin, ListPricesRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .prices;
    let gpt5 = current.iter().find(|p| p.model == "gpt-5").unwrap();
    assert_eq!(gpt5.source, PriceSource::Default as i32);
    assert_eq!(gpt5.output_per_million_micros, 10_000_000);

    let created = usage
        .create_price_snapshot(authed(
            &ready.admin,
            CreatePriceSnapshotRequest {
                model: "stub-model".into(),
                input_per_million_micros: 1_000_000,
                cached_input_per_million_micros: 100_000,
                output_per_million_micros: 2_000_000,
                currency: String::new(),
                effective_at: Some(codex_central_proto::ms_to_timestamp(1_700_000_000_000)),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .price
        .unwrap();
    assert_eq!(created.currency, "USD");
    // The fixture's rows (2026) now cost: 23 fresh × 1 + 100 cached × 0.1 + 7 × 2 = 47 micros.
    let key = ready.host_key("p.example.com").await;
    let mut record = rollout_lines()[2].clone();
    record["payload"]["model"] = json!("stub-model");
    let (status, body) = ready.host_post(&key, "/usage", record).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["unpriced"], false, "{body}");
    assert_eq!(body["data"]["cost"], 0.000047);

    for (req, field) in [
        (
            CreatePriceSnapshotRequest {
                model: "m".into(),
                currency: "EUR".into(),
                ..Default::default()
            },
            "currency",
        ),
        (
            CreatePriceSnapshotRequest {
                model: " ".into(),
                ..Default::default()
            },
            "model",
        ),
        (
            CreatePriceSnapshotRequest {
                model: "m".into(),
                input_per_million_micros: -1,
                ..Default::default()
            },
            "input_per_million_micros",
        ),
    ] {
        let err = usage
            .create_price_snapshot(authed(&ready.admin, req))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{field}");
        assert!(err.message().contains(field) || format!("{err:?}").contains(field));
    }
    let again = usage
        .create_price_snapshot(authed(
            &ready.admin,
            CreatePriceSnapshotRequest {
                model: "stub-model".into(),
                effective_at: created.effective_at,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    let err = usage
        .delete_price_snapshot(authed(
            &ready.admin,
            DeletePriceSnapshotRequest {
                id: gpt5.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    usage
        .delete_price_snapshot(authed(
            &ready.admin,
            DeletePriceSnapshotRequest {
                id: created.id.clone(),
            },
        ))
        .await
        .unwrap();
    let history = usage
        .list_prices(authed(
            &ready.admin,
            ListPricesRequest {
                model: "stub-model".into(),
                include_history: true,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .prices;
    assert!(history.is_empty());
    // A price that arrives after the usage: recomputing prices the stored rows and their sums.
    let (status, body) = ready
        .host_post(
            &key,
            "/usage",
            json!({"usages": [
                {"model": "late-model", "input_tokens": 1000, "output_tokens": 100, "turn_id": "l1"},
                {"model": "gpt-5", "input_tokens": 1000, "output_tokens": 100, "turn_id": "l2"}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["usages"][0]["unpriced"], true);
    let (status, body) = ready
        .admin_post(
            "/api/v1/usage/prices",
            json!({"model": "late-model", "input_per_million_micros": 2_000_000,
                   "output_per_million_micros": 10_000_000,
                   "effective_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = ready
        .admin_post("/api/v1/usage/recompute-costs", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    // The late row gets its price; the stub model's row loses the price deleted above.
    assert_eq!(body["data"]["rows_changed"], 2, "{body}");
    let (_, body) = ready
        .admin_get("/api/v1/usage/aggregate?group_by=model&model=late-model")
        .await;
    let late = &body["data"]["buckets"][0];
    // 1000 × 2 + 100 × 10 = 3000 micros.
    assert_eq!(
        (
            late["cost_micros"].clone(),
            late["unpriced_rows"].clone(),
            late["row_count"].clone()
        ),
        (json!(3000), json!(0), json!(1)),
        "{body}"
    );
    let (_, body) = ready
        .admin_post("/api/v1/usage/recompute-costs", json!({}))
        .await;
    assert_eq!(
        body["data"]["rows_changed"], 0,
        "nothing changes twice: {body}"
    );

    // Only admins change prices.
    let session = sign_in(&ready.srv, &ready.admin, "pia").await;
    let token = new_token(&ready.srv, &session, json!({"name": "t"})).await;
    let err = usage
        .create_price_snapshot(authed(
            &token,
            CreatePriceSnapshotRequest {
                model: "m".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

on_all_backends!(ready(auth_on()) => prices_are_managed_and_apply_from_their_date);

/// Reports with their own times on two hosts: totals per key and per period, over ranges that
/// cut days, the cost history, the summaries in `/auth` and the overview, the peer's listings.
async fn totals_come_from_the_daily_sums(ready: Ready) {
    use chrono::{Datelike, Duration as Days, TimeZone, Utc};
    let now = Utc::now();
    let today = Utc
        .with_ymd_and_hms(now.year(), now.month(), now.day(), 0, 0, 0)
        .unwrap();
    let a = ready.host_key("a.example.com").await;
    let b = ready.host_key("b.example.com").await;
    let entry = |turn: &str, at: chrono::DateTime<Utc>, model: &str, input: u64, output: u64| {
        json!({"turn_id": turn, "session_id": "s", "recorded_at": at.to_rfc3339(),
               "model": model, "input_tokens": input, "output_tokens": output})
    };
    let e1 = (now - Days::seconds(1), 110u64);
    let e2 = (today - Days::hours(12), 55u64);
    let e3 = (today - Days::days(10) + Days::hours(1), 1000u64);
    let (status, body) = ready
        .host_post(
            &a,
            "/usage",
            json!({"usages": [
                entry("t1", e1.0, "gpt-5", 100, 10),
                entry("t2", e2.0, "unknown-model", 50, 5),
                entry("t3", e3.0, "gpt-5", 1000, 0),
            ]}),
        )
        .await;
    assert_eq!(
        (status, body["data"]["recorded_count"].clone()),
        (200, json!(3)),
        "{body}"
    );
    let (status, _) = ready
        .host_post(
            &b,
            "/usage",
            entry("t4", now - Days::seconds(2), "gpt-5", 7, 3),
        )
        .await;
    assert_eq!(status, 200);

    let r = &ready;
    let get = |path: String| async move { r.admin_get(&path).await };
    let (status, body) = get("/api/v1/usage/aggregate?group_by=host".into()).await;
    assert_eq!(status, 200, "{body}");
    let buckets = body["data"]["buckets"].as_array().unwrap().clone();
    let by_label: std::collections::BTreeMap<String, (u64, u64)> = buckets
        .iter()
        .map(|b| {
            (
                b["label"].as_str().unwrap().to_string(),
                (
                    b["tokens"]["total_tokens"].as_u64().unwrap(),
                    b["row_count"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(by_label["a.example.com"], (1165, 3), "{body}");
    assert_eq!(by_label["b.example.com"], (10, 1), "{body}");
    assert_eq!(body["data"]["totals"]["total_tokens"], 1175);

    let (_, body) = get("/api/v1/usage/aggregate?group_by=model".into()).await;
    let unknown = body["data"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["key"] == "unknown-model")
        .unwrap()
        .clone();
    assert_eq!(
        (
            unknown["unpriced_rows"].clone(),
            unknown["cost_micros"].clone()
        ),
        (json!(1), json!(0))
    );

    // A range that starts and ends inside days: those parts come from the rows themselves.
    let since = (today - Days::hours(18)).to_rfc3339();
    let until = (now + Days::seconds(1)).to_rfc3339();
    let q = |s: &str| s.replace('+', "%2B");
    let (status, body) = get(format!(
        "/api/v1/usage/aggregate?group_by=day&since={}&until={}",
        q(&since),
        q(&until)
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["totals"]["total_tokens"], 175, "{body}");
    let days: Vec<&str> = body["data"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["key"].as_str().unwrap())
        .collect();
    let day = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let mut expected = vec![day(e2.0), day(e1.0)];
    expected.dedup();
    assert_eq!(days, expected);
    let (status, body) = get("/api/v1/usage/aggregate?group_by=fortnight".into()).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["group_by"].is_array());
    let (status, _) = get("/api/v1/usage/rows?since=yesterday".into()).await;
    assert_eq!(status, 422);

    let (status, body) = get("/api/v1/usage/cost-history?days=30".into()).await;
    assert_eq!(status, 200, "{body}");
    let points = body["data"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 30);
    let sum: u64 = points
        .iter()
        .map(|p| p["tokens"]["total_tokens"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 1175);
    assert_eq!(body["data"]["has_pricing"], true);

    // Today, this week and this month, as the host's /auth answer and the overview count them.
    let week_start = today - Days::days(i64::from(today.weekday().num_days_from_monday()));
    let month_start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap();
    let within = |from: chrono::DateTime<Utc>| {
        [e1, e2, e3]
            .iter()
            .filter(|(at, _)| *at >= from)
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    let (status, body) = get("/api/v1/usage/summary".into()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["day"]["tokens"]["total_tokens"],
        within(today) + 10
    );
    assert_eq!(
        body["data"]["week"]["tokens"]["total_tokens"],
        within(week_start) + 10
    );
    assert_eq!(
        body["data"]["month"]["tokens"]["total_tokens"],
        within(month_start) + 10
    );
    let (status, body) = ready
        .host_post(
            &a,
            "/auth",
            json!({"command": "retrieve", "last_refresh": "2026-01-01T00:00:00Z",
                   "digest": "0".repeat(64)}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["token_usage_month"],
        within(month_start),
        "{body}"
    );
    let (_, body) = get("/admin/overview".into()).await;
    assert_eq!(body["data"]["tokens_day"], within(today) + 10, "{body}");
    assert_eq!(body["data"]["pricing"]["currency"], "USD");

    // The peer's listings.
    let (status, body) = get("/admin/usage?limit=2".into()).await;
    assert_eq!(status, 200, "{body}");
    let usages = body["data"]["usages"].as_array().unwrap();
    assert_eq!(usages.len(), 2);
    assert_eq!(usages[0]["total"], 110, "newest first: {body}");
    let (_, body) = get("/admin/tokens".into()).await;
    assert_eq!(body["data"]["tokens"].as_array().unwrap().len(), 4);
    let (status, body) = get("/admin/usage/cost-history?days=7".into()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["points"].as_array().unwrap().len(), 7);
    assert_eq!(body["data"]["days"], 7);
    let (status, _) = get("/admin/usage/cost-history?days=181".into()).await;
    assert_eq!(status, 422);
    let (status, body) = get("/admin/usage/ingests?per_page=1&page=2".into()).await;
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    assert_eq!(
        (
            d["total"].clone(),
            d["last_page"].clone(),
            d["current_page"].clone()
        ),
        (json!(2), json!(2), json!(2)),
        "{d}"
    );
    assert_eq!(d["data"].as_array().unwrap().len(), 1);
    let (_, body) = get("/admin/usage/ingests?sort=total&direction=asc".into()).await;
    assert_eq!(body["data"]["data"][0]["total"], 10, "{body}");
    let (status, _) = get("/admin/usage/ingests?per_page=500".into()).await;
    assert_eq!(status, 422);

    // CSV: a header, then every row, streamed.
    let res = ready
        .srv
        .get("/api/v1/usage/export.csv?model=gpt-5")
        .bearer_auth(&ready.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("id,recorded_at,source,"));
    assert!(
        lines[1].contains(",gpt-5,") && lines[1].ends_with(",false,false,"),
        "{text}"
    );
    let session = sign_in(&ready.srv, &ready.admin, "csv").await;
    let token = new_token(&ready.srv, &session, json!({"name": "t"})).await;
    let mine = ready
        .srv
        .get("/api/v1/usage/export.csv")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(mine.lines().count(), 1, "a person's own rows only: {mine}");
}

on_all_backends!(ready(auth_on()) => totals_come_from_the_daily_sums);

/// A stub upstream whose every answer is a new response (ids `resp_0`, `resp_1`, …) with the
/// same usage: 61 micros at gpt-5.1's price.
async fn counting_upstream() -> String {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/v1/responses",
        axum::routing::post(move || {
            let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                axum::Json(json!({"id": format!("resp_{i}"), "object": "response",
                    "model": "gpt-5.1", "output": [], "usage": {"input_tokens": 12,
                    "output_tokens": 5, "input_tokens_details": {"cached_tokens": 4}}}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A token's daily budget is spent by calls on either replica; then both refuse it with 429
/// insufficient_quota until the day ends, and other tokens go on.
async fn budgets_hold_across_replicas(backend: crate::testkit::Backend) {
    use crate::testkit::{REPLICA_KEY, admin_token, spawn, spawn_with};
    let layer = codex_central::config::Layer {
        auth_mode: Some(codex_central::config::AuthMode::On),
        master_key: Some(REPLICA_KEY.into()),
        ..Default::default()
    };
    let Some(a) = spawn(
        backend,
        crate::testkit::Opts {
            layer: layer.clone(),
        },
    )
    .await
    else {
        return;
    };
    let b = spawn_with(
        codex_central::config::Layer {
            database_url: Some(a.db.as_ref().unwrap().url.clone()),
            ..layer
        },
        None,
    )
    .await;
    let admin = admin_token(&a).await;
    let url = counting_upstream().await;
    let res = a
        .post("/api/v1/providers")
        .bearer_auth(&admin)
        .json(
            &json!({"name": "local", "kind": "openai-compatible", "base_url": url,
                      "wire_api": "responses", "models": [{"name": "fast", "upstream": "gpt-5.1"}],
                      "api_key": "sk-x"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let session = sign_in(&a, &admin, "bea").await;
    let capped = new_token(
        &a,
        &session,
        json!({"name": "capped", "budget": {"period": "day", "micros": 100, "alert_percent": 50}}),
    )
    .await;
    let free = new_token(&a, &session, json!({"name": "free"})).await;
    let call = |srv: &crate::testkit::TestServer, token: &str| {
        srv.post("/v1/responses")
            .bearer_auth(token)
            .json(&json!({"model": "fast", "input": "hi"}))
            .send()
    };
    let ch = a.channel().await;
    let spent_rows = |n: usize| {
        let ch = ch.clone();
        let admin = admin.clone();
        async move {
            for _ in 0..50 {
                let found = rows(
                    &ch,
                    &admin,
                    UsageFilter {
                        source: UsageSource::Gateway as i32,
                        ..Default::default()
                    },
                )
                .await;
                if found.len() >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("{n} gateway rows never appeared");
        }
    };
    assert_eq!(call(&a, &capped).await.unwrap().status(), 200);
    spent_rows(1).await;
    // 61 of 100 micros spent: still allowed, on the other replica too.
    assert_eq!(call(&b, &capped).await.unwrap().status(), 200);
    spent_rows(2).await;
    for srv in [&a, &b] {
        let res = call(srv, &capped).await.unwrap();
        assert_eq!(res.status(), 429);
        assert!(res.headers().contains_key("retry-after"));
        let e: Value = res.json().await.unwrap();
        assert_eq!(e["error"]["code"], "insufficient_quota", "{e}");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("daily budget of 0.000100 USD is spent (0.000122 USD used)")
                && msg.contains("resets at"),
            "{msg}"
        );
    }
    assert_eq!(call(&b, &free).await.unwrap().status(), 200);
    // The token's soft alert (50 %) was raised by the second call, 100 % by the third, once
    // each across both replicas; its owner sees them too.
    let (_, body) = json(
        a.get("/api/v1/usage/alerts")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let mut raised: Vec<(String, u64)> = body["data"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                format!(
                    "{}:{}",
                    a["scope"].as_str().unwrap(),
                    a["metric"].as_str().unwrap()
                ),
                a["threshold"].as_u64().unwrap(),
            )
        })
        .collect();
    raised.sort();
    assert_eq!(
        raised,
        vec![
            ("token:budget".to_string(), 50),
            ("token:budget".to_string(), 100)
        ],
        "{body}"
    );
    let (_, own) = json(
        b.get("/api/v1/usage/alerts")
            .header("cookie", &session.0)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(own["data"]["alerts"].as_array().unwrap().len(), 2, "{own}");
    b.stop().await;
}

on_all_backends!(budgets_hold_across_replicas);

/// A price list served over HTTP, changeable by the test.
async fn price_list(doc: Value) -> (String, std::sync::Arc<tokio::sync::Mutex<Value>>) {
    let state = std::sync::Arc::new(tokio::sync::Mutex::new(doc));
    let served = state.clone();
    let app = axum::Router::new().route(
        "/prices.json",
        axum::routing::get(move || {
            let served = served.clone();
            async move { axum::Json(served.lock().await.clone()) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/prices.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}

/// The daily pull stores prices that differ from those in force (at start, and on demand), and
/// a list it cannot use leaves prices as they are with a clear error.
async fn prices_are_pulled_from_the_pricing_url(backend: crate::testkit::Backend) {
    let (url, list) = price_list(json!({"currency": "USD", "prices": [
        {"model": "gpt-5", "input_per_million": 1.25, "cached_input_per_million": 0.125,
         "output_per_million": 10.0},
        {"model": "new-model", "input_per_million": 3, "output_per_million": 6,
         "effective_from": "2026-01-01"}]}))
    .await;
    let Some(ready) = Ready::start(
        backend,
        crate::testkit::Opts {
            layer: codex_central::config::Layer {
                pricing_url: Some(url),
                ..auth_on().layer
            },
        },
    )
    .await
    else {
        return;
    };
    // The job pulls at start: the new model arrives, the unchanged gpt-5 price does not repeat.
    let mut prices = Value::Null;
    for _ in 0..100 {
        let (_, body) = ready.admin_get("/api/v1/usage/prices?history=true").await;
        prices = body["data"]["prices"].clone();
        if prices
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["model"] == "new-model")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let of = |model: &str| {
        prices
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["model"] == model)
            .cloned()
            .collect::<Vec<_>>()
    };
    let new = of("new-model");
    assert_eq!(new.len(), 1, "{prices}");
    assert_eq!(new[0]["source"], "pull");
    assert_eq!(new[0]["effective_at"], "2026-01-01T00:00:00.000Z");
    assert_eq!(new[0]["cached_input_per_million_micros"], 3_000_000);
    assert_eq!(of("gpt-5").len(), 1, "unchanged: {prices}");

    let (status, body) = ready
        .admin_post("/api/v1/usage/prices/sync", json!({}))
        .await;
    assert_eq!(
        (status, body["data"]["added"].clone()),
        (200, json!(0)),
        "{body}"
    );
    list.lock().await["prices"][1]["effective_from"] = json!("2026-06-01");
    list.lock().await["prices"][1]["output_per_million"] = json!(8);
    let (status, body) = ready
        .admin_post("/api/v1/usage/prices/sync", json!({}))
        .await;
    assert_eq!(
        (status, body["data"]["added"].clone()),
        (200, json!(1)),
        "{body}"
    );

    *list.lock().await = json!({"currency": "EUR", "prices": []});
    let (status, body) = ready
        .admin_post("/api/v1/usage/prices/sync", json!({}))
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body["message"].as_str().unwrap().contains("USD"), "{body}");
}

on_all_backends!(prices_are_pulled_from_the_pricing_url);

/// The quota policy is judged on the server: a host's report puts the fleet account over the
/// limit, `/auth` answers tell hosts to stop (VIP hosts excepted) and admins see why.
async fn quota_policy_is_judged_on_the_server(ready: Ready) {
    let key = ready.host_key("q.example.com").await;
    let (vip_data, vip_key) =
        crate::testkit::register_host(&ready.srv, &ready.admin, "vip.example.com").await;
    let vip_id = vip_data["host"]["id"].clone();
    let (status, body) = ready
        .admin_post(&format!("/admin/hosts/{vip_id}/vip"), json!({"vip": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = ready
        .admin_post(
            "/admin/quota-mode",
            json!({"hard_fail": true, "limit_percent": 60, "week_partition": 0}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let resets = chrono::Utc::now().timestamp() + 3600;
    let (status, body) = ready
        .host_post(
            &key,
            "/usage",
            json!({"rate_limits": {"primary": {"used_percent": 61.0, "window_minutes": 300,
                   "resets_at": resets}, "secondary": {"used_percent": 20.0,
                   "window_minutes": 10080, "resets_at": resets + 86_400}}}),
        )
        .await;
    assert_eq!(
        (status, body["data"]["quota_recorded"].clone()),
        (200, json!(true)),
        "{body}"
    );
    let (_, body) = ready.admin_get("/admin/chatgpt/usage").await;
    assert_eq!(body["data"]["status"]["over_limit"], true, "{body}");
    assert!(
        body["data"]["status"]["reason"]
            .as_str()
            .unwrap()
            .contains("5-hour window is at 61 %"),
        "{body}"
    );
    let r = &ready;
    let sync = |k: String| async move {
        r.host_post(
            &k,
            "/auth",
            json!({"command": "retrieve", "last_refresh": "2026-01-01T00:00:00Z",
                   "digest": "0".repeat(64)}),
        )
        .await
    };
    // Each replica reads the quota at most every 5 s.
    let mut answer = Value::Null;
    for _ in 0..80 {
        answer = sync(key.clone()).await.1;
        if answer["data"]["quota_exceeded"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answer["data"]["quota_exceeded"], true, "{answer}");
    assert!(
        answer["data"]["quota_reason"]
            .as_str()
            .unwrap()
            .contains("61 %")
    );
    assert_eq!(
        answer["data"]["chatgpt_usage"]["primary_window"]["used_percent"],
        61
    );
    let (_, vip) = sync(vip_key.clone()).await;
    assert_eq!(
        vip["data"]["quota_exceeded"], false,
        "VIP hosts are exempt: {vip}"
    );
    assert_eq!(vip["data"]["quota_hard_fail"], false);
}

on_all_backends!(ready(auth_on()) => quota_policy_is_judged_on_the_server);
