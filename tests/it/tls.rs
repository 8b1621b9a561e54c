//! TLS on the one listener: HTTPS with HTTP/2 via ALPN, gRPC over TLS, optional client
//! certificates verified against `--client-ca`.

use codex_central::config::Layer;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

use crate::testkit::{Backend, TestDb, admin_token, bearer, spawn_with};

struct Pki {
    ca_pem: String,
    server_cert: String,
    server_key: String,
    client_identity: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, &ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(vec!["ops-laptop".to_string()])
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server_cert: server.pem(),
        server_key: server_key.serialize_pem(),
        client_identity: format!("{}{}", client.pem(), client_key.serialize_pem()),
    }
}

#[tokio::test]
async fn https_with_optional_client_certificates() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = spawn_with(
        Layer {
            database_url: Some(db.url.clone()),
            tls_cert: Some(write("server.pem", &pki.server_cert)),
            tls_key: Some(write("server.key", &pki.server_key)),
            client_ca: Some(write("ca.pem", &pki.ca_pem)),
            ..Default::default()
        },
        Some(db),
    )
    .await;
    let url = format!("https://localhost:{}", srv.addr.port());
    let ca = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca.clone())
        .resolve("localhost", srv.addr)
        .build()
        .unwrap();
    let res = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.version(),
        reqwest::Version::HTTP_2,
        "ALPN negotiates h2"
    );
    let res = client
        .get(format!("{url}/api/v1/whoami"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A client presenting a certificate from the CA is accepted too.
    let identity = reqwest::Identity::from_pem(pki.client_identity.as_bytes()).unwrap();
    let with_cert = reqwest::Client::builder()
        .add_root_certificate(ca)
        .identity(identity)
        .resolve("localhost", srv.addr)
        .build()
        .unwrap();
    assert_eq!(
        with_cert
            .get(format!("{url}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Plain HTTP on a TLS port gets nowhere.
    assert!(
        reqwest::get(format!("http://{}/healthz", srv.addr))
            .await
            .is_err()
    );
    srv.stop().await;
}

/// With `admin_requires_client_cert`, an admin token is an admin only on a connection with a
/// verified client certificate; elsewhere it is a plain member.
#[tokio::test]
async fn admin_access_needs_a_client_certificate() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let srv = spawn_with(
        Layer {
            database_url: Some(db.url.clone()),
            auth_mode: Some(codex_central::config::AuthMode::On),
            tls_cert: Some(write("server.pem", &pki.server_cert)),
            tls_key: Some(write("server.key", &pki.server_key)),
            client_ca: Some(write("ca.pem", &pki.ca_pem)),
            admin_requires_client_cert: Some(true),
            ..Default::default()
        },
        Some(db),
    )
    .await;
    let admin = admin_token(&srv).await;
    let url = format!("https://localhost:{}", srv.addr.port());
    let ca = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
    let without = reqwest::Client::builder()
        .add_root_certificate(ca.clone())
        .resolve("localhost", srv.addr)
        .build()
        .unwrap();
    let with = reqwest::Client::builder()
        .add_root_certificate(ca)
        .identity(reqwest::Identity::from_pem(pki.client_identity.as_bytes()).unwrap())
        .resolve("localhost", srv.addr)
        .build()
        .unwrap();
    let hosts = |c: &reqwest::Client| {
        c.get(format!("{url}/admin/hosts"))
            .bearer_auth(&admin)
            .send()
    };
    assert_eq!(hosts(&without).await.unwrap().status(), 403);
    assert_eq!(hosts(&with).await.unwrap().status(), 200);
    // A forged proxy header from an untrusted peer changes nothing.
    let res = without
        .get(format!("{url}/admin/hosts"))
        .bearer_auth(&admin)
        .header("x-mtls-present", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let me: serde_json::Value = without
        .get(format!("{url}/api/v1/whoami"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["principal"]["role"], "member", "{me}");
    srv.stop().await;
}

/// Behind a TLS-terminating proxy, only a trusted proxy's header vouches for a client
/// certificate, on gRPC as on REST.
#[tokio::test]
async fn a_trusted_proxy_vouches_for_client_certificates() {
    use codex_central_proto::fleet::v1::ListHostsRequest;
    use codex_central_proto::fleet::v1::fleet_service_client::FleetServiceClient;
    for (trusted, expect_admin) in [("127.0.0.1/32", true), ("10.0.0.0/8", false)] {
        let db = TestDb::create(Backend::Sqlite).await.unwrap();
        let srv = spawn_with(
            Layer {
                database_url: Some(db.url.clone()),
                auth_mode: Some(codex_central::config::AuthMode::On),
                trusted_proxies: Some(vec![trusted.into()]),
                admin_requires_client_cert: Some(true),
                ..Default::default()
            },
            Some(db),
        )
        .await;
        let admin = admin_token(&srv).await;
        let rest = |vouch: bool| {
            let mut req = srv.get("/admin/hosts").bearer_auth(&admin);
            if vouch {
                req = req.header("x-ssl-client-verify", "SUCCESS");
            }
            req.send()
        };
        assert_eq!(rest(false).await.unwrap().status(), 403, "{trusted}");
        let vouched = rest(true).await.unwrap().status();
        assert_eq!(vouched == 200, expect_admin, "{trusted}: {vouched}");
        let mut grpc = FleetServiceClient::new(srv.channel().await);
        let mut req = tonic::Request::new(ListHostsRequest::default());
        req.metadata_mut().insert("authorization", bearer(&admin));
        req.metadata_mut()
            .insert("x-mtls-present", "true".parse().unwrap());
        let res = grpc.list_hosts(req).await;
        assert_eq!(res.is_ok(), expect_admin, "{trusted}: {res:?}");
        let mut req = tonic::Request::new(ListHostsRequest::default());
        req.metadata_mut().insert("authorization", bearer(&admin));
        let res = grpc.list_hosts(req).await.unwrap_err();
        assert_eq!(res.code(), tonic::Code::PermissionDenied);
        srv.stop().await;
    }
}
