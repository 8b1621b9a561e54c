//! Usage reports (`POST /usage`, `IngestUsage`): up to [`MAX_ENTRIES`] entries parsed by
//! [`super::parse`], priced, and stored with their envelope. A bad entry is reported back by
//! index while the good ones are stored; an entry already stored is skipped, so a host may send
//! a rollout file again without counting it twice.
//!
//! What makes an entry the same one again (its dedupe key):
//! - a response id: the response, whoever reports it (a gateway call a host reports too
//!   counts once);
//! - else a turn id: the reporter's session and turn;
//! - else a rollout `token_count` line: the reporter's session and the line's time and ordinal;
//! - a bare summary line has no identity and is stored every time it is sent (as the peer does).
//!
//! `session_meta` and `turn_context` rollout lines carry no usage; they name the session and
//! the model of the usage lines after them, which do not repeat either.
//!
//! Codex 0.169 writes both `token_usage_record` (per response) and `token_count` (the same
//! usage again, as running totals) lines. `token_count` lines count only for sessions without
//! any `token_usage_record`, in the same report or stored before: the records of older Codex
//! versions, which write no others.

use std::collections::HashSet;

use codex_central_store::entities::usage_ingests::Model as Envelope;
use codex_central_store::entities::usage_records::Model as Record;
use codex_central_store::usage_records::Report;
use codex_central_store::{Store, now_ms, usage_records};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ingest_writer::IngestWriter;
use super::parse::{self, EntryKind, FieldError, RateLimits, Usage};
use super::pricing::{Counted, PriceBook, cost_micros};
use crate::{Error, Result};

pub const MAX_ENTRIES: usize = 1000;
/// How far ahead of the server's clock a reported time may be (clock skew).
const FUTURE_SLACK_MS: i64 = 86_400_000;

/// Who reports: a host (its key) or a person (their token), and from where.
#[derive(Debug, Clone, Default)]
pub struct Reporter {
    pub host_id: Option<i64>,
    pub user_id: String,
    pub token_id: String,
    pub client_ip: String,
}

impl Reporter {
    /// The part of a dedupe key that scopes session and turn ids to their reporter.
    fn scope(&self) -> String {
        match self.host_id {
            Some(id) => format!("h{id}"),
            None => format!("u{}", self.user_id),
        }
    }
}

/// A stored row with what the caller shows of it.
#[derive(Debug, Clone)]
pub struct StoredRow {
    pub index: usize,
    pub record: Record,
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub ingest_id: String,
    pub received_at: i64,
    pub rows: Vec<StoredRow>,
    /// Entries already stored (or repeated within the report), by index.
    pub duplicates: Vec<usize>,
    /// `token_count` entries of sessions whose usage comes from `token_usage_record` lines.
    pub superseded: Vec<usize>,
    pub errors: Vec<(usize, FieldError)>,
    /// The newest rate-limit snapshot of the report, if any carried one.
    pub rate_limits: Option<RateLimits>,
}

/// One entry as received: its JSON text (as `POST /usage` passes entries on), or a document.
pub enum Entry {
    Text(String),
    Json(Value),
}

impl Entry {
    /// `Err` (for the whole report) when the text is not JSON; the entry's own problems are
    /// its `FieldError`.
    fn parse(&self, i: usize) -> Result<std::result::Result<parse::Parsed, FieldError>> {
        match self {
            Entry::Json(v) => Ok(parse::parse_entry(v)),
            Entry::Text(text) => parse::parse_entry_text(text)
                .ok_or_else(|| Error::invalid(format!("entries.{i}.raw_json"), "is not JSON")),
        }
    }
}

/// Parses, prices and stores `entries`. `Err` only when nothing could be stored or the store
/// failed; per-entry problems are in the outcome.
pub async fn ingest(
    store: &Store,
    writer: &IngestWriter,
    who: &Reporter,
    entries: &[Entry],
) -> Result<Outcome> {
    if entries.is_empty() {
        return Err(Error::invalid("usages", "no usage entries"));
    }
    if entries.len() > MAX_ENTRIES {
        return Err(Error::invalid(
            "usages",
            format!("at most {MAX_ENTRIES} entries per report"),
        ));
    }
    let now = now_ms();
    let mut out = Outcome {
        ingest_id: uuid::Uuid::new_v4().to_string(),
        received_at: now,
        ..Default::default()
    };
    let mut usages: Vec<(usize, Usage)> = Vec::new();
    let mut session = String::new();
    let mut turn_model = String::new();
    for (i, entry) in entries.iter().enumerate() {
        let parsed = match entry.parse(i)? {
            Ok(p) => p,
            Err(e) => {
                out.errors.push((i, e));
                continue;
            }
        };
        if let Some(id) = parsed.session_meta {
            session = id;
            turn_model.clear();
        }
        if let Some(model) = parsed.turn_model {
            turn_model = model;
        }
        if let Some(limits) = parsed.rate_limits
            && out
                .rate_limits
                .as_ref()
                .is_none_or(|seen| limits.at_ms >= seen.at_ms)
        {
            out.rate_limits = Some(limits);
        }
        if let Some(mut u) = parsed.usage {
            // A rollout names its session once, in its first line, and the model at each turn.
            if u.session_id.is_empty() {
                u.session_id.clone_from(&session);
            }
            if u.model.is_empty() {
                u.model.clone_from(&turn_model);
            }
            if u.at_ms.is_some_and(|at| at > now + FUTURE_SLACK_MS) {
                out.errors.push((
                    i,
                    FieldError {
                        field: "recorded_at".into(),
                        reason: "is in the future".into(),
                    },
                ));
                continue;
            }
            usages.push((i, u));
        }
    }
    let superseded = sessions_with_records(store, who, &usages).await?;
    usages.retain(|(i, u)| {
        let skip = u.kind == EntryKind::TokenCount && superseded.contains(&u.session_id);
        if skip {
            out.superseded.push(*i);
        }
        !skip
    });
    if usages.is_empty() {
        if out.rate_limits.is_some() || !out.superseded.is_empty() {
            return Ok(out);
        }
        let (index, e) = out.errors.first().cloned().unwrap_or((
            0,
            FieldError {
                field: "usages".into(),
                reason: "no entry carries usage".into(),
            },
        ));
        let field = match (entries.len(), e.field.is_empty()) {
            (1, false) => e.field,
            (1, true) => "usages".to_string(),
            (_, false) => format!("usages.{index}.{}", e.field),
            (_, true) => format!("usages.{index}"),
        };
        return Err(Error::invalid(field, e.reason));
    }
    let book = PriceBook::load(store, usages.iter().map(|(_, u)| u.model.as_str())).await?;
    let (positions, records): (Vec<usize>, Vec<Record>) = usages
        .into_iter()
        .map(|(i, u)| (i, record(who, &out.ingest_id, now, u, &book)))
        .unzip();
    let envelope = Envelope {
        id: out.ingest_id.clone(),
        source: "host".into(),
        host_id: who.host_id,
        user_id: who.user_id.clone(),
        client_ip: who.client_ip.clone(),
        received_at: now,
        row_count: 0,
        duplicate_count: 0,
        error_count: i32::try_from(out.errors.len()).unwrap_or(i32::MAX),
        total_tokens: 0,
        input_tokens: 0,
        cached_input_tokens: 0,
        output_tokens: 0,
        reasoning_output_tokens: 0,
        cost_micros: 0,
    };
    let (report, stored) = writer
        .store(Report {
            envelope: Some(envelope),
            records,
        })
        .await?;
    out.duplicates = stored.duplicates.iter().map(|&k| positions[k]).collect();
    let mut inserted = vec![false; positions.len()];
    for &k in &stored.inserted {
        inserted[k] = true;
    }
    out.rows = report
        .records
        .into_iter()
        .zip(positions)
        .zip(inserted)
        .filter_map(|((record, index), kept)| kept.then_some(StoredRow { index, record }))
        .collect();
    Ok(out)
}

/// Sessions of the report's `token_count` entries whose usage comes from `token_usage_record`
/// lines instead: in this report, or stored before by the same reporter.
async fn sessions_with_records(
    store: &Store,
    who: &Reporter,
    usages: &[(usize, Usage)],
) -> Result<HashSet<String>> {
    let counted: HashSet<&str> = usages
        .iter()
        .filter(|(_, u)| u.kind == EntryKind::TokenCount && !u.session_id.is_empty())
        .map(|(_, u)| u.session_id.as_str())
        .collect();
    let mut found: HashSet<String> = usages
        .iter()
        .filter(|(_, u)| {
            u.kind == EntryKind::UsageRecord && counted.contains(u.session_id.as_str())
        })
        .map(|(_, u)| u.session_id.clone())
        .collect();
    let unknown: Vec<&str> = counted
        .into_iter()
        .filter(|s| !found.contains(*s))
        .collect();
    if unknown.is_empty() {
        return Ok(found);
    }
    let stored =
        usage_records::sessions_with_usage_records(store, who.host_id, &who.user_id, &unknown)
            .await?;
    found.extend(stored);
    Ok(found)
}

fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Summary => "summary",
        EntryKind::Structured => "structured",
        EntryKind::TokenCount => "token_count",
        EntryKind::UsageRecord => "usage_record",
    }
}

/// The key under which an entry is stored once (see the module docs); None: no identity.
pub fn dedupe_key(who: &Reporter, u: &Usage) -> Option<String> {
    let key = if !u.response_id.is_empty() {
        format!("r:{}", u.response_id)
    } else if !u.turn_id.is_empty() {
        format!("t:{}:{}:{}", who.scope(), u.session_id, u.turn_id)
    } else if !u.event_id.is_empty() {
        format!("e:{}:{}:{}", who.scope(), u.session_id, u.event_id)
    } else {
        return None;
    };
    // The column holds 191 characters; longer keys are kept by their digest.
    Some(if key.len() <= 191 {
        key
    } else {
        format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
    })
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn record(who: &Reporter, ingest_id: &str, now: i64, u: Usage, book: &PriceBook) -> Record {
    let at = u.at_ms.unwrap_or(now);
    let t = &u.tokens;
    let (cost, unpriced) = match book.at(&u.model, at) {
        Some(price) => (
            cost_micros(
                Counted {
                    input: clamp(t.input),
                    cached: clamp(t.cached),
                    output: clamp(t.output),
                },
                price,
            ),
            false,
        ),
        None => (0, true),
    };
    let dedupe_key = dedupe_key(who, &u);
    Record {
        id: 0,
        ingest_id: ingest_id.to_string(),
        source: "host".into(),
        kind: kind_name(u.kind).into(),
        host_id: who.host_id,
        user_id: who.user_id.clone(),
        token_id: who.token_id.clone(),
        provider_id: String::new(),
        recorded_at: at,
        ingested_at: now,
        dedupe_key,
        total_tokens: clamp(t.total),
        input_tokens: clamp(t.input),
        cached_input_tokens: clamp(t.cached),
        cache_write_input_tokens: clamp(t.cache_write),
        output_tokens: clamp(t.output),
        reasoning_output_tokens: clamp(t.reasoning),
        cost_micros: cost,
        unpriced,
        incomplete: false,
        client_ip: who.client_ip.chars().take(64).collect(),
        model: u.model,
        session_id: u.session_id,
        turn_id: u.turn_id,
        response_id: u.response_id,
        line: u.line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(kind: EntryKind) -> Usage {
        Usage {
            kind,
            tokens: Default::default(),
            line: String::new(),
            model: String::new(),
            session_id: "s1".into(),
            turn_id: String::new(),
            response_id: String::new(),
            event_id: String::new(),
            at_ms: None,
        }
    }

    #[test]
    fn dedupe_keys_scope_sessions_to_their_reporter_but_not_responses() {
        let host = Reporter {
            host_id: Some(7),
            ..Default::default()
        };
        let person = Reporter {
            user_id: "u-1".into(),
            ..Default::default()
        };
        let mut u = usage(EntryKind::UsageRecord);
        u.response_id = "resp_1".into();
        u.turn_id = "t1".into();
        assert_eq!(dedupe_key(&host, &u).as_deref(), Some("r:resp_1"));
        assert_eq!(dedupe_key(&person, &u), dedupe_key(&host, &u));
        u.response_id.clear();
        assert_eq!(dedupe_key(&host, &u).as_deref(), Some("t:h7:s1:t1"));
        assert_eq!(dedupe_key(&person, &u).as_deref(), Some("t:uu-1:s1:t1"));
        let mut c = usage(EntryKind::TokenCount);
        c.event_id = "2026-11-23T17:56:49.790Z#13".into();
        assert_eq!(
            dedupe_key(&host, &c).as_deref(),
            Some("e:h7:s1:2026-11-23T17:56:49.790Z#13")
        );
        assert_eq!(dedupe_key(&host, &usage(EntryKind::Summary)), None);
        let mut long = usage(EntryKind::Structured);
        long.session_id = "s".repeat(128);
        long.turn_id = "t".repeat(128);
        let key = dedupe_key(&host, &long).unwrap();
        assert!(key.starts_with("sha256:") && key.len() == 71, "{key}");
    }
}
