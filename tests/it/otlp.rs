//! With `OTEL_EXPORTER_OTLP_ENDPOINT` set, request spans reach an OTLP/gRPC collector.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tokio::sync::mpsc;

struct Collector(mpsc::UnboundedSender<ExportTraceServiceRequest>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let _ = self.0.send(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_spans_are_exported_over_otlp() {
    codex_central::listener::install_crypto_provider();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(Collector(tx)))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );

    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_codex-central"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{collector_addr}"),
        )
        .env("OTEL_BSP_SCHEDULE_DELAY", "200")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/api/v1/whoami");
    let deadline = Instant::now() + Duration::from_secs(20);
    while http
        .get(&url)
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut names = Vec::new();
    let mut service_named = false;
    let deadline = Instant::now() + Duration::from_secs(20);
    while !names.iter().any(|n: &String| n == "request") {
        let _ = http.get(&url).send().await;
        if let Ok(Some(batch)) = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await {
            for rs in batch.resource_spans {
                service_named |= rs.resource.iter().flat_map(|r| &r.attributes).any(|kv| {
                    kv.key == "service.name" && format!("{:?}", kv.value).contains("codex-central")
                });
                names.extend(
                    rs.scope_spans
                        .into_iter()
                        .flat_map(|s| s.spans)
                        .map(|s| s.name),
                );
            }
        }
        assert!(
            Instant::now() < deadline,
            "no request span exported; got {names:?}"
        );
    }
    assert!(service_named, "spans carry service.name = codex-central");
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}
