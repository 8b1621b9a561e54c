//! The fleet admin surface over gRPC gives the same results as over REST (SPEC §4: "the whole
//! admin surface in the contract is available as REST and as gRPC"), on every backend.

use codex_central::config::Layer;
use codex_central_proto::auth::v1::codex_auth_service_client::CodexAuthServiceClient;
use codex_central_proto::auth::v1::{
    CodexAuthSettings, ListHostAuthStatesRequest, RefreshTokenCustody, RetrieveCodexAuthRequest,
    RetrieveCodexAuthStatus, UpdateCodexAuthSettingsRequest, UploadCodexAuthRequest,
};
use codex_central_proto::common::v1::PageRequest;
use codex_central_proto::fleet::v1::fleet_service_client::FleetServiceClient;
use codex_central_proto::fleet::v1::*;
use codex_central_proto::usage::v1::usage_service_client::UsageServiceClient;
use codex_central_proto::usage::v1::{IngestUsageRequest, UsageEntry};
use serde_json::json;
use tonic::Code;

use crate::on_all_backends;
use crate::testkit::{Backend, Opts, admin_token, bearer, json, spawn};

fn with<T>(token: &str, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert("authorization", bearer(token));
    req
}

async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..40 {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

async fn fleet_admin_over_grpc(backend: Backend) {
    let Some(srv) = spawn(
        backend,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                ..Default::default()
            },
        },
    )
    .await
    else {
        return;
    };
    let admin = admin_token(&srv).await;
    let ch = srv.channel().await;
    let mut fleet = FleetServiceClient::new(ch.clone());

    // Without credentials: UNAUTHENTICATED, as REST answers 401.
    let err = fleet
        .list_hosts(ListHostsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    // Register over gRPC; the key works on the host REST API and REST sees the same host.
    let reg = fleet
        .register_host(with(
            &admin,
            RegisterHostRequest {
                fqdn: "g1.example.com".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let host = reg.host.unwrap();
    assert!(reg.created);
    assert!(reg.installer.is_some());
    let key = reg.api_key;
    let (status, body) = json(
        srv.get(&format!("/admin/hosts/{}", host.id))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["host"]["fqdn"], "g1.example.com");
    let retrieve = json!({"digest": "0".repeat(64), "last_refresh": "2020-01-01T00:00:00Z"});
    let (status, body) = json(
        srv.post("/auth")
            .header("x-api-key", &key)
            .json(&retrieve)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "missing");

    // Same validation and conflicts as REST.
    let err = fleet
        .register_host(with(
            &admin,
            RegisterHostRequest {
                fqdn: "g1.example.com".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    let err = fleet
        .register_host(with(
            &admin,
            RegisterHostRequest {
                fqdn: "not a host!".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let (status, _) = json(
        srv.post("/admin/hosts/register")
            .bearer_auth(&admin)
            .json(&json!({"fqdn": "not a host!"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);

    // Upload the canonical auth.json over gRPC; with custody `shared` (set over gRPC too) the
    // host receives exactly that document.
    let settings = CodexAuthServiceClient::new(ch.clone())
        .update_codex_auth_settings(with(
            &admin,
            UpdateCodexAuthSettingsRequest {
                settings: Some(CodexAuthSettings {
                    refresh_token_custody: RefreshTokenCustody::Shared as i32,
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        settings.settings.unwrap().refresh_token_custody(),
        RefreshTokenCustody::Shared
    );
    let doc = crate::fleet::document(5, "grpc");
    let up = CodexAuthServiceClient::new(ch.clone())
        .upload_codex_auth(with(
            &admin,
            UploadCodexAuthRequest {
                auth_json: doc,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let (_, body) = json(
        srv.post("/auth")
            .header("x-api-key", &key)
            .json(&retrieve)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["status"], "outdated", "{body}");
    assert_eq!(
        body["data"]["canonical_digest"],
        up.canonical_digest.as_str()
    );

    // Hosts may speak gRPC too: the host key as bearer, with the REST host API's checks.
    let mut host_auth = CodexAuthServiceClient::new(ch.clone());
    let got = host_auth
        .retrieve_codex_auth(with(
            &key,
            RetrieveCodexAuthRequest {
                digest: "0".repeat(64),
                last_refresh: "2020-01-01T00:00:00Z".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.status(), RetrieveCodexAuthStatus::Outdated);
    assert_eq!(got.canonical_digest, up.canonical_digest);
    let rest_auth = body["data"]["auth"].to_string();
    assert_eq!(got.auth_json.as_deref(), Some(rest_auth.as_str()));
    // An empty host id lists every host's sync state (the dashboard's fleet view); one host's
    // id narrows it; anything else is a 422-class error naming the field.
    let mut states = CodexAuthServiceClient::new(ch.clone());
    let all = states
        .list_host_auth_states(with(&admin, ListHostAuthStatesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(all.states.iter().any(|s| s.host_id == host.id), "{all:?}");
    assert_eq!(all.canonical_digest, up.canonical_digest);
    let one = states
        .list_host_auth_states(with(
            &admin,
            ListHostAuthStatesRequest {
                host_id: host.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(one.states.len(), 1);
    let err = states
        .list_host_auth_states(with(
            &admin,
            ListHostAuthStatesRequest {
                host_id: "not-a-host".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let usage = UsageServiceClient::new(ch.clone())
        .ingest_usage(with(
            &key,
            IngestUsageRequest {
                entries: vec![
                    UsageEntry {
                        total_tokens: Some(42),
                        ..Default::default()
                    },
                    UsageEntry {
                        input_tokens: Some(100),
                        cache_write_input_tokens: Some(30),
                        output_tokens: Some(7),
                        model: "gpt-5.1".into(),
                        response_id: "resp_grpc_1".into(),
                        ..Default::default()
                    },
                ],
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(usage.recorded, 2);
    let written = usage.rows[1].tokens.unwrap_or_default();
    assert_eq!(
        (written.input_tokens, written.cache_write_input_tokens),
        (100, 30)
    );
    // The response id makes the entry idempotent.
    let again = UsageServiceClient::new(ch.clone())
        .ingest_usage(with(
            &key,
            IngestUsageRequest {
                entries: vec![UsageEntry {
                    input_tokens: Some(100),
                    output_tokens: Some(7),
                    response_id: "resp_grpc_1".into(),
                    ..Default::default()
                }],
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.recorded, 0, "{again:?}");
    let err = host_auth
        .retrieve_codex_auth(with(
            &format!("cch_{}", "cd".repeat(32)),
            RetrieveCodexAuthRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    // A host key is no admin credential on gRPC either.
    let err = fleet
        .list_hosts(with(&key, ListHostsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // Host settings over gRPC show in REST.
    fleet
        .set_host_roaming(with(
            &admin,
            SetHostRoamingRequest {
                id: host.id.clone(),
                allow: true,
            },
        ))
        .await
        .unwrap();
    let (_, body) = json(
        srv.get(&format!("/admin/hosts/{}", host.id))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["host"]["allow_roaming_ips"], true, "{body}");

    // Listing with search and keyset pagination.
    fleet
        .register_host(with(
            &admin,
            RegisterHostRequest {
                fqdn: "g2.example.com".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let page = fleet
        .list_hosts(with(
            &admin,
            ListHostsRequest {
                page: Some(PageRequest {
                    page_size: 1,
                    page_token: String::new(),
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.hosts.len(), 1);
    assert_eq!(page.total_count, 2);
    let next = fleet
        .list_hosts(with(
            &admin,
            ListHostsRequest {
                page: Some(PageRequest {
                    page_size: 1,
                    page_token: page.next_page_token.clone(),
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.hosts.len(), 1);
    assert_ne!(next.hosts[0].id, page.hosts[0].id);
    let found = fleet
        .list_hosts(with(
            &admin,
            ListHostsRequest {
                query: "g2".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.hosts.len(), 1);
    assert_eq!(found.hosts[0].fqdn, "g2.example.com");

    // The kill switch set over gRPC stops the host API (within the gateway's cache second).
    fleet
        .set_api_state(with(&admin, SetApiStateRequest { api_enabled: false }))
        .await
        .unwrap();
    let auth_status = async || {
        srv.post("/auth")
            .header("x-api-key", &key)
            .json(&retrieve)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert!(eventually(async || auth_status().await == 503).await);
    let err = host_auth
        .retrieve_codex_auth(with(&key, RetrieveCodexAuthRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(err.message(), "API disabled by administrator");
    fleet
        .set_api_state(with(&admin, SetApiStateRequest { api_enabled: true }))
        .await
        .unwrap();
    assert!(eventually(async || auth_status().await == 200).await);

    // The fleet Codex version pinned over gRPC is what hosts see.
    fleet
        .set_codex_version_policy(with(
            &admin,
            SetCodexVersionPolicyRequest {
                selection: "v0.170.0".into(),
            },
        ))
        .await
        .unwrap();
    assert!(
        eventually(async || {
            json(srv.get("/versions").send().await.unwrap()).await.1["data"]["client_version"]
                == "0.170.0"
        })
        .await
    );
    let err = fleet
        .set_codex_version_policy(with(
            &admin,
            SetCodexVersionPolicyRequest {
                selection: "soon".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    // Wrapper releases: publish over gRPC, admins download the template, hosts the baked copy.
    let template = b"#!/bin/sh\nKEY=__CODEX_SYNC_API_KEY__\n".to_vec();
    fleet
        .publish_wrapper_release(with(
            &admin,
            PublishWrapperReleaseRequest {
                version: "3.0.0".into(),
                platform: "script".into(),
                kind: WrapperKind::LegacyScript as i32,
                content: template.clone(),
                sha256: String::new(),
            },
        ))
        .await
        .unwrap();
    let mut stream = fleet
        .download_wrapper(with(&admin, DownloadWrapperRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    let mut head = None;
    while let Some(m) = stream.message().await.unwrap() {
        match m.item.unwrap() {
            download_wrapper_response::Item::Release(r) => head = Some(r),
            download_wrapper_response::Item::Chunk(c) => got.extend(c),
        }
    }
    assert_eq!(got, template);
    assert_eq!(head.unwrap().version, "3.0.0");
    let baked = srv
        .get("/wrapper/download")
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(baked, format!("#!/bin/sh\nKEY={key}\n"));
    let listed = fleet
        .list_wrapper_releases(with(&admin, ListWrapperReleasesRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.releases.len(), 1);
    fleet
        .delete_wrapper_release(with(
            &admin,
            DeleteWrapperReleaseRequest {
                version: "3.0.0".into(),
                platform: "script".into(),
            },
        ))
        .await
        .unwrap();
    let (status, _) = json(
        srv.get("/wrapper")
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);

    // Deleting over gRPC revokes the key on REST.
    fleet
        .delete_host(with(
            &admin,
            DeleteHostRequest {
                id: host.id.clone(),
            },
        ))
        .await
        .unwrap();
    assert!(eventually(async || auth_status().await == 401).await);
    let err = fleet
        .get_host(with(&admin, GetHostRequest { id: host.id }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

on_all_backends!(fleet_admin_over_grpc);
