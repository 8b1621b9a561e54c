//! A small closed-loop load generator: N connections, each sending its next request as soon as
//! the previous answer arrived, for a fixed time. Prints throughput and latency percentiles as
//! one JSON line so scripts can compute ratios.

use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use codex_central_proto::auth::v1::WhoAmIRequest;
use codex_central_proto::auth::v1::auth_service_client::AuthServiceClient;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    target: Target,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32, global = true)]
    connections: usize,
    /// Seconds to run.
    #[arg(long, default_value_t = 10, global = true)]
    duration: u64,
    /// Label printed with the results.
    #[arg(long, default_value = "", global = true)]
    label: String,
}

#[derive(Subcommand)]
enum Target {
    /// HTTP/1.1 GET with keep-alive.
    Http {
        url: String,
        #[arg(long)]
        token: Option<String>,
    },
    /// gRPC `AuthService/WhoAmI` over h2c, one HTTP/2 connection per worker.
    GrpcWhoami {
        url: String,
        #[arg(long)]
        token: Option<String>,
    },
}

struct WorkerResult {
    latencies_us: Vec<u32>,
    errors: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        tasks.push(match &args.target {
            Target::Http { url, token } => {
                tokio::spawn(http_worker(url.clone(), token.clone(), deadline))
            }
            Target::GrpcWhoami { url, token } => {
                tokio::spawn(grpc_worker(url.clone(), token.clone(), deadline))
            }
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let r = t.await.context("worker panicked")??;
        latencies.extend(r.latencies_us);
        errors += r.errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        f64::from(latencies[i]) / 1000.0
    };
    println!(
        "{{\"label\":\"{}\",\"connections\":{},\"requests\":{},\"errors\":{},\"rps\":{:.0},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3}}}",
        args.label,
        args.connections,
        latencies.len(),
        errors,
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0),
    );
    Ok(())
}

async fn http_worker(
    url: String,
    token: Option<String>,
    deadline: Instant,
) -> anyhow::Result<WorkerResult> {
    let uri: http::Uri = url.parse().context("url")?;
    let authority = uri.authority().context("url needs host:port")?.clone();
    let stream = tokio::net::TcpStream::connect(authority.as_str()).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut result = WorkerResult {
        latencies_us: Vec::with_capacity(100_000),
        errors: 0,
    };
    while Instant::now() < deadline {
        let mut req =
            http::Request::get(uri.clone()).header(http::header::HOST, authority.as_str());
        if let Some(t) = &token {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req.body(Empty::<Bytes>::new())?;
        let t = Instant::now();
        sender.ready().await?;
        match sender.send_request(req).await {
            Ok(res) => {
                let ok = res.status().is_success();
                res.into_body().collect().await?;
                if ok {
                    result.latencies_us.push(elapsed_us(t));
                } else {
                    result.errors += 1;
                }
            }
            Err(_) => result.errors += 1,
        }
    }
    Ok(result)
}

async fn grpc_worker(
    url: String,
    token: Option<String>,
    deadline: Instant,
) -> anyhow::Result<WorkerResult> {
    let channel = tonic::transport::Endpoint::from_shared(url)?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let mut client = AuthServiceClient::new(channel);
    let auth: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>> =
        token.map(|t| format!("Bearer {t}").parse()).transpose()?;
    let mut result = WorkerResult {
        latencies_us: Vec::with_capacity(100_000),
        errors: 0,
    };
    while Instant::now() < deadline {
        let mut req = tonic::Request::new(WhoAmIRequest {});
        if let Some(v) = &auth {
            req.metadata_mut().insert("authorization", v.clone());
        }
        let t = Instant::now();
        match client.who_am_i(req).await {
            Ok(_) => result.latencies_us.push(elapsed_us(t)),
            Err(_) => result.errors += 1,
        }
    }
    Ok(result)
}

fn elapsed_us(t: Instant) -> u32 {
    u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX)
}
