//! The entry hosts send most: token numbers, a model and ids, read straight from its JSON text
//! into typed fields instead of a document of maps and strings (a report holds up to a
//! thousand entries, and building documents was most of what reading them cost). Only entries
//! whose every member reads plainly take this way: numbers as JSON numbers, texts without
//! escapes, no other member, no member twice. Anything else returns `None` and goes the
//! general way, so both ways agree on every entry this one reads.

use serde::Deserialize;

use super::{EntryKind, Tokens};
use super::{Fields, Numbers, Parsed, Res, id_text, model_text, structured_from, usage};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Plain<'a> {
    #[serde(borrow)]
    line: Option<&'a str>,
    #[serde(borrow)]
    model: Option<&'a str>,
    total: Option<u64>,
    total_tokens: Option<u64>,
    input: Option<u64>,
    input_tokens: Option<u64>,
    cached: Option<u64>,
    cached_input_tokens: Option<u64>,
    cache_write: Option<u64>,
    cache_write_input_tokens: Option<u64>,
    output: Option<u64>,
    output_tokens: Option<u64>,
    reasoning: Option<u64>,
    reasoning_output_tokens: Option<u64>,
    #[serde(borrow)]
    session_id: Option<&'a str>,
    #[serde(borrow)]
    turn_id: Option<&'a str>,
    #[serde(borrow)]
    response_id: Option<&'a str>,
}

/// The entry in `text` when it reads plainly (see the module docs); `None` otherwise.
pub(super) fn parse(text: &str) -> Option<Res<Parsed>> {
    // An array would fill the fields in order; entries are objects.
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let p: Plain<'_> = serde_json::from_str(text).ok()?;
    Some(fields(p).and_then(structured_from))
}

/// As the general way reads them: the first of two names given wins, ids in this order.
fn fields(p: Plain<'_>) -> Res<Fields<'_>> {
    let numbers = Numbers {
        total: p.total.or(p.total_tokens),
        input: p.input.or(p.input_tokens),
        cached: p.cached.or(p.cached_input_tokens),
        cache_write: p.cache_write.or(p.cache_write_input_tokens),
        output: p.output.or(p.output_tokens),
        reasoning: p.reasoning.or(p.reasoning_output_tokens),
    };
    let id = |path, v: Option<&str>| id_text(path, v.unwrap_or(""));
    let session_id = id("session_id", p.session_id)?;
    let turn_id = id("turn_id", p.turn_id)?;
    let response_id = id("response_id", p.response_id)?;
    Ok(Fields {
        line: p.line.unwrap_or(""),
        numbers,
        usage: super::Usage {
            model: model_text(p.model.unwrap_or("")),
            session_id,
            turn_id,
            response_id,
            ..usage(EntryKind::Structured, Tokens::default(), None)
        },
        limits: None,
    })
}
