//! The usage benchmark's parts (`scripts/bench/usage`): `POST /usage` reports of many structured
//! entries, each entry new (its own turn id), and PostgreSQL `COPY` input for millions of usage
//! rows with their per-day sums, as the usage service writes them, to time the totals over.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use bytes::Bytes;
use http::HeaderValue;
use http_body_util::Full;

use crate::HttpLoad;

const MODELS: [&str; 5] = [
    "gpt-5.1-codex",
    "gpt-5.1",
    "gpt-5-mini",
    "gpt-5.4",
    "o4-mini",
];

/// `POST /usage` as one host, `batch` entries a report, every entry a new turn of its own.
pub fn ingest_load(base_url: &str, key: &str, batch: usize) -> anyhow::Result<HttpLoad> {
    let uri: http::Uri = format!("{}/usage", base_url.trim_end_matches('/'))
        .parse()
        .context("base url")?;
    let authority = crate::authority(&uri)?;
    let target = crate::origin_form(&uri);
    let host = authority.clone();
    let key = HeaderValue::try_from(key)?;
    // Distinct per run as well: a second run against the same database stores new rows too.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let next = AtomicU64::new(0);
    Ok(HttpLoad {
        authority,
        request: Box::new(move || {
            let mut body = String::with_capacity(batch * 160 + 16);
            body.push_str("{\"usages\":[");
            for i in 0..batch {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&format!(
                    "{{\"model\":\"{}\",\"input_tokens\":{},\"cached_input_tokens\":{},\
                     \"output_tokens\":{},\"session_id\":\"bench-{run}\",\"turn_id\":\"t{n}\"}}",
                    MODELS[(n % 5) as usize],
                    1000 + n % 5000,
                    n % 800,
                    100 + n % 700,
                ));
            }
            body.push_str("]}");
            Ok(http::Request::post(target.clone())
                .header(http::header::HOST, &host)
                .header(http::header::CONTENT_TYPE, "application/json")
                .header("x-api-key", &key)
                .body(Full::new(Bytes::from(body)))?)
        }),
        expect: Some(b"\"recorded\":true"),
        reject: None,
    })
}

/// A small deterministic generator: every run writes the same rows.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // The high 53 bits: spans up to 2^53 (the time offsets need more than 32).
        (self.0 >> 11) % n
    }
}

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// Prints psql input: `COPY usage_records` of `count` rows spread over the last `days` days,
/// `hosts` hosts (ids 1..=hosts, which must exist; one or two of the `users` people each) and
/// the five models, then `COPY usage_daily` and `COPY usage_hourly` of their per-day and
/// per-hour sums.
pub fn usage_copy(count: u64, days: i64, hosts: u64, users: u64) -> anyhow::Result<()> {
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;
    let first = now - days * DAY_MS;
    let mut rng = Lcg(42);
    let mut sums: BTreeMap<(usize, i64, u64, u64, usize), [i64; 8]> = BTreeMap::new();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    writeln!(
        out,
        "COPY usage_records (ingest_id, source, kind, host_id, user_id, token_id, provider_id, \
         model, recorded_at, ingested_at, session_id, turn_id, response_id, dedupe_key, \
         total_tokens, input_tokens, cached_input_tokens, cache_write_input_tokens, \
         output_tokens, reasoning_output_tokens, cost_micros, unpriced, incomplete, line, \
         client_ip) FROM STDIN;"
    )?;
    for _ in 0..count {
        let at = first + i64::try_from(rng.below(u64::try_from(days * DAY_MS)?))?;
        // Each host is used by one or two people, as on a real fleet.
        let host = 1 + rng.below(hosts);
        let user = (host * 2 + rng.below(2)) % users;
        let model = rng.below(5) as usize;
        let input = 500 + rng.below(20_000) as i64;
        let cached = rng.below(input as u64) as i64;
        let output = 50 + rng.below(3000) as i64;
        let reasoning = rng.below(output as u64) as i64;
        let cost = (input - cached) * 1250 / 1000 + cached * 125 / 1000 + output * 10;
        writeln!(
            out,
            "\thost\tstructured\t{host}\tu{user}\t\t\t{}\t{at}\t{at}\t\t\t\t\\N\t{}\t{input}\t\
             {cached}\t0\t{output}\t{reasoning}\t{cost}\tf\tf\t\t",
            MODELS[model],
            input + output,
        )?;
        for (bucket, unit) in [(0, DAY_MS), (1, HOUR_MS)] {
            let s = sums
                .entry((bucket, at.div_euclid(unit), host, user, model))
                .or_default();
            for (i, v) in [1, 0, input + output, input, cached, output, reasoning, cost]
                .into_iter()
                .enumerate()
            {
                s[i] += v;
            }
        }
    }
    writeln!(out, "\\.")?;
    for (bucket, (table, column)) in [("usage_daily", "day"), ("usage_hourly", "hour")]
        .into_iter()
        .enumerate()
    {
        writeln!(
            out,
            "COPY {table} ({column}, host_id, user_id, token_id, model, source, row_count, \
             unpriced_rows, total_tokens, input_tokens, cached_input_tokens, output_tokens, \
             reasoning_output_tokens, cost_micros) FROM STDIN;"
        )?;
        for ((_, at, host, user, model), s) in sums.iter().filter(|(k, _)| k.0 == bucket) {
            writeln!(
                out,
                "{at}\t{host}\tu{user}\t\t{}\thost\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                MODELS[*model], s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
            )?;
        }
        writeln!(out, "\\.")?;
    }
    out.flush()?;
    Ok(())
}
