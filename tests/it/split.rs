//! `--role services` and `--role gateway --services-url` over a real socket.

use codex_central::config::Layer;
use codex_central_proto::auth::v1::WhoAmIRequest;
use serde_json::Value;

use crate::testkit::{Backend, TestDb, spawn_with};

const SECRET: &str = "split-mode-internal-secret-0123456789abcdef";

#[tokio::test]
async fn gateway_reaches_services_over_a_socket() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let services = spawn_with(
        Layer {
            role: Some(codex_central::config::ProcessRole::Services),
            database_url: Some(db.url.clone()),
            internal_secret: Some(SECRET.into()),
            trusted_proxies: Some(vec!["127.0.0.1/32".into()]),
            ..Default::default()
        },
        Some(db),
    )
    .await;
    let gateway = spawn_with(
        Layer {
            role: Some(codex_central::config::ProcessRole::Gateway),
            services_url: Some(services.endpoint()),
            internal_secret: Some(SECRET.into()),
            trusted_proxies: Some(vec!["127.0.0.1/32".into()]),
            ..Default::default()
        },
        None,
    )
    .await;

    // REST lives on the gateway only.
    assert_eq!(
        services
            .get("/api/v1/whoami")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let res: Value = gateway
        .get("/api/v1/whoami")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["data"]["principal"]["kind"], "local", "{res}");
    assert_eq!(res["data"]["client_ip"], "127.0.0.1");
    let res = gateway.get("/api/v1/fleet/policy").send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Readiness of the gateway is the services' readiness.
    assert_eq!(gateway.get("/readyz").send().await.unwrap().status(), 200);
    assert_eq!(services.get("/readyz").send().await.unwrap().status(), 200);
    // gRPC sent to the gateway is forwarded to the services.
    let me = gateway
        .identity()
        .await
        .who_am_i(WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.auth_mode, "off");

    // A gateway with the wrong internal secret is refused by the services.
    let rogue = spawn_with(
        Layer {
            role: Some(codex_central::config::ProcessRole::Gateway),
            services_url: Some(services.endpoint()),
            internal_secret: Some("another-secret-that-is-long-enough-0000000".into()),
            ..Default::default()
        },
        None,
    )
    .await;
    let res = rogue.get("/api/v1/fleet/policy").send().await.unwrap();
    assert_eq!(res.status(), 401);

    // With the services gone, the gateway is not ready and says why.
    services.stop().await;
    let res = gateway.get("/readyz").send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "error");
    let res = gateway.get("/api/v1/fleet/policy").send().await.unwrap();
    assert_eq!(res.status(), 503);
    gateway.stop().await;
    rogue.stop().await;
}
