//! Native gRPC, grpc-web, health and reflection on the same port as REST.

use bytes::{Buf, BufMut, BytesMut};
use codex_central::config::Layer;
use codex_central_proto::auth::v1::sign_in_provider_service_client::SignInProviderServiceClient;
use codex_central_proto::auth::v1::token_service_client::TokenServiceClient;
use codex_central_proto::auth::v1::user_service_client::UserServiceClient;
use codex_central_proto::auth::v1::{
    CreateServiceTokenRequest, ListOAuthProvidersRequest, ListUsersRequest, ServiceTokenScope,
    WhoAmIRequest, WhoAmIResponse,
};
use codex_central_proto::config::v1::GetConfigSettingsRequest;
use codex_central_proto::config::v1::config_service_client::ConfigServiceClient;
use codex_central_proto::fleet::v1::GetFleetPolicyRequest;
use codex_central_proto::fleet::v1::fleet_service_client::FleetServiceClient;
use codex_central_proto::memory::v1::GetMemorySettingsRequest;
use codex_central_proto::memory::v1::memory_service_client::MemoryServiceClient;
use codex_central_proto::usage::v1::usage_service_client::UsageServiceClient;
use codex_central_proto::usage::v1::{GetQuotaPolicyRequest, SyncPricingRequest};
use prost::Message;
use tokio_stream::StreamExt;
use tonic::Code;

use crate::on_all_backends;
use crate::testkit::{Backend, Opts, bearer, spawn};

async fn grpc_services_answer_with_principals(backend: Backend) {
    let opts = Opts {
        layer: Layer {
            auth_mode: Some(codex_central::config::AuthMode::On),
            ..Default::default()
        },
    };
    let Some(srv) = spawn(backend, opts).await else {
        return;
    };
    let mut identity = srv.identity().await;
    let err = identity.who_am_i(WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    let mut req = tonic::Request::new(WhoAmIRequest {});
    req.metadata_mut()
        .insert("authorization", bearer("cct_not-a-token"));
    assert_eq!(
        identity.who_am_i(req).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    // Internal metadata from an outside client is not trusted.
    let mut req = tonic::Request::new(WhoAmIRequest {});
    req.metadata_mut()
        .insert("x-cc-internal", "guess".parse().unwrap());
    assert_eq!(
        identity.who_am_i(req).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    let token = crate::testkit::admin_token(&srv).await;
    let me = identity
        .who_am_i(with(&token, WhoAmIRequest {}))
        .await
        .unwrap()
        .into_inner();
    let p = me.principal.unwrap();
    assert_eq!(p.name, "bootstrap");
    assert_eq!(me.auth_mode, "on");
    assert_eq!(me.client_ip, "127.0.0.1");

    let ch = srv.channel().await;
    let created = TokenServiceClient::new(ch.clone())
        .create_service_token(with(
            &token,
            CreateServiceTokenRequest {
                name: "grpc".into(),
                scope: ServiceTokenScope::Read as i32,
                expires_in_seconds: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(created.secret.starts_with("cct_"));
    let users = UserServiceClient::new(ch.clone())
        .list_users(with(&token, ListUsersRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(users.users.is_empty());
    let providers = SignInProviderServiceClient::new(ch.clone())
        .list_o_auth_providers(with(&token, ListOAuthProvidersRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(providers.providers.is_empty());

    let policy = FleetServiceClient::new(ch.clone())
        .get_fleet_policy(with(&token, GetFleetPolicyRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(policy.policy.unwrap().api_enabled);
    let quota = UsageServiceClient::new(ch.clone())
        .get_quota_policy(with(&token, GetQuotaPolicyRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(quota.policy.unwrap().limit_percent, 100);
    let cfg = ConfigServiceClient::new(ch.clone())
        .get_config_settings(with(&token, GetConfigSettingsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(cfg.settings.unwrap().managed_mcp_enabled);
    let mem = MemoryServiceClient::new(ch.clone())
        .get_memory_settings(with(&token, GetMemorySettingsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(mem.settings.unwrap().max_content_bytes, 65536);
    // Without a pricing_url there is nothing to pull, and the answer says so.
    let err = UsageServiceClient::new(ch)
        .sync_pricing(with(&token, SyncPricingRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("pricing_url"), "{err:?}");
    srv.stop().await;
}

on_all_backends!(grpc_services_answer_with_principals);

fn with<T>(token: &str, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert("authorization", bearer(token));
    req
}

const SERVICES: [&str; 11] = [
    "codexcentral.auth.v1.IdentityService",
    "codexcentral.auth.v1.UserService",
    "codexcentral.auth.v1.SessionService",
    "codexcentral.auth.v1.TokenService",
    "codexcentral.auth.v1.SignInProviderService",
    "codexcentral.auth.v1.ByokService",
    "codexcentral.auth.v1.CodexAuthService",
    "codexcentral.fleet.v1.FleetService",
    "codexcentral.usage.v1.UsageService",
    "codexcentral.config.v1.ConfigService",
    "codexcentral.memory.v1.MemoryService",
];

#[tokio::test]
async fn reflection_lists_every_service_v1_and_v1alpha() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1alpha;

    // Auth mode on: reflection and health stay open, like any gRPC server's discovery.
    let opts = Opts {
        layer: Layer {
            auth_mode: Some(codex_central::config::AuthMode::On),
            ..Default::default()
        },
    };
    let srv = spawn(Backend::Sqlite, opts).await.unwrap();
    let ch = srv.channel().await;
    let mut client = ServerReflectionClient::new(ch.clone());
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .unwrap()
        .into_inner();
    let res = stream.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = res.message_response else {
        panic!("unexpected {res:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for s in SERVICES.iter().chain(&["grpc.health.v1.Health"]) {
        assert!(names.iter().any(|n| n == s), "{s} missing from {names:?}");
    }
    // A client can fetch the descriptor of a service to build calls from it.
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            "codexcentral.auth.v1.CodexAuthService".into(),
        )),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .unwrap()
        .into_inner();
    let res = stream.next().await.unwrap().unwrap();
    assert!(
        matches!(res.message_response, Some(MessageResponse::FileDescriptorResponse(ref f)) if !f.file_descriptor_proto.is_empty())
    );

    let mut alpha = v1alpha::server_reflection_client::ServerReflectionClient::new(ch.clone());
    let req = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut stream = alpha
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .unwrap()
        .into_inner();
    let res = stream.next().await.unwrap().unwrap();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        res.message_response
    else {
        panic!()
    };
    assert!(
        list.service
            .iter()
            .any(|s| s.name == "codexcentral.memory.v1.MemoryService")
    );

    // Health per service.
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch);
    for s in SERVICES.iter().chain(&[""]) {
        let res = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: s.to_string(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            res.status(),
            tonic_health::pb::health_check_response::ServingStatus::Serving,
            "{s}"
        );
    }
    srv.stop().await;
}

fn grpc_web_frame(msg: &impl Message) -> Vec<u8> {
    let body = msg.encode_to_vec();
    let mut buf = BytesMut::with_capacity(5 + body.len());
    buf.put_u8(0);
    buf.put_u32(body.len() as u32);
    buf.put_slice(&body);
    buf.to_vec()
}

#[tokio::test]
async fn grpc_web_over_http1_on_the_rest_port() {
    let opts = Opts {
        layer: Layer {
            cors_origins: Some(vec!["http://dash.example".into()]),
            ..Default::default()
        },
    };
    let srv = spawn(Backend::Sqlite, opts).await.unwrap();
    let http1 = reqwest::Client::builder().http1_only().build().unwrap();
    let res = http1
        .post(format!(
            "{}/codexcentral.auth.v1.IdentityService/WhoAmI",
            srv.url
        ))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(grpc_web_frame(&WhoAmIRequest {}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.version(), reqwest::Version::HTTP_11);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/grpc-web")
    );
    let mut body = res.bytes().await.unwrap();
    // Data frame, then the trailer frame carrying grpc-status.
    assert_eq!(body.get_u8(), 0);
    let len = body.get_u32() as usize;
    let me = WhoAmIResponse::decode(body.split_to(len)).unwrap();
    assert_eq!(
        me.principal.unwrap().kind,
        codex_central_proto::common::v1::PrincipalKind::LocalAdmin as i32
    );
    assert_eq!(body.get_u8(), 0x80);
    let len = body.get_u32() as usize;
    let trailers = String::from_utf8(body.split_to(len).to_vec()).unwrap();
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
    // Every auth service is reachable over grpc-web, not only identity.
    for path in [
        "codexcentral.auth.v1.UserService/GetSetupStatus",
        "codexcentral.auth.v1.TokenService/ListServiceTokens",
        "codexcentral.auth.v1.SignInProviderService/ListLoginProviders",
    ] {
        let res = http1
            .post(format!("{}/{path}", srv.url))
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            // Each of these requests is empty, so an empty message encodes it.
            .body(grpc_web_frame(&()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let body = res.bytes().await.unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("grpc-status:0"), "{path}: {text}");
    }

    // REST on the same port, same connection type.
    assert_eq!(
        http1
            .get(format!("{}/healthz", srv.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // CORS preflight for the configured origin, none for others.
    let pre = http1
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/codexcentral.auth.v1.IdentityService/WhoAmI", srv.url),
        )
        .header("origin", "http://dash.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type,x-grpc-web")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success());
    assert_eq!(
        pre.headers()["access-control-allow-origin"],
        "http://dash.example"
    );
    let pre = http1
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/codexcentral.auth.v1.IdentityService/WhoAmI", srv.url),
        )
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(pre.headers().get("access-control-allow-origin").is_none());
    srv.stop().await;
}
