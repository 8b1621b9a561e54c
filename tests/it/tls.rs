//! TLS on the one listener: HTTPS with HTTP/2 via ALPN, gRPC over TLS, optional client
//! certificates verified against `--client-ca`.

use codex_central::config::Layer;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

use crate::testkit::{Backend, TestDb, spawn_with};

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
