//! The memory benchmark's parts (`scripts/bench/memory`): registering the one host that owns
//! the memories, SQL seeding many memories on each backend, and the requests measured: REST
//! `POST /mcp/memories/search`, and MCP `tools/call` of `memory_search` and `memory_store`.
//!
//! Text comes from a fixed vocabulary with a deterministic generator, so every run (and every
//! backend) holds the same memories and is asked the same queries. Content words are drawn from
//! three tiers so that two-word queries range from about ten matches to thousands: function
//! words (never queried: InnoDB cannot index most of them), common words (skewed like natural
//! text: the most frequent in more than half of all memories, the least in about 6 %) and rare
//! words (each in about 1.3 % of memories).

use std::io::Write;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use bytes::Bytes;
use http::HeaderValue;
use http_body_util::Full;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::HttpLoad;
use crate::auth::{post_json, text_at};

const FUNCTION_TEXT: &str = "\
    the and to of a in is that for it with as on was we this be not but are have from or by at \
    when after before so then if all can should our its into than also only";
static FUNCTION_WORDS: LazyLock<Vec<&str>> =
    LazyLock::new(|| FUNCTION_TEXT.split_whitespace().collect());

const COMMON_TEXT: &str = "\
    build test server config error deploy database file user request change branch commit \
    review release version update install package service client token key session cache query \
    index table column schema migration script command shell path directory folder project \
    module function method class type value field record list array string number date time \
    timeout retry limit quota usage model prompt answer question issue ticket bug fix patch \
    feature flag option setting default environment variable secret password account team host \
    machine network port address proxy gateway route endpoint handler middleware router \
    response header body payload format json yaml toml markdown document readme guide note \
    memory search result match filter sort order page cursor offset batch queue worker thread \
    process task job schedule cron daily weekly monthly report metric graph dashboard alert \
    monitor health check status state event stream message channel socket connection pool \
    driver backend frontend browser window screen button form input output log trace debug \
    warning failure success crash restart reload start stop pause resume cancel delete remove \
    create add insert rename move copy merge rebase conflict resolve revert reset stash tag \
    label owner group role permission access policy rule audit history backup restore snapshot \
    volume disk storage bucket upload download archive compress encode decode parse render \
    template layout style theme color font image icon asset bundle compile link binary library \
    dependency crate import export plugin extension hook callback promise future async await \
    lock mutex signal exit code line word text character unicode locale language translate \
    region zone cluster node replica leader follower primary secondary shard partition segment \
    chunk block frame packet buffer heap stack pointer reference borrow lifetime trait generic \
    macro closure iterator vector map set tree edge vertex cost price invoice customer vendor \
    contract meeting deadline sprint plan goal estimate priority reviewer approval sign verify \
    validate sanitize escape inject attack threat risk incident outage latency throughput \
    benchmark profile optimize slow fast small large simple complex stable flaky broken \
    working ready";
static COMMON_WORDS: LazyLock<Vec<&str>> =
    LazyLock::new(|| COMMON_TEXT.split_whitespace().collect());

const RARE_TEXT: &str = "\
    kubernetes terraform ansible nginx haproxy envoy grafana prometheus loki jaeger \
    opentelemetry postgresql mariadb sqlite redis memcached kafka rabbitmq nats etcd consul \
    vault keycloak oauth saml oidc webauthn passkey argon bcrypt sha256 ed25519 x509 \
    letsencrypt acme wireguard tailscale openvpn iptables nftables systemd journald cgroup \
    seccomp apparmor selinux landlock bubblewrap firecracker qemu libvirt proxmox hetzner \
    digitalocean cloudflare fastly akamai route53 dnssec bgp ospf vlan vxlan geneve ebpf xdp \
    dpdk numa hugepages jemalloc mimalloc valgrind heaptrack flamegraph perf strace ltrace gdb \
    lldb miri loom proptest quickcheck criterion insta nextest tarpaulin clippy rustfmt \
    bindgen cbindgen pyo3 maturin wasm wasi emscripten webgpu vulkan metal directx opengl \
    shader raytracing bezier quaternion fourier wavelet kalman markov bayesian regression \
    gradient tensor embedding tokenizer transformer attention quantize distill finetune lora \
    rlhf hyperparameter epoch checkpoint dataloader augmentation overfitting dropout softmax \
    sigmoid relu convolution pooling recurrent lstm autoencoder diffusion sampler scheduler \
    idempotent linearizable serializable monotonic commutative associative invariant tombstone \
    vectorclock lamport raft paxos gossip";
static RARE_WORDS: LazyLock<Vec<&str>> = LazyLock::new(|| RARE_TEXT.split_whitespace().collect());

/// Tags a seeded memory may carry (0-3 of them).
const TAGS: &[&str] = &[
    "deploy", "ci", "database", "frontend", "security", "incident", "howto", "decision",
];

/// Rows per `INSERT` statement.
const SQL_BATCH: usize = 500;

/// SplitMix64: tiny, fast, and the same sequence everywhere for a seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5eed_cafe_f00d_0001)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.unit() * n as f64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len())]
    }

    /// A common word, skewed towards the start of the list as natural text is.
    fn common(&mut self) -> &'static str {
        let i = (self.unit().powf(1.6) * COMMON_WORDS.len() as f64) as usize;
        COMMON_WORDS[i.min(COMMON_WORDS.len() - 1)]
    }

    fn content_word(&mut self) -> &'static str {
        let tier = self.unit();
        if tier < 0.35 {
            self.pick(&FUNCTION_WORDS)
        } else if tier < 0.96 {
            self.common()
        } else {
            self.pick(&RARE_WORDS)
        }
    }
}

/// `words` words in sentences of 6-14, each capitalised and ending with a full stop.
fn sentences(rng: &mut Rng, words: usize) -> String {
    let mut text = String::with_capacity(words * 8);
    let mut left_in_sentence = 0;
    for n in 0..words {
        let word = rng.content_word();
        if left_in_sentence == 0 {
            if n > 0 {
                text.push_str(". ");
            }
            left_in_sentence = 6 + rng.below(9);
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                text.extend(first.to_uppercase());
                text.push_str(chars.as_str());
            }
        } else {
            text.push(' ');
            text.push_str(word);
        }
        left_in_sentence -= 1;
    }
    text.push('.');
    text
}

struct Seeded {
    title: String,
    content: String,
    tags: Vec<&'static str>,
}

fn memory(i: usize) -> Seeded {
    let mut rng = Rng::new(i as u64);
    let title_words = 2 + rng.below(4);
    let title = (0..title_words)
        .map(|_| rng.common())
        .collect::<Vec<_>>()
        .join(" ");
    let words = 20 + rng.below(61);
    let content = sentences(&mut rng, words);
    let mut tags = Vec::new();
    for _ in 0..rng.below(4) {
        let tag = rng.pick(TAGS);
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Seeded {
        title,
        content,
        tags,
    }
}

/// What the memory service stores as `content_sha`: the compared parts, each NUL-terminated.
fn content_sha(
    title: &str,
    content: &str,
    tags: &[&str],
    metadata: &str,
    resource: &str,
) -> String {
    let mut sha = Sha256::new();
    for part in [title, content, &tags.join("\n"), metadata, resource] {
        sha.update(part.as_bytes());
        sha.update([0]);
    }
    hex::encode(sha.finalize())
}

/// UUID-shaped (the column is 36 characters), stable across runs.
fn record_id(i: usize) -> String {
    let h = hex::encode(Sha256::digest(format!("bench-memory-{i}")));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

/// A string literal; the generated text has no quotes or backslashes, but stay correct anyway
/// (MySQL treats a backslash as an escape by default).
fn quote(dialect: Dialect, s: &str) -> String {
    let mut out = s.replace('\'', "''");
    if dialect == Dialect::Mysql {
        out = out.replace('\\', "\\\\");
    }
    format!("'{out}'")
}

/// Prints SQL inserting `count` memories owned by host `host_id`, as the memory service writes
/// them (row, normalised tags in `tags_text` and `memory_tags`), in one transaction. The
/// full-text indexes follow by themselves: FTS5 triggers, a generated `tsvector`, FULLTEXT.
pub fn memories_sql(dialect: Dialect, host_id: &str, count: usize) -> anyhow::Result<()> {
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;
    let count_ms = i64::try_from(count)?;
    let owner = quote(dialect, host_id);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(
        out,
        "{}",
        match dialect {
            Dialect::Mysql => "START TRANSACTION;",
            Dialect::Sqlite | Dialect::Postgres => "BEGIN;",
        }
    )?;
    let mut start = 0;
    while start < count {
        let end = (start + SQL_BATCH).min(count);
        let mut tag_rows = Vec::new();
        writeln!(
            out,
            "INSERT INTO memories (record_id, owner_kind, owner_id, mem_key, title, content, \
             tags_text, metadata_json, resource_id, content_sha, created_at, updated_at, \
             deleted_at) VALUES"
        )?;
        for i in start..end {
            let m = memory(i);
            let id = record_id(i);
            // One a second up to now, so recency (the ranking's tie-break) differs per row.
            let at = now - (count_ms - i64::try_from(i)?) * 1000;
            let sep = if i + 1 == end { ";" } else { "," };
            writeln!(
                out,
                "('{id}','host',{owner},'note-{i:06}',{},{},{},'{{}}','',{},{at},{at},NULL){sep}",
                quote(dialect, &m.title),
                quote(dialect, &m.content),
                quote(dialect, &m.tags.join(" ")),
                quote(
                    dialect,
                    &content_sha(&m.title, &m.content, &m.tags, "{}", "")
                ),
            )?;
            tag_rows.extend(m.tags.iter().map(|t| format!("('{id}','{t}')")));
        }
        if !tag_rows.is_empty() {
            writeln!(
                out,
                "INSERT INTO memory_tags (record_id, tag) VALUES\n{};",
                tag_rows.join(",\n")
            )?;
        }
        start = end;
    }
    writeln!(out, "COMMIT;")?;
    out.flush()?;
    Ok(())
}

/// Registers one host and prints `<id> <api key>`.
pub async fn register_host(base_url: &str, token: &str, fqdn: &str) -> anyhow::Result<()> {
    let mut sender = crate::connect(&crate::authority(&base_url.parse()?)?).await?;
    let answer = post_json(
        &mut sender,
        base_url,
        "/admin/hosts/register",
        ("authorization", &format!("Bearer {token}")),
        &json!({ "fqdn": fqdn }),
    )
    .await?;
    let id = match answer.pointer("/data/host/id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => bail!("answer has no /data/host/id: {answer}"),
    };
    println!("{id} {}", text_at(&answer, "/data/host/api_key")?);
    Ok(())
}

/// `n` two-word queries, each word drawn uniformly from the common or the rare tier (the
/// first word rare one time in four, the second one time in two), so that with 100,000
/// memories they match from about ten (two rare words) to about ten thousand.
pub fn queries(n: usize) -> Vec<String> {
    let mut rng = Rng::new(0x0051_ea4c);
    let mut word = |rare_one_in: usize| {
        if rng.below(rare_one_in) == 0 {
            rng.pick(&RARE_WORDS)
        } else {
            rng.pick(&COMMON_WORDS)
        }
    };
    (0..n)
        .map(|_| {
            let first = word(4);
            let second = word(2);
            format!("{first} {second}")
        })
        .collect()
}

/// Round-robin over pre-built bodies: every request differs, and building them costs nothing
/// during the run.
fn round_robin(
    base_url: &str,
    path: &str,
    headers: Vec<(&'static str, HeaderValue)>,
    bodies: Vec<Bytes>,
    expect: &'static [u8],
    reject: Option<&'static [u8]>,
) -> anyhow::Result<HttpLoad> {
    anyhow::ensure!(!bodies.is_empty(), "no request bodies");
    let uri: http::Uri = format!("{}{path}", base_url.trim_end_matches('/'))
        .parse()
        .context("base url")?;
    let authority = crate::authority(&uri)?;
    let target = crate::origin_form(&uri);
    let host = authority.clone();
    let next = AtomicUsize::new(0);
    Ok(HttpLoad {
        authority,
        request: Box::new(move || {
            let body = &bodies[next.fetch_add(1, Ordering::Relaxed) % bodies.len()];
            let mut req = http::Request::post(target.clone())
                .header(http::header::HOST, &host)
                .header(http::header::CONTENT_TYPE, "application/json");
            for (name, value) in &headers {
                req = req.header(*name, value);
            }
            Ok(req.body(Full::new(body.clone()))?)
        }),
        expect: Some(expect),
        reject,
    })
}

/// REST `POST /mcp/memories/search` as the host, queries round-robin.
pub fn search_load(base_url: &str, key: &str, n: usize, limit: u32) -> anyhow::Result<HttpLoad> {
    let bodies = queries(n)
        .into_iter()
        .map(|q| Bytes::from(json!({ "query": q, "limit": limit }).to_string()))
        .collect();
    round_robin(
        base_url,
        "/mcp/memories/search",
        vec![("x-api-key", HeaderValue::try_from(key)?)],
        bodies,
        b"\"matches\"",
        None,
    )
}

/// What a stateless streamable-HTTP MCP client sends with every message.
fn mcp_headers(key: &str) -> anyhow::Result<Vec<(&'static str, HeaderValue)>> {
    Ok(vec![
        (
            "authorization",
            HeaderValue::try_from(format!("Bearer {key}"))?,
        ),
        (
            "accept",
            HeaderValue::from_static("application/json, text/event-stream"),
        ),
        (
            "mcp-protocol-version",
            HeaderValue::from_static("2025-06-18"),
        ),
    ])
}

fn tool_call(id: usize, tool: &str, arguments: Value) -> Bytes {
    Bytes::from(
        json!({
            "jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": { "name": tool, "arguments": arguments },
        })
        .to_string(),
    )
}

/// MCP `tools/call` of `memory_search`, the same queries as [`search_load`]. A JSON-RPC error
/// has no `result`, a failed tool says `"isError":true`: both count as errors.
pub fn mcp_search_load(
    base_url: &str,
    key: &str,
    n: usize,
    limit: u32,
) -> anyhow::Result<HttpLoad> {
    let bodies = queries(n)
        .into_iter()
        .enumerate()
        .map(|(i, q)| tool_call(i, "memory_search", json!({ "query": q, "limit": limit })))
        .collect();
    round_robin(
        base_url,
        "/mcp",
        mcp_headers(key)?,
        bodies,
        b"\"result\"",
        Some(b"\"isError\":true"),
    )
}

/// MCP `tools/call` of `memory_store`, each request a new memory (fresh text, no id).
pub fn mcp_store_load(base_url: &str, key: &str) -> anyhow::Result<HttpLoad> {
    let uri: http::Uri = format!("{}/mcp", base_url.trim_end_matches('/'))
        .parse()
        .context("base url")?;
    let authority = crate::authority(&uri)?;
    let target = crate::origin_form(&uri);
    let host = authority.clone();
    let headers = mcp_headers(key)?;
    // Far from the seeded memories' seeds, so stored text never repeats a seeded one.
    let next = AtomicU64::new(1 << 40);
    Ok(HttpLoad {
        authority,
        request: Box::new(move || {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let mut rng = Rng::new(n);
            let words = 20 + rng.below(41);
            let content = format!("Bench note {n}. {}", sentences(&mut rng, words));
            let body = tool_call(
                usize::try_from(n)?,
                "memory_store",
                json!({ "content": content, "tags": ["bench"] }),
            );
            let mut req = http::Request::post(target.clone())
                .header(http::header::HOST, &host)
                .header(http::header::CONTENT_TYPE, "application/json");
            for (name, value) in &headers {
                req = req.header(*name, value);
            }
            Ok(req.body(Full::new(body))?)
        }),
        expect: Some(b"\"result\""),
        reject: Some(b"\"isError\":true"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// InnoDB's default stopwords and minimum token length: a query word failing either would
    /// be dropped by the server, and the query would no longer be two words.
    #[test]
    fn query_words_are_searchable_and_distinct() {
        let stop = [
            "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from",
            "how", "i", "in", "is", "it", "la", "of", "on", "or", "that", "the", "this", "to",
            "was", "what", "when", "where", "who", "will", "with", "und", "www",
        ];
        for w in COMMON_WORDS.iter().chain(RARE_WORDS.iter()) {
            assert!(w.len() >= 3 && !stop.contains(w), "{w}");
            assert!(
                w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            );
        }
        let mut all: Vec<&str> = COMMON_WORDS
            .iter()
            .chain(RARE_WORDS.iter())
            .copied()
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a word is listed twice");
    }

    #[test]
    fn memories_are_deterministic_and_in_bounds() {
        for i in 0..2_000 {
            let m = memory(i);
            let words = m.content.split_whitespace().count();
            assert!((20..=80).contains(&words), "{words} words");
            assert!(m.tags.len() <= 3);
            assert!(!m.content.contains(['\'', '\\']));
            assert_eq!(m.content, memory(i).content);
        }
        assert_eq!(record_id(7).len(), 36);
        assert_ne!(queries(10)[0], queries(10)[1]);
    }

    #[test]
    fn content_sha_matches_the_service() {
        // The service hashes title, content, tags joined by newlines, metadata and resource,
        // each followed by a NUL byte.
        let mut sha = Sha256::new();
        sha.update(b"t\0c\0a\nb\0{}\0\0");
        assert_eq!(
            content_sha("t", "c", &["a", "b"], "{}", ""),
            hex::encode(sha.finalize())
        );
    }
}
