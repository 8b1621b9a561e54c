//! A small closed-loop load generator: N connections, each sending its next request as soon as
//! the previous answer arrived, for a fixed time. Prints throughput and latency percentiles as
//! one JSON line so scripts can compute ratios. Also holds the `/auth` benchmark's helpers
//! (host registration, seeding, a bare axum reference server) in [`auth`], and the memory
//! benchmark's (SQL seeding, REST and MCP search and store requests) in [`memory`].

mod auth;
mod config;
mod memory;
mod openai;
mod usage;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use clap::{Parser, Subcommand};
use codex_central_proto::auth::v1::WhoAmIRequest;
use codex_central_proto::auth::v1::identity_service_client::IdentityServiceClient;
use http::HeaderValue;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
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
    /// Stop after this many requests in all (e.g. one per host key as a warm-up); 0: no limit.
    #[arg(long, default_value_t = 0, global = true)]
    requests: i64,
    /// Label printed with the results.
    #[arg(long, default_value = "", global = true)]
    label: String,
}

/// When workers stop: at the deadline, or once the request budget is spent.
struct Limit {
    deadline: Instant,
    left: AtomicI64,
}

impl Limit {
    fn more(&self) -> bool {
        Instant::now() < self.deadline && self.left.fetch_sub(1, Ordering::Relaxed) > 0
    }
}

#[derive(Subcommand)]
enum Target {
    /// HTTP/1.1 GET with keep-alive.
    Http {
        url: String,
        #[arg(long)]
        token: Option<String>,
    },
    /// gRPC `IdentityService/WhoAmI` over h2c, one HTTP/2 connection per worker.
    GrpcWhoami {
        url: String,
        #[arg(long)]
        token: Option<String>,
    },
    /// HTTP/1.1 keep-alive `POST /auth` retrieve with a matching digest, host keys taken
    /// round-robin from a file; an answer without `"valid"` counts as an error.
    AuthRetrieve {
        base_url: String,
        /// One host key per line.
        #[arg(long)]
        keys_file: PathBuf,
        #[arg(long)]
        digest: String,
        #[arg(long)]
        last_refresh: String,
    },
    /// HTTP/1.1 keep-alive `POST /config/retrieve` with each host's own baked digest (read once
    /// per key before the run), keys round-robin; an answer without `"unchanged"` is an error.
    ConfigRetrieve {
        base_url: String,
        #[arg(long)]
        keys_file: PathBuf,
    },
    /// Store a config.toml template of about `--lines` lines; prints the base file's line count.
    StoreConfig {
        base_url: String,
        /// Admin service token.
        #[arg(long)]
        token: String,
        #[arg(long, default_value_t = 200)]
        lines: usize,
    },
    /// Serve `POST /auth` from an in-memory map with bare axum: the ceiling for `auth-retrieve`.
    BareAuth {
        #[arg(long)]
        bind: String,
        #[arg(long)]
        keys_file: PathBuf,
        #[arg(long)]
        digest: String,
        #[arg(long)]
        last_refresh: String,
    },
    /// Serve `POST /v1/responses` instantly (JSON, or four SSE events when `stream` is true).
    Upstream {
        #[arg(long)]
        bind: String,
    },
    /// HTTP/1.1 keep-alive `POST <url>` with a small Responses request; with `--stream` the
    /// latency measured is to the first byte of the answer's body (the rest is read too).
    Responses {
        url: String,
        #[arg(long)]
        model: String,
        #[arg(long)]
        stream: bool,
        #[arg(long)]
        token: Option<String>,
    },
    /// Register hosts `h<i>.bench.example` through the admin API; writes their keys, one a line.
    RegisterHosts {
        base_url: String,
        /// Admin service token.
        #[arg(long)]
        token: String,
        #[arg(long)]
        count: usize,
        #[arg(long)]
        keys_out: PathBuf,
    },
    /// Store the benchmark auth.json as a host; prints `<digest> <last_refresh>`.
    StoreAuth {
        base_url: String,
        #[arg(long)]
        key: String,
    },
    /// Print SQL inserting hosts `b<i>.bench.example` with deterministic keys; writes the keys.
    GenHostsSql {
        #[arg(long)]
        count: usize,
        #[arg(long)]
        keys_out: PathBuf,
        /// Bind every host to this IP already (as after its first call).
        #[arg(long)]
        ip: Option<String>,
    },
    /// Register one host through the admin API; prints `<host id> <api key>`.
    RegisterHost {
        base_url: String,
        /// Admin service token.
        #[arg(long)]
        token: String,
        #[arg(long, default_value = "memory-bench.example")]
        fqdn: String,
    },
    /// Print SQL inserting `--count` generated memories owned by one host, in one transaction.
    GenMemoriesSql {
        #[arg(long, value_enum)]
        dialect: memory::Dialect,
        #[arg(long)]
        host_id: String,
        #[arg(long)]
        count: usize,
    },
    /// HTTP/1.1 keep-alive REST `POST /mcp/memories/search` as a host, two-word queries
    /// round-robin from a generated list.
    MemorySearch {
        base_url: String,
        /// Host key.
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// MCP `tools/call` of `memory_search` through `POST /mcp`, the same queries; a JSON-RPC
    /// error or `"isError":true` counts as an error.
    McpSearch {
        base_url: String,
        /// Host key.
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Print the first `--count` search queries, one a line (to see how many memories each
    /// matches, e.g. with the backend's CLI).
    MemoryQueries {
        #[arg(long, default_value_t = 1000)]
        count: usize,
    },
    /// MCP `tools/call` of `memory_store` through `POST /mcp`, a new memory per request.
    McpStore {
        base_url: String,
        /// Host key.
        #[arg(long)]
        key: String,
    },
    /// `POST /usage` as a host, `--batch` new structured entries a report.
    UsageIngest {
        base_url: String,
        /// Host key.
        #[arg(long)]
        key: String,
        #[arg(long, default_value_t = 100)]
        batch: usize,
    },
    /// Print psql input copying `--count` usage rows (hosts 1..=`--hosts` must exist) over the
    /// last `--days` days, and their per-day sums.
    GenUsageCopy {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 90)]
        days: i64,
        #[arg(long, default_value_t = 100)]
        hosts: u64,
        #[arg(long, default_value_t = 50)]
        users: u64,
    },
}

struct WorkerResult {
    latencies_us: Vec<u32>,
    errors: u64,
}

/// What an HTTP/1.1 worker sends, the text a good answer must contain, and text it must not.
struct HttpLoad {
    authority: String,
    request: Box<dyn Fn() -> anyhow::Result<http::Request<Full<Bytes>>> + Send + Sync>,
    expect: Option<&'static [u8]>,
    reject: Option<&'static [u8]>,
}

impl HttpLoad {
    fn answer_ok(&self, body: &[u8]) -> bool {
        let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
        self.expect.is_none_or(has) && !self.reject.is_some_and(has)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http_load = match &args.target {
        Target::Http { url, token } => get_load(url, token.clone())?,
        Target::AuthRetrieve {
            base_url,
            keys_file,
            digest,
            last_refresh,
        } => retrieve_load(base_url, keys_file, digest, last_refresh)?,
        Target::ConfigRetrieve {
            base_url,
            keys_file,
        } => config_retrieve_load(base_url, config::host_requests(base_url, keys_file).await?)?,
        Target::StoreConfig {
            base_url,
            token,
            lines,
        } => return config::store(base_url, token, *lines).await,
        Target::GrpcWhoami { url, token } => {
            return run(&args, |limit| {
                tokio::spawn(grpc_worker(url.clone(), token.clone(), limit))
            })
            .await;
        }
        Target::BareAuth {
            bind,
            keys_file,
            digest,
            last_refresh,
        } => return auth::bare_server(bind, keys_file, digest.clone(), last_refresh.clone()).await,
        Target::RegisterHosts {
            base_url,
            token,
            count,
            keys_out,
        } => return auth::register_hosts(base_url, token, *count, keys_out).await,
        Target::StoreAuth { base_url, key } => return auth::store(base_url, key).await,
        Target::Upstream { bind } => return openai::serve(bind).await,
        Target::Responses {
            url,
            model,
            stream,
            token,
        } => {
            let load = Arc::new(responses_load(url, model, *stream, token.clone())?);
            let first_byte = *stream;
            return run(&args, |limit| {
                tokio::spawn(http_worker_timed(load.clone(), limit, first_byte))
            })
            .await;
        }
        Target::GenHostsSql {
            count,
            keys_out,
            ip,
        } => return auth::hosts_sql(*count, keys_out, ip.as_deref()),
        Target::RegisterHost {
            base_url,
            token,
            fqdn,
        } => return memory::register_host(base_url, token, fqdn).await,
        Target::GenMemoriesSql {
            dialect,
            host_id,
            count,
        } => return memory::memories_sql(*dialect, host_id, *count),
        Target::MemorySearch {
            base_url,
            key,
            queries,
            limit,
        } => memory::search_load(base_url, key, *queries, *limit)?,
        Target::McpSearch {
            base_url,
            key,
            queries,
            limit,
        } => memory::mcp_search_load(base_url, key, *queries, *limit)?,
        Target::McpStore { base_url, key } => memory::mcp_store_load(base_url, key)?,
        Target::UsageIngest {
            base_url,
            key,
            batch,
        } => usage::ingest_load(base_url, key, *batch)?,
        Target::GenUsageCopy {
            count,
            days,
            hosts,
            users,
        } => return usage::usage_copy(*count, *days, *hosts, *users),
        Target::MemoryQueries { count } => {
            for q in memory::queries(*count) {
                println!("{q}");
            }
            return Ok(());
        }
    };
    let load = Arc::new(http_load);
    run(&args, |limit| {
        tokio::spawn(http_worker(load.clone(), limit))
    })
    .await
}

/// Runs `connections` workers until the deadline and prints the JSON result line.
async fn run(
    args: &Args,
    spawn: impl Fn(Arc<Limit>) -> tokio::task::JoinHandle<anyhow::Result<WorkerResult>>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let limit = Arc::new(Limit {
        deadline: started + Duration::from_secs(args.duration),
        left: AtomicI64::new(if args.requests > 0 {
            args.requests
        } else {
            i64::MAX
        }),
    });
    let tasks: Vec<_> = (0..args.connections)
        .map(|_| spawn(limit.clone()))
        .collect();
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

fn get_load(url: &str, token: Option<String>) -> anyhow::Result<HttpLoad> {
    let uri: http::Uri = url.parse().context("url")?;
    let authority = authority(&uri)?;
    let target = origin_form(&uri);
    let bearer = token
        .map(|t| HeaderValue::try_from(format!("Bearer {t}")))
        .transpose()?;
    let host = authority.clone();
    Ok(HttpLoad {
        authority,
        request: Box::new(move || {
            let mut req = http::Request::get(target.clone()).header(http::header::HOST, &host);
            if let Some(b) = &bearer {
                req = req.header(http::header::AUTHORIZATION, b);
            }
            Ok(req.body(Full::new(Bytes::new()))?)
        }),
        expect: None,
        reject: None,
    })
}

fn retrieve_load(
    base_url: &str,
    keys_file: &std::path::Path,
    digest: &str,
    last_refresh: &str,
) -> anyhow::Result<HttpLoad> {
    let uri: http::Uri = format!("{}/auth", base_url.trim_end_matches('/'))
        .parse()
        .context("base url")?;
    let authority = authority(&uri)?;
    let target = origin_form(&uri);
    let keys = auth::read_keys(keys_file)?
        .into_iter()
        .map(HeaderValue::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let body = Bytes::from(
        serde_json::json!({"command": "retrieve", "digest": digest, "last_refresh": last_refresh})
            .to_string(),
    );
    let next = AtomicUsize::new(0);
    let host = authority.clone();
    Ok(HttpLoad {
        authority,
        request: Box::new(move || {
            let key = &keys[next.fetch_add(1, Ordering::Relaxed) % keys.len()];
            Ok(http::Request::post(target.clone())
                .header(http::header::HOST, &host)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header("x-api-key", key)
                .body(Full::new(body.clone()))?)
        }),
        expect: Some(b"\"valid\""),
        reject: None,
    })
}

fn config_retrieve_load(
    base_url: &str,
    hosts: Vec<(HeaderValue, Bytes)>,
) -> anyhow::Result<HttpLoad> {
    anyhow::ensure!(!hosts.is_empty(), "no host keys");
    let uri: http::Uri = format!("{}/config/retrieve", base_url.trim_end_matches('/'))
        .parse()
        .context("base url")?;
    let authority = authority(&uri)?;
    let target = origin_form(&uri);
    let next = AtomicUsize::new(0);
    let host = authority.clone();
    Ok(HttpLoad {
        authority,
        request: Box::new(move || {
            let (key, body) = &hosts[next.fetch_add(1, Ordering::Relaxed) % hosts.len()];
            Ok(http::Request::post(target.clone())
                .header(http::header::HOST, &host)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header("x-api-key", key)
                .body(Full::new(body.clone()))?)
        }),
        expect: Some(b"\"unchanged\""),
        reject: None,
    })
}

fn responses_load(
    url: &str,
    model: &str,
    stream: bool,
    token: Option<String>,
) -> anyhow::Result<HttpLoad> {
    let uri: http::Uri = url.parse().context("url")?;
    let authority = authority(&uri)?;
    let target = origin_form(&uri);
    let body = openai::request_body(model, stream);
    let bearer = token
        .map(|t| HeaderValue::try_from(format!("Bearer {t}")))
        .transpose()?;
    let host = authority.clone();
    Ok(HttpLoad {
        authority,
        request: Box::new(move || {
            let mut req = http::Request::post(target.clone())
                .header(http::header::HOST, &host)
                .header(http::header::CONTENT_TYPE, "application/json");
            if let Some(b) = &bearer {
                req = req.header(http::header::AUTHORIZATION, b);
            }
            Ok(req.body(Full::new(body.clone()))?)
        }),
        expect: Some(if stream {
            b"response.completed"
        } else {
            b"\"usage\""
        }),
        reject: None,
    })
}

/// Like [`http_worker`], optionally timing only to the first body frame (streams).
async fn http_worker_timed(
    load: Arc<HttpLoad>,
    limit: Arc<Limit>,
    first_byte: bool,
) -> anyhow::Result<WorkerResult> {
    if !first_byte {
        return http_worker(load, limit).await;
    }
    let mut sender = connect(&load.authority).await?;
    let mut result = WorkerResult {
        latencies_us: Vec::with_capacity(100_000),
        errors: 0,
    };
    while limit.more() {
        let req = (load.request)()?;
        let t = Instant::now();
        sender.ready().await?;
        match sender.send_request(req).await {
            Ok(res) if res.status().is_success() => {
                let mut body = res.into_body();
                let mut first = None;
                let mut all = Vec::new();
                while let Some(frame) = body.frame().await {
                    if let Ok(data) = frame?.into_data() {
                        first.get_or_insert_with(|| elapsed_us(t));
                        all.extend_from_slice(&data);
                    }
                }
                let expected = load.answer_ok(&all);
                match first {
                    Some(us) if expected => result.latencies_us.push(us),
                    _ => result.errors += 1,
                }
            }
            Ok(res) => {
                let _ = res.into_body().collect().await;
                result.errors += 1;
            }
            Err(_) => result.errors += 1,
        }
    }
    Ok(result)
}

/// The request target in origin form (`/v1/responses?x`): a connection-level client sends the
/// URI as given, and servers other than proxies answer absolute-form targets with 404.
fn origin_form(uri: &http::Uri) -> http::Uri {
    let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
    target
        .parse()
        .unwrap_or_else(|_| http::Uri::from_static("/"))
}

fn authority(uri: &http::Uri) -> anyhow::Result<String> {
    Ok(uri
        .authority()
        .context("url needs host:port")?
        .as_str()
        .to_string())
}

/// One keep-alive HTTP/1.1 connection.
async fn connect(authority: &str) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .with_context(|| format!("connect {authority}"))?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// Sends one request and reads the whole answer.
async fn call(
    sender: &mut SendRequest<Full<Bytes>>,
    req: http::Request<Full<Bytes>>,
) -> anyhow::Result<(http::StatusCode, Bytes)> {
    sender.ready().await?;
    let res = sender.send_request(req).await?;
    let status = res.status();
    Ok((status, res.into_body().collect().await?.to_bytes()))
}

async fn http_worker(load: Arc<HttpLoad>, limit: Arc<Limit>) -> anyhow::Result<WorkerResult> {
    let mut sender = connect(&load.authority).await?;
    let mut result = WorkerResult {
        latencies_us: Vec::with_capacity(100_000),
        errors: 0,
    };
    while limit.more() {
        let req = (load.request)()?;
        let t = Instant::now();
        sender.ready().await?;
        match sender.send_request(req).await {
            Ok(res) => {
                let ok = res.status().is_success();
                let body = res.into_body().collect().await?.to_bytes();
                if ok && load.answer_ok(&body) {
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
    limit: Arc<Limit>,
) -> anyhow::Result<WorkerResult> {
    let channel = tonic::transport::Endpoint::from_shared(url)?
        .tcp_nodelay(true)
        .connect()
        .await?;
    let mut client = IdentityServiceClient::new(channel);
    let auth: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>> =
        token.map(|t| format!("Bearer {t}").parse()).transpose()?;
    let mut result = WorkerResult {
        latencies_us: Vec::with_capacity(100_000),
        errors: 0,
    };
    while limit.more() {
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

#[cfg(test)]
mod tests {
    use super::origin_form;

    #[test]
    fn requests_use_origin_form_targets() {
        let uri: http::Uri = "http://127.0.0.1:8488/v1/responses?x=1".parse().unwrap();
        assert_eq!(origin_form(&uri).to_string(), "/v1/responses?x=1");
        let bare: http::Uri = "http://127.0.0.1:8488".parse().unwrap();
        assert_eq!(origin_form(&bare).to_string(), "/");
    }
}
