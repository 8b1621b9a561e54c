//! One `POST /usage` entry as a host sends it: a printed summary line, token numbers, or a raw
//! Codex rollout line. Entries come straight off the network, so nothing here may panic, and every
//! failure names its field (relative to the entry) so a batch can report it per row and go on.

use chrono::DateTime;
use serde_json::{Map, Value};

pub const MAX_LINE: usize = 1000;
const MAX_MODEL: usize = 191;
const MAX_ID: usize = 128;
/// Longer number strings are junk, not tokens; refusing them keeps parsing cheap.
const MAX_NUMBER: usize = 32;
/// 9999-12-31T23:59:59.999Z: anything later is a unit mix-up, not a time.
const MAX_MS: f64 = 253_402_300_799_999.0;
/// Epoch numbers below this are seconds, above it ms (1e11 s is the year 5138, 1e11 ms 1973).
const SECONDS_BELOW: f64 = 1e11;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Summary,
    Structured,
    TokenCount,
    UsageRecord,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    pub total: u64,
    pub input: u64,
    pub cached: u64,
    pub cache_write: u64,
    pub output: u64,
    pub reasoning: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub kind: EntryKind,
    pub tokens: Tokens,
    /// After [`clean_line`]; "" when none.
    pub line: String,
    /// Trimmed and cut to 191 characters (the stored column's width); "" when unknown.
    pub model: String,
    /// Ids are "" when unknown; invalid ones are errors, never silently mangled.
    pub session_id: String,
    pub turn_id: String,
    pub response_id: String,
    /// For token_count lines, which carry no id: "<timestamp>#<ordinal>" of the rollout line
    /// (just "<timestamp>" when the line has no ordinal); "" otherwise.
    pub event_id: String,
    /// When the usage happened, ms since the Unix epoch; None when not given.
    pub at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub used_percent: f64,
    pub window_minutes: u32,
    pub resets_at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    pub limit_id: String,
    pub plan_type: String,
    pub primary: Option<Window>,
    pub secondary: Option<Window>,
    /// `rate_limit_reached_type` non-null, or a window at 100 % or more.
    pub limit_reached: bool,
    pub credits_balance: Option<String>,
    pub credits_unlimited: Option<bool>,
    pub has_credits: Option<bool>,
    pub at_ms: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    pub usage: Option<Usage>,
    pub rate_limits: Option<RateLimits>,
    /// A session id learned from a `session_meta` rollout line, which has no usage itself.
    pub session_meta: Option<String>,
    /// The model a `turn_context` rollout line names for the turns after it: Codex's usage
    /// lines do not repeat it.
    pub turn_model: Option<String>,
}

/// `field` is a dotted path relative to the entry; it is empty when the entry as a whole has the
/// wrong JSON type. Rollout lines that are valid but carry no usage fail on `type` with a reason
/// ending in "carries no usage", so callers can tell them from broken input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

type Res<T> = Result<T, FieldError>;

fn err(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    let (field, reason) = (field.into(), reason.into());
    FieldError { field, reason }
}

/// The first of `names` present and non-null, with the key the client actually used.
fn pick<'a>(
    obj: &'a Map<String, Value>,
    names: &[&'static str],
) -> Option<(&'static str, &'a Value)> {
    names
        .iter()
        .find_map(|n| obj.get(*n).filter(|v| !v.is_null()).map(|v| (*n, v)))
}

/// `1,234` / `1_234` / `1 234` / 1234 → 1234; negative, fractional or other text → error.
fn number(path: &str, v: Option<&Value>) -> Res<Option<u64>> {
    let bad = || err(path, "must be a whole number >= 0");
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(bad),
        Some(Value::String(s)) if s.len() > MAX_NUMBER => Err(err(
            path,
            format!("must be at most {MAX_NUMBER} characters"),
        )),
        Some(Value::String(s)) => {
            let digits: String = s
                .chars()
                .filter(|c| !matches!(c, ',' | '_' | ' '))
                .collect();
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let too_large = |_| err(path, "is too large");
            if digits.is_empty() {
                Ok(None)
            } else {
                digits.parse().map(Some).map_err(too_large)
            }
        }
        Some(_) => Err(bad()),
    }
}

fn string<'a>(path: &str, v: Option<&'a Value>) -> Res<&'a str> {
    match v {
        None | Some(Value::Null) => Ok(""),
        Some(Value::String(s)) => Ok(s.trim()),
        Some(_) => Err(err(path, "must be a string")),
    }
}

/// Ids become storage keys and log text, so bad ones are refused rather than mangled.
fn id(path: &str, v: Option<&Value>) -> Res<String> {
    id_text(path, string(path, v)?)
}

/// [`id`] of a text already read.
fn id_text(path: &str, s: &str) -> Res<String> {
    let s = s.trim();
    if s.len() > MAX_ID {
        return Err(err(path, format!("must be at most {MAX_ID} characters")));
    }
    if !s.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(err(path, "must be printable ASCII"));
    }
    Ok(s.to_string())
}

fn model(path: &str, v: Option<&Value>) -> Res<String> {
    Ok(model_text(string(path, v)?))
}

/// [`model`] of a text already read.
fn model_text(s: &str) -> String {
    let s: String = s.trim().chars().take(MAX_MODEL).collect();
    s.trim_end().to_string()
}

/// RFC 3339, or epoch seconds/ms as a number or digit string (hosts' clocks and tools vary).
fn time(path: &str, v: Option<&Value>) -> Res<Option<i64>> {
    let bad = || err(path, "must be an RFC 3339 time or epoch seconds/ms");
    let x = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => match DateTime::parse_from_rfc3339(s.trim()) {
            Ok(t) => return Ok(Some(t.timestamp_millis())),
            Err(_) => s.trim().parse::<f64>().map_err(|_| bad())?,
        },
        Some(Value::Number(n)) => n.as_f64().ok_or_else(bad)?,
        Some(_) => return Err(bad()),
    };
    if !x.is_finite() || x < 0.0 {
        return Err(bad());
    }
    let ms = if x < SECONDS_BELOW { x * 1000.0 } else { x };
    if ms > MAX_MS {
        return Err(err(path, "is out of range"));
    }
    Ok(Some(ms.round() as i64))
}

/// [`clean_line`] before the length cut: the numbers may sit past [`MAX_LINE`], e.g. at the end
/// of a stderr dump.
fn clean_full(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_LINE * 4));
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI (ESC [ … final byte: colours) and OSC (ESC ] … BEL or ESC \: titles, links).
            match chars.next_if(|d| matches!(d, '[' | ']')) {
                Some('[') => {
                    chars.by_ref().find(|d| ('@'..='~').contains(d));
                }
                Some(_) => {
                    let end = chars.by_ref().find(|d| matches!(d, '\u{7}' | '\u{1b}'));
                    if end == Some('\u{1b}') {
                        chars.next_if_eq(&'\\');
                    }
                }
                None => {}
            }
        } else if c.is_ascii_graphic() || c == ' ' {
            out.push(c);
        } else if c.is_whitespace() {
            out.push(' ');
        }
    }
    let start = out.to_ascii_lowercase().find("token usage:").unwrap_or(0);
    out.get(start..).unwrap_or_default().trim().to_string()
}

/// ANSI escapes and control characters removed, cut to start at "token usage:", printable ASCII
/// only, at most [`MAX_LINE`] characters.
pub fn clean_line(raw: &str) -> String {
    clean_full(raw).chars().take(MAX_LINE).collect()
}

/// Numbers in a cleaned summary: the peer form `Token usage: total=1,234 input=1,000 (+ 200
/// cached) output=234 (reasoning 100)`, or Codex 0.169's `tokens used 30` (input − cached +
/// output, so it only fills `total`). Missing numbers are 0.
fn from_line(line: &str) -> Tokens {
    let lower = line.to_ascii_lowercase();
    let digits = |s: &str| {
        s.chars()
            .filter(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    };
    let number_at = |i: usize| {
        let rest = lower.get(i..)?.trim_start_matches([' ', ':', '=']);
        digits(
            rest.split(|c: char| !c.is_ascii_digit() && !matches!(c, ',' | '_'))
                .next()?,
        )
    };
    let after = |key: &str| lower.find(key).and_then(|i| number_at(i + key.len()));
    let cached = lower.find("cached").and_then(|end| {
        let open = lower.get(..end)?.rfind("(+")?;
        digits(lower.get(open + 2..end)?)
    });
    // The last one: a dump of several runs ends with the one being reported.
    let used = lower
        .rfind("tokens used")
        .and_then(|i| number_at(i + "tokens used".len()));
    Tokens {
        total: after("total=").or(used).unwrap_or(0),
        input: after("input=").unwrap_or(0),
        cached: cached.unwrap_or(0),
        cache_write: 0,
        output: after("output=").unwrap_or(0),
        reasoning: after("(reasoning").unwrap_or(0),
    }
}

fn usage(kind: EntryKind, tokens: Tokens, at_ms: Option<i64>) -> Usage {
    Usage {
        kind,
        tokens,
        line: String::new(),
        model: String::new(),
        session_id: String::new(),
        turn_id: String::new(),
        response_id: String::new(),
        event_id: String::new(),
        at_ms,
    }
}

/// Codex's six-key usage object; total, when missing, is input + output as Codex computes it.
fn tokens_at(path: &str, v: Option<&Value>) -> Res<Tokens> {
    let obj = v
        .and_then(Value::as_object)
        .ok_or_else(|| err(path, "must be an object"))?;
    let n = |k: &str| number(&format!("{path}.{k}"), obj.get(k)).map(Option::unwrap_or_default);
    let (input, output) = (n("input_tokens")?, n("output_tokens")?);
    Ok(Tokens {
        total: number(&format!("{path}.total_tokens"), obj.get("total_tokens"))?
            .unwrap_or(input.saturating_add(output)),
        input,
        cached: n("cached_input_tokens")?,
        cache_write: n("cache_write_input_tokens")?,
        output,
        reasoning: n("reasoning_output_tokens")?,
    })
}

fn window(path: &str, v: Option<&Value>, line_ms: Option<i64>) -> Res<Option<Window>> {
    let obj = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(o)) => o,
        Some(_) => return Err(err(path, "must be an object or null")),
    };
    let p = |k: &str| format!("{path}.{k}");
    let used_percent = obj
        .get("used_percent")
        .and_then(Value::as_f64)
        .filter(|f| *f >= 0.0);
    let used_percent =
        used_percent.ok_or_else(|| err(p("used_percent"), "must be a number >= 0"))?;
    let minutes = number(&p("window_minutes"), obj.get("window_minutes"))?.unwrap_or(0);
    let out_of_range = |k: &str| err(p(k), "is out of range");
    let window_minutes = u32::try_from(minutes).map_err(|_| out_of_range("window_minutes"))?;
    let ms = |k: &str, s: u64, base: i64| {
        let s = i64::try_from(s).ok();
        s.and_then(|s| s.checked_mul(1000)?.checked_add(base))
            .ok_or_else(|| out_of_range(k))
    };
    // Current Codex sends absolute epoch seconds (`reset_at` in the SSE event); older versions
    // sent seconds from the line's timestamp, which is useless without one.
    let resets_at_ms = if let Some((k, v)) = pick(obj, &["resets_at", "reset_at"]) {
        number(&p(k), Some(v))?.map(|s| ms(k, s, 0)).transpose()?
    } else {
        let secs = number(&p("resets_in_seconds"), obj.get("resets_in_seconds"))?;
        let at = |(s, base)| ms("resets_in_seconds", s, base);
        secs.zip(line_ms).map(at).transpose()?
    };
    Ok(Some(Window {
        used_percent,
        window_minutes,
        resets_at_ms,
    }))
}

/// Validated in full, but only kept when a window is present: Codex sends this object with both
/// windows null on every turn when the server returned no rate-limit headers.
fn rate_limits(path: &str, v: &Value, at_ms: Option<i64>) -> Res<Option<RateLimits>> {
    let obj = v
        .as_object()
        .ok_or_else(|| err(path, "must be an object or null"))?;
    let p = |k: &str| format!("{path}.{k}");
    let primary = window(&p("primary"), obj.get("primary"), at_ms)?;
    let secondary = window(&p("secondary"), obj.get("secondary"), at_ms)?;
    let empty = Map::new();
    let credits = match obj.get("credits") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(c)) => c,
        Some(_) => return Err(err(p("credits"), "must be an object or null")),
    };
    let flag = |k: &str| match credits.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(err(
            p(&format!("credits.{k}")),
            "must be true, false or null",
        )),
    };
    let credits_balance = match credits.get("balance") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.to_string()),
        b => Some(id(&p("credits.balance"), b)?),
    };
    let full = |w: &Option<Window>| w.as_ref().is_some_and(|w| w.used_percent >= 100.0);
    let reached = obj
        .get("rate_limit_reached_type")
        .is_some_and(|v| !v.is_null());
    let limits = RateLimits {
        limit_id: id(&p("limit_id"), obj.get("limit_id"))?,
        plan_type: id(&p("plan_type"), obj.get("plan_type"))?,
        limit_reached: reached || full(&primary) || full(&secondary),
        primary,
        secondary,
        credits_balance,
        credits_unlimited: flag("unlimited")?,
        has_credits: flag("has_credits")?,
        at_ms,
    };
    Ok((limits.primary.is_some() || limits.secondary.is_some()).then_some(limits))
}

/// A peer's entry: a summary line and/or token numbers, ids and optional rate limits.
fn structured(obj: &Map<String, Value>) -> Res<Parsed> {
    let line = match obj.get("line") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(err("line", "must be a string")),
    };
    let model = model("model", obj.get("model"))?;
    let num =
        |names: &[&'static str]| pick(obj, names).map_or(Ok(None), |(k, v)| number(k, Some(v)));
    let numbers = Numbers {
        total: num(&["total", "total_tokens"])?,
        input: num(&["input", "input_tokens"])?,
        cached: num(&["cached", "cached_input_tokens"])?,
        cache_write: num(&["cache_write", "cache_write_input_tokens"])?,
        output: num(&["output", "output_tokens"])?,
        reasoning: num(&["reasoning", "reasoning_output_tokens"])?,
    };
    let session_id = id("session_id", obj.get("session_id"))?;
    let turn_id = id("turn_id", obj.get("turn_id"))?;
    let response_id = id("response_id", obj.get("response_id"))?;
    let at_ms =
        pick(obj, &["recorded_at", "timestamp"]).map_or(Ok(None), |(k, v)| time(k, Some(v)))?;
    let limits = match obj.get("rate_limits") {
        None | Some(Value::Null) => None,
        Some(v) => Some(rate_limits("rate_limits", v, at_ms)?),
    };
    structured_from(Fields {
        line,
        numbers,
        usage: Usage {
            model,
            session_id,
            turn_id,
            response_id,
            ..usage(EntryKind::Structured, Tokens::default(), at_ms)
        },
        limits,
    })
}

/// A structured entry's token numbers as given; `None` when not.
struct Numbers {
    total: Option<u64>,
    input: Option<u64>,
    cached: Option<u64>,
    cache_write: Option<u64>,
    output: Option<u64>,
    reasoning: Option<u64>,
}

/// A structured entry's members, read and checked.
struct Fields<'a> {
    /// As sent.
    line: &'a str,
    numbers: Numbers,
    /// Model, ids and time; kind, tokens and line are worked out here.
    usage: Usage,
    /// `rate_limits` when sent (`Some(None)`: sent without a window).
    limits: Option<Option<RateLimits>>,
}

/// The usage of a structured entry: its numbers, those its line prints where it gives none.
fn structured_from(f: Fields<'_>) -> Res<Parsed> {
    let n = f.numbers;
    let explicit = [
        n.total,
        n.input,
        n.cached,
        n.cache_write,
        n.output,
        n.reasoning,
    ]
    .iter()
    .any(Option::is_some);
    let full = clean_full(f.line);
    if full.is_empty() && !explicit {
        return match f.limits {
            Some(rate_limits) => Ok(Parsed {
                rate_limits,
                ..Parsed::default()
            }),
            None => Err(err("line", "a usage entry needs a line or token numbers")),
        };
    }
    let l = from_line(&full);
    let (input, output) = (n.input.unwrap_or(l.input), n.output.unwrap_or(l.output));
    let line_total = (l.total > 0).then_some(l.total);
    let tokens = Tokens {
        total: n
            .total
            .or(line_total)
            .unwrap_or(input.saturating_add(output)),
        input,
        cached: n.cached.unwrap_or(l.cached),
        cache_write: n.cache_write.unwrap_or(0),
        output,
        reasoning: n.reasoning.unwrap_or(l.reasoning),
    };
    let kind = if explicit {
        EntryKind::Structured
    } else {
        EntryKind::Summary
    };
    let line = full.chars().take(MAX_LINE).collect();
    Ok(Parsed {
        usage: Some(Usage {
            kind,
            tokens,
            line,
            ..f.usage
        }),
        rate_limits: f.limits.flatten(),
        ..Parsed::default()
    })
}

fn no_usage(what: &str) -> FieldError {
    let what: String = what
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect();
    err("type", format!("rollout line {what} carries no usage"))
}

/// A line of `$CODEX_HOME/sessions/**/rollout-*.jsonl`: `{timestamp, ordinal, type, payload}`.
fn rollout(obj: &Map<String, Value>) -> Res<Parsed> {
    let kind = obj.get("type").and_then(Value::as_str);
    let kind = kind.ok_or_else(|| err("type", "a rollout line needs a string type"))?;
    if !matches!(
        kind,
        "event_msg" | "token_usage_record" | "session_meta" | "turn_context"
    ) {
        return Err(no_usage(kind));
    }
    let payload = obj.get("payload").and_then(Value::as_object);
    let payload = payload.ok_or_else(|| err("payload", "must be an object"))?;
    let at_ms = time("timestamp", obj.get("timestamp"))?;
    let id_at = |k: &str| id(&format!("payload.{k}"), payload.get(k));
    match kind {
        "session_meta" => {
            let k = pick(payload, &["session_id", "id"]).map_or("session_id", |(k, _)| k);
            let sid = id_at(k)?;
            if sid.is_empty() {
                return Err(err(
                    format!("payload.{k}"),
                    "session_meta needs a session id",
                ));
            }
            Ok(Parsed {
                session_meta: Some(sid),
                ..Parsed::default()
            })
        }
        "turn_context" => {
            let name = model("payload.model", payload.get("model"))?;
            if name.is_empty() {
                return Err(no_usage("turn_context"));
            }
            Ok(Parsed {
                turn_model: Some(name),
                ..Parsed::default()
            })
        }
        "token_usage_record" => {
            let tokens = tokens_at("payload.usage", payload.get("usage"))?;
            let (sid_key, _) = pick(payload, &["session_id", "thread_id"]).unzip();
            let usage = Usage {
                model: model("payload.model", payload.get("model"))?,
                session_id: sid_key.map(id_at).transpose()?.unwrap_or_default(),
                turn_id: id_at("turn_id")?,
                response_id: id_at("response_id")?,
                ..usage(EntryKind::UsageRecord, tokens, at_ms)
            };
            Ok(Parsed {
                usage: Some(usage),
                ..Parsed::default()
            })
        }
        _ => match payload.get("type").and_then(Value::as_str) {
            Some("token_count") => token_count(obj, payload, at_ms),
            other => Err(no_usage(&format!("event_msg/{}", other.unwrap_or("?")))),
        },
    }
}

/// `info` is null before the first response of a session; the line may still carry rate limits.
/// With neither, the result is empty rather than an error: it is ordinary Codex output.
fn token_count(
    line: &Map<String, Value>,
    payload: &Map<String, Value>,
    at_ms: Option<i64>,
) -> Res<Parsed> {
    let usage = match payload.get("info") {
        None | Some(Value::Null) => None,
        Some(Value::Object(info)) => {
            let tokens = tokens_at(
                "payload.info.last_token_usage",
                info.get("last_token_usage"),
            )?;
            // `timestamp` is already validated, so it is short and printable.
            let ts = match line.get("timestamp") {
                Some(Value::String(s)) => s.trim().to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            let event_id = match number("ordinal", line.get("ordinal"))? {
                Some(o) if !ts.is_empty() => format!("{ts}#{o}"),
                _ => ts,
            };
            Some(Usage {
                event_id,
                ..usage(EntryKind::TokenCount, tokens, at_ms)
            })
        }
        Some(_) => return Err(err("payload.info", "must be an object or null")),
    };
    let rate_limits = match payload.get("rate_limits") {
        None | Some(Value::Null) => None,
        Some(v) => rate_limits("payload.rate_limits", v, at_ms)?,
    };
    Ok(Parsed {
        usage,
        rate_limits,
        ..Parsed::default()
    })
}

/// Parses one entry. A string is a summary line, or a rollout line when it holds a JSON object.
pub fn parse_entry(v: &Value) -> Result<Parsed, FieldError> {
    match v {
        Value::Object(o) if o.contains_key("type") && o.contains_key("payload") => rollout(o),
        Value::Object(o) => structured(o),
        Value::String(s) => {
            if s.trim_start().starts_with('{')
                && let Ok(Value::Object(o)) = serde_json::from_str::<Value>(s)
            {
                return parse_entry(&Value::Object(o));
            }
            structured(&Map::from_iter([("line".to_string(), v.clone())]))
        }
        _ => Err(err("", "a usage entry must be an object or a string")),
    }
}

/// Parses one entry from its JSON text; `None` when the text is not JSON.
pub fn parse_entry_text(text: &str) -> Option<Result<Parsed, FieldError>> {
    if let Some(parsed) = plain::parse(text) {
        return Some(parsed);
    }
    let v: Value = serde_json::from_str(text).ok()?;
    Some(parse_entry(&v))
}

mod plain;

#[cfg(test)]
mod tests;
