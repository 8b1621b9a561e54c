//! Host usage reports (`POST /usage`): Codex's printed summary line or token numbers, one entry
//! or a batch. Bad entries are reported back by index while good ones are stored.

use codex_central_store::entities::usage_rows::Model as Row;
use codex_central_store::{Store, now_ms, usage_rows};
use serde_json::{Map, Value};

use crate::{Error, Result};

pub const MAX_LINE: usize = 1000;
pub const MAX_ENTRIES: usize = 1000;

/// One parsed entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub line: String,
    pub model: String,
    pub total: u64,
    pub input: u64,
    pub cached: u64,
    pub output: u64,
    pub reasoning: u64,
}

/// `1,234` / `1_234` / `1 234` / 1234 → 1234; negative, fractional or other text → error.
fn number(field: &str, v: &Value) -> std::result::Result<Option<u64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{field} must be a whole number ≥ 0")),
        Value::String(s) => {
            let digits: String = s
                .chars()
                .filter(|c| !matches!(c, ',' | '_' | ' '))
                .collect();
            if digits.is_empty() {
                return Ok(None);
            }
            digits
                .parse::<u64>()
                .map(Some)
                .map_err(|_| format!("{field} must be a whole number ≥ 0"))
        }
        _ => Err(format!("{field} must be a whole number ≥ 0")),
    }
}

/// ANSI escapes and control characters removed, cut to start at "token usage:", printable
/// ASCII only, at most [`MAX_LINE`] characters.
pub fn clean_line(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len().min(MAX_LINE * 2));
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte.
            if chars.peek() == Some(&'[') {
                chars.next();
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        if c.is_ascii_graphic() || c == ' ' {
            out.push(c);
        } else if c.is_whitespace() {
            out.push(' ');
        }
    }
    let lower = out.to_ascii_lowercase();
    let start = lower.find("token usage:").unwrap_or(0);
    out[start..].trim().chars().take(MAX_LINE).collect()
}

/// Numbers in Codex's summary: `Token usage: total=1,234 input=1,000 (+ 200 cached)
/// output=234 (reasoning 100)`.
fn from_line(line: &str, e: &mut Entry) {
    let lower = line.to_ascii_lowercase();
    let after = |key: &str| -> Option<u64> {
        let i = lower.find(key)? + key.len();
        let digits: String = lower[i..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit() || matches!(c, ',' | '_'))
            .filter(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    let cached = lower.find("cached").and_then(|end| {
        let open = lower[..end].rfind("(+")?;
        let digits: String = lower[open + 2..end]
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    });
    e.total = after("total=").unwrap_or(e.total);
    e.input = after("input=").unwrap_or(e.input);
    e.output = after("output=").unwrap_or(e.output);
    e.reasoning = after("(reasoning").unwrap_or(e.reasoning);
    e.cached = cached.unwrap_or(e.cached);
}

/// Parses one entry object. `Err` is the reason reported for its index.
pub fn parse_entry(v: &Value) -> std::result::Result<Entry, String> {
    let obj: &Map<String, Value> = v.as_object().ok_or("entry must be an object")?;
    let get = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| obj.get(*n))
            .unwrap_or(&Value::Null)
    };
    let mut e = Entry::default();
    let line = match get(&["line"]) {
        Value::Null => String::new(),
        Value::String(s) => clean_line(s),
        _ => return Err("line must be a string".into()),
    };
    e.model = match get(&["model"]) {
        Value::Null => String::new(),
        Value::String(s) => s.trim().chars().take(191).collect(),
        _ => return Err("model must be a string".into()),
    };
    let total = number("total", get(&["total", "total_tokens"]))?;
    let input = number("input", get(&["input", "input_tokens"]))?;
    let cached = number("cached", get(&["cached", "cached_input_tokens"]))?;
    let output = number("output", get(&["output", "output_tokens"]))?;
    let reasoning = number("reasoning", get(&["reasoning", "reasoning_output_tokens"]))?;
    let any_number = [total, input, cached, output, reasoning]
        .iter()
        .any(Option::is_some);
    if line.is_empty() && !any_number {
        return Err("a usage entry needs a line or token numbers".into());
    }
    if !line.is_empty() {
        from_line(&line, &mut e);
    }
    e.line = line;
    e.input = input.unwrap_or(e.input);
    e.cached = cached.unwrap_or(e.cached);
    e.output = output.unwrap_or(e.output);
    e.reasoning = reasoning.unwrap_or(e.reasoning);
    e.total = total.unwrap_or(if e.total > 0 {
        e.total
    } else {
        e.input.saturating_add(e.output)
    });
    Ok(e)
}

pub struct Ingested {
    pub ingest_id: String,
    pub recorded_at: i64,
    pub rows: Vec<Entry>,
    pub errors: Vec<(usize, String)>,
}

/// Parses `entries` (raw JSON objects) and stores the good ones in one transaction.
pub async fn ingest(
    store: &Store,
    host_id: Option<i64>,
    client_ip: &str,
    entries: &[Value],
) -> Result<Ingested> {
    if entries.is_empty() {
        return Err(Error::invalid_argument("no usage entries"));
    }
    if entries.len() > MAX_ENTRIES {
        return Err(Error::invalid_argument(format!(
            "at most {MAX_ENTRIES} entries per call"
        )));
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, v) in entries.iter().enumerate() {
        match parse_entry(v) {
            Ok(e) => rows.push(e),
            Err(reason) => errors.push((i, reason)),
        }
    }
    if rows.is_empty() {
        let (index, reason) = errors.into_iter().next().unwrap_or_default();
        let field = if entries.len() == 1 {
            "line".to_string()
        } else {
            format!("usages.{index}")
        };
        return Err(Error::invalid(field, reason));
    }
    let ingest_id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    usage_rows::insert_all(
        store,
        rows.iter()
            .map(|e| Row {
                id: 0,
                ingest_id: ingest_id.clone(),
                host_id,
                source: "host".into(),
                recorded_at: now,
                model: e.model.clone(),
                total_tokens: clamp(e.total),
                input_tokens: clamp(e.input),
                cached_input_tokens: clamp(e.cached),
                output_tokens: clamp(e.output),
                reasoning_output_tokens: clamp(e.reasoning),
                line: e.line.clone(),
                client_ip: client_ip.chars().take(64).collect(),
            })
            .collect(),
    )
    .await?;
    Ok(Ingested {
        ingest_id,
        recorded_at: now,
        rows,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codex_summary_lines_parse() {
        let e = parse_entry(&json!({"line": "\u{1b}[2mToken usage: total=1,234 input=1,000 (+ 200 cached) output=234 (reasoning 100)\u{1b}[0m"})).unwrap();
        assert_eq!(
            (e.total, e.input, e.cached, e.output, e.reasoning),
            (1234, 1000, 200, 234, 100)
        );
        assert!(e.line.starts_with("Token usage:"));
    }

    #[test]
    fn numbers_accept_separators_and_reject_negatives() {
        let e = parse_entry(&json!({"total": "12_345", "input": "1 000", "output": 5})).unwrap();
        assert_eq!((e.total, e.input, e.output), (12345, 1000, 5));
        assert!(parse_entry(&json!({"total": -1})).is_err());
        assert!(parse_entry(&json!({})).is_err());
        assert!(parse_entry(&json!({"total": 1.5})).is_err());
    }

    #[test]
    fn lines_are_cleaned_and_bounded() {
        let long = format!("noise token usage: {}", "x".repeat(5000));
        let e = parse_entry(&json!({"line": long, "total": 1})).unwrap();
        assert!(e.line.starts_with("token usage:"));
        assert_eq!(e.line.len(), MAX_LINE);
        assert_eq!(clean_line("a\u{0}b\u{7f}c\tzé"), "abc z");
    }
}
