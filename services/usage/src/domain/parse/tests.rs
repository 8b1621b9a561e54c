//! Tests of [`super`]: real Codex 0.169 lines, the peer's summaries, every error's field
//! path, and properties over arbitrary input.

use super::*;
use proptest::prelude::*;
use serde_json::json;

// Lines of the Codex 0.169 rollout fixture (long texts shortened).
const META: &str = r#"{"timestamp": "2026-11-23T17:56:49.429Z", "ordinal": 0, "type": "session_meta", "payload": {"account_scoped": true, "session_id": "01a2098d-ac7f-7b32-bfac-0cf0b7117a1c", "id": "01a2098d-ac7f-7b32-bfac-0cf0b7117a1c", "timestamp": "2026-11-23T17:56:49.410Z", "cwd": "/home/user/project", "originator": "codex_exec", "cli_version": "0.169.0", "source": "exec", "model_provider": "stub", "base_instructions": {"text": "<elided>", "provenance": {"type": "model", "model": "stub-model"}}, "history_mode": "paginated"}}"#;
const RECORD: &str = r#"{"timestamp": "2026-11-23T17:56:49.819Z", "ordinal": 16, "type": "token_usage_record", "payload": {"thread_id": "01a2098d-ac7f-7b32-bfac-0cf0b7117a1c", "turn_id": "01a2098d-ac90-76a2-9875-18836c7a46c0", "session_id": "01a2098d-ac7f-7b32-bfac-0cf0b7117a1c", "root_turn_id": "01a2098d-ac90-76a2-9875-18836c7a46c0", "response_id": "resp_ae146192a477", "usage": {"input_tokens": 123, "cached_input_tokens": 100, "cache_write_input_tokens": 0, "output_tokens": 7, "reasoning_output_tokens": 2, "total_tokens": 130}, "turn_token_usage": {"input_tokens": 246, "cached_input_tokens": 200, "cache_write_input_tokens": 0, "output_tokens": 14, "reasoning_output_tokens": 4, "total_tokens": 260}, "thread_token_usage": {"input_tokens": 246, "cached_input_tokens": 200, "cache_write_input_tokens": 0, "output_tokens": 14, "reasoning_output_tokens": 4, "total_tokens": 260}}}"#;
const COUNT: &str = r#"{"timestamp": "2026-11-23T17:56:49.790Z", "ordinal": 13, "type": "event_msg", "payload": {"type": "token_count", "info": {"total_token_usage": {"input_tokens": 123, "cached_input_tokens": 100, "cache_write_input_tokens": 0, "output_tokens": 7, "reasoning_output_tokens": 2, "total_tokens": 130}, "last_token_usage": {"input_tokens": 123, "cached_input_tokens": 100, "cache_write_input_tokens": 0, "output_tokens": 7, "reasoning_output_tokens": 2, "total_tokens": 130}, "last_usage_includes_reasoning": false, "model_context_window": 258400}, "rate_limits": {"limit_id": "codex", "limit_name": null, "primary": null, "secondary": null, "credits": null, "individual_limit": null, "spend_control_reached": null, "plan_type": null, "rate_limit_reached_type": null}}}"#;
const COUNT_LIMITS: &str = r#"{"timestamp": "2026-11-23T17:57:34.333Z", "ordinal": 12, "type": "event_msg", "payload": {"type": "token_count", "info": {"total_token_usage": {"input_tokens": 123, "cached_input_tokens": 100, "cache_write_input_tokens": 0, "output_tokens": 7, "reasoning_output_tokens": 2, "total_tokens": 130}, "last_token_usage": {"input_tokens": 123, "cached_input_tokens": 100, "cache_write_input_tokens": 0, "output_tokens": 7, "reasoning_output_tokens": 2, "total_tokens": 130}, "last_usage_includes_reasoning": false, "model_context_window": 258400}, "rate_limits": {"limit_id": "codex", "limit_name": null, "primary": {"used_percent": 42.5, "window_minutes": 300, "resets_at": 1795460254}, "secondary": {"used_percent": 13.0, "window_minutes": 10080, "resets_at": 1795715854}, "credits": null, "individual_limit": null, "spend_control_reached": null, "plan_type": null, "rate_limit_reached_type": null}}}"#;
const DONE: &str = r#"{"timestamp": "2026-11-23T17:57:34.335Z", "ordinal": 13, "type": "event_msg", "payload": {"type": "task_complete", "root_turn_id": "01a2098e-5668-7d52-b01d-72cffab53275", "turn_id": "01a2098e-5668-7d52-b01d-72cffab53275", "last_agent_message": "hi from stub", "started_at": 1795456652, "completed_at": 1795456654, "duration_ms": 1425, "time_to_first_token_ms": 1419}}"#;
const FIXTURES: [&str; 5] = [META, RECORD, COUNT, COUNT_LIMITS, DONE];

/// `[total, input, cached, cache_write, output, reasoning]`, to keep the tables on one line.
fn t([total, input, cached, cache_write, output, reasoning]: [u64; 6]) -> Tokens {
    Tokens {
        total,
        input,
        cached,
        cache_write,
        output,
        reasoning,
    }
}
fn ok(v: &Value) -> Parsed {
    parse_entry(v).unwrap_or_else(|e| panic!("{v}: {e:?}"))
}
fn usage_of(v: Value) -> Usage {
    ok(&v).usage.expect("usage")
}
fn fixture(s: &str) -> Value {
    serde_json::from_str(s).expect("fixture")
}

#[test]
fn fixture_lines() {
    let fixed = t([130, 123, 100, 0, 7, 2]);
    let count = usage(
        EntryKind::TokenCount,
        fixed.clone(),
        Some(1_795_456_609_790),
    );
    let count = Usage {
        event_id: "2026-11-23T17:56:49.790Z#13".into(),
        ..count
    };
    assert_eq!(
        ok(&fixture(COUNT)),
        Parsed {
            usage: Some(count),
            ..Parsed::default()
        }
    );

    let p = ok(&fixture(COUNT_LIMITS));
    let u = p.usage.expect("usage");
    assert_eq!(
        (u.event_id.as_str(), &u.tokens),
        ("2026-11-23T17:57:34.333Z#12", &fixed)
    );
    let window = |used_percent, window_minutes, resets_at_ms| {
        Some(Window {
            used_percent,
            window_minutes,
            resets_at_ms: Some(resets_at_ms),
        })
    };
    let limits = RateLimits {
        limit_id: "codex".into(),
        plan_type: String::new(),
        primary: window(42.5, 300, 1_795_460_254_000),
        secondary: window(13.0, 10080, 1_795_715_854_000),
        limit_reached: false,
        credits_balance: None,
        credits_unlimited: None,
        has_credits: None,
        at_ms: Some(1_795_456_654_333),
    };
    assert_eq!(p.rate_limits, Some(limits));

    let sid = "01a2098d-ac7f-7b32-bfac-0cf0b7117a1c";
    let record = Usage {
        session_id: sid.into(),
        turn_id: "01a2098d-ac90-76a2-9875-18836c7a46c0".into(),
        response_id: "resp_ae146192a477".into(),
        ..usage(EntryKind::UsageRecord, fixed, Some(1_795_456_609_819))
    };
    assert_eq!(usage_of(fixture(RECORD)), record);
    let meta = Parsed {
        session_meta: Some(sid.into()),
        ..Parsed::default()
    };
    assert_eq!(ok(&fixture(META)), meta);

    let e = parse_entry(&fixture(DONE)).expect_err("no usage");
    assert_eq!(e.field, "type");
    assert_eq!(
        e.reason,
        "rollout line event_msg/task_complete carries no usage"
    );
    // A turn's context names its model; without one it says nothing.
    for kind in ["response_item", "turn_context", "world_state"] {
        let e = parse_entry(&json!({"type": kind, "payload": {}})).expect_err(kind);
        assert!(e.field == "type" && e.reason.contains(kind), "{e:?}");
    }
    let turn = json!({"type": "turn_context", "payload": {"model": " gpt-5 ", "cwd": "/w"}});
    assert_eq!(ok(&turn).turn_model.as_deref(), Some("gpt-5"));
    let bad = json!({"type": "turn_context", "payload": {"model": 5}});
    assert_eq!(parse_entry(&bad).unwrap_err().field, "payload.model");
    for f in FIXTURES {
        assert_eq!(
            parse_entry(&Value::from(f)),
            parse_entry(&fixture(f)),
            "as a string"
        );
    }
}

#[test]
fn token_count_variants() {
    // Older Codex: resets relative to the line; plus a full window and credits, no usage yet.
    let p = ok(
        &json!({"timestamp": "1970-01-01T00:00:10Z", "type": "event_msg", "payload": {
        "type": "token_count", "info": null, "rate_limits": {"plan_type": "pro",
        "primary": {"used_percent": 100.0, "window_minutes": 300, "resets_in_seconds": 5},
        "credits": {"has_credits": true, "unlimited": false, "balance": "12.5"}}}}),
    );
    let rl = p.rate_limits.expect("rate limits");
    assert_eq!(
        (p.usage, rl.plan_type.as_str(), rl.limit_reached),
        (None, "pro", true)
    );
    assert_eq!(rl.primary.and_then(|w| w.resets_at_ms), Some(15_000));
    let credits = (
        rl.credits_balance.as_deref(),
        rl.credits_unlimited,
        rl.has_credits,
    );
    assert_eq!(credits, (Some("12.5"), Some(false), Some(true)));

    let p = ok(
        &json!({"type": "event_msg", "payload": {"type": "token_count", "rate_limits": {
        "secondary": {"used_percent": 1, "resets_in_seconds": 5},
        "rate_limit_reached_type": "workspace"}}}),
    );
    let rl = p.rate_limits.expect("rate limits");
    assert!(rl.limit_reached && rl.at_ms.is_none());
    let no_base = Window {
        used_percent: 1.0,
        window_minutes: 0,
        resets_at_ms: None,
    };
    assert_eq!(rl.secondary, Some(no_base));

    let u = usage_of(
        json!({"timestamp": "2026-11-23T17:56:49.790Z", "type": "event_msg",
        "payload": {"type": "token_count",
        "info": {"last_token_usage": {"input_tokens": "1,000", "output_tokens": 5}}}}),
    );
    assert_eq!(
        (u.event_id.as_str(), u.tokens),
        ("2026-11-23T17:56:49.790Z", t([1005, 1000, 0, 0, 5, 0]))
    );
    let nothing = json!({"type": "event_msg", "payload": {"type": "token_count", "info": null}});
    assert_eq!(ok(&nothing), Parsed::default());
}

/// One row per entry: expected kind and tokens, then the entry as JSON.
const USAGES: &str = r#"
    Summary    [1234,1000,200,0,234,100] "\u001b[2mhost1 \u001b]0;t\u0007Token usage: total=1,234 input=1_000 (+ 200 cached) output=234 (reasoning 100)\u001b[0m\n"
    Summary    [15,10,0,0,5,0]           "token usage: input=10 output=5"
    Summary    [0,0,0,0,0,0]             "token usage: n/a"
    Summary    [30,0,0,0,0,0]            "tokens used\n30"
    Summary    [1234,0,0,0,0,0]          "tokens used: 1,234"
    Summary    [30,0,0,0,0,0]            "tokens used 30"
    Summary    [1234,0,0,0,0,0]          "codex\nhi\n\u001b[1mtokens used\u001b[0m\r\n1_234\n"
    Summary    [9,0,0,0,0,0]             "{not json: tokens used 9"
    Summary    [30,0,0,0,0,0]            {"line": "tokens used\n30", "model": null}
    Structured [30,20,0,0,3,0]           {"line": "tokens used\n30", "input": 20, "output_tokens": "3"}
    Structured [31,0,0,0,0,0]            {"line": "tokens used 30", "total": 31}
    Structured [10,4,0,0,6,0]            {"input": 4, "output": 6}
    Structured [12345,1000,10,2,5,1]     {"total": "12 345", "input": 1000, "cached": "1_0", "cache_write": 2, "output": 5, "reasoning": 1}
    Structured [12345,1000,10,2,5,1]     {"total_tokens": 12345, "input_tokens": "1,000", "cached_input_tokens": 10, "cache_write_input_tokens": 2, "output_tokens": 5, "reasoning_output_tokens": 1}
    Structured [18446744073709551615,18446744073709551615,0,0,6,0] {"input": 18446744073709551615, "output": 6}
"#;

#[test]
fn usage_table() {
    for row in USAGES.trim().lines() {
        let (kind, rest) = row.trim().split_once(' ').expect("kind");
        let (tokens, entry) = rest.trim().split_once(' ').expect("tokens");
        let tokens: [u64; 6] = serde_json::from_str(tokens).expect("tokens");
        let u = usage_of(serde_json::from_str(entry).expect("entry"));
        assert_eq!(
            (format!("{:?}", u.kind), u.tokens),
            (kind.to_string(), t(tokens)),
            "{row}"
        );
    }
    let u = usage_of(json!("\u{1b}[2mToken usage: total=1 \u{1b}[0m\r\n"));
    assert_eq!(u.line, "Token usage: total=1");
    assert_eq!(usage_of(json!("tokens used\n30")).line, "tokens used 30");
    // Past the stored MAX_LINE characters, as at the end of a long stderr dump.
    let u = usage_of(json!(format!("{} tokens used\n77", "x".repeat(3000))));
    assert_eq!((u.tokens.total, u.line.len()), (77, MAX_LINE));
    let u = usage_of(json!({"line": format!("noise token usage: {}", "x".repeat(5000))}));
    assert!(u.line.starts_with("token usage:") && u.line.len() == MAX_LINE);
    assert_eq!(
        clean_line("a\u{0}b\u{7f}c\tzé\u{1b}[31m!\u{1b}]8;;x\u{1b}\\?\u{1b}[0m\\"),
        "abc z!?\\"
    );
}

#[test]
fn structured_ids_times_and_rate_limits() {
    let u = usage_of(
        json!({"total": 1, "model": "  gpt-5  ", "session_id": " s1 ", "turn_id": "t",
        "response_id": "r", "recorded_at": "2026-11-23T17:57:34.333+00:00"}),
    );
    let ids = [
        &u.model,
        &u.session_id,
        &u.turn_id,
        &u.response_id,
        &u.event_id,
    ];
    assert_eq!(
        (ids, u.at_ms),
        (
            ["gpt-5", "s1", "t", "r", ""].map(String::from).each_ref(),
            Some(1_795_456_654_333)
        )
    );
    for (at, ms) in [
        (json!(1_795_456_654), 1_795_456_654_000),
        (json!(1_795_456_654_333_i64), 1_795_456_654_333),
        (json!("1795456654.5"), 1_795_456_654_500),
    ] {
        assert_eq!(
            usage_of(json!({"total": 1, "timestamp": at})).at_ms,
            Some(ms)
        );
    }
    assert_eq!(
        usage_of(json!({"total": 1, "model": "m".repeat(300)}))
            .model
            .len(),
        191
    );
    let r = usage_of(json!({"type": "token_usage_record",
        "payload": {"thread_id": "th", "model": "gpt-5", "usage": {}}}));
    assert_eq!(
        (r.session_id.as_str(), r.model.as_str(), r.tokens.total),
        ("th", "gpt-5", 0)
    );

    let p = ok(&json!({"rate_limits": {"primary": {"used_percent": 42.5, "resets_at": 10}}}));
    assert_eq!(p.usage, None);
    assert_eq!(
        p.rate_limits
            .and_then(|r| r.primary)
            .and_then(|w| w.resets_at_ms),
        Some(10_000)
    );
    assert_eq!(
        ok(&json!({"rate_limits": {"primary": null}})),
        Parsed::default()
    );
    let both =
        ok(&json!({"total": 3, "timestamp": 5, "rate_limits": {"secondary": {"used_percent": 0}}}));
    assert_eq!(
        (both.rate_limits.map(|r| r.at_ms), both.usage.is_some()),
        (Some(Some(5000)), true)
    );
}

/// One row per error: the field it must name ("-" for the entry itself), then the entry.
const ERRORS: &str = r#"
    line                      {}
    line                      {"line": "   "}
    line                      {"line": []}
    line                      "{}"
    model                     {"model": 5, "total": 1}
    input                     {"input": -1}
    input_tokens              {"input_tokens": 1.5}
    total_tokens              {"total_tokens": "12x"}
    total                     {"total": "-5"}
    output                    {"output": "111111111111111111111111111111111"}
    reasoning                 {"reasoning": "99999999999999999999999"}
    cached                    {"cached": 1e30}
    cache_write_input_tokens  {"cache_write_input_tokens": true}
    session_id                {"total": 1, "session_id": 7}
    turn_id                   {"total": 1, "turn_id": "a\u0007b"}
    response_id               {"total": 1, "response_id": "é"}
    recorded_at               {"total": 1, "recorded_at": "yesterday"}
    timestamp                 {"total": 1, "timestamp": -5}
    timestamp                 {"total": 1, "timestamp": 1e300}
    -                         5
    -                         null
    rate_limits               {"rate_limits": []}
    rate_limits.primary       {"rate_limits": {"primary": 1}}
    rate_limits.primary.used_percent     {"rate_limits": {"primary": {}}}
    rate_limits.primary.used_percent     {"rate_limits": {"primary": {"used_percent": -1}}}
    rate_limits.primary.window_minutes   {"rate_limits": {"primary": {"used_percent": 1, "window_minutes": 1e10}}}
    rate_limits.secondary.resets_at      {"rate_limits": {"secondary": {"used_percent": 1, "resets_at": 18446744073709551615}}}
    rate_limits.secondary.resets_in_seconds {"rate_limits": {"secondary": {"used_percent": 1, "resets_in_seconds": "x"}}}
    rate_limits.credits       {"rate_limits": {"credits": 1}}
    rate_limits.credits.unlimited        {"rate_limits": {"credits": {"unlimited": "yes"}}}
    rate_limits.credits.balance          {"rate_limits": {"credits": {"balance": []}}}
    rate_limits.plan_type     {"rate_limits": {"plan_type": 3}}
    payload.info.last_token_usage.input_tokens {"type": "event_msg", "payload": {"type": "token_count", "info": {"last_token_usage": {"input_tokens": -3}}}}
    payload.info.last_token_usage {"type": "event_msg", "payload": {"type": "token_count", "info": {"last_token_usage": null}}}
    payload.info              {"type": "event_msg", "payload": {"type": "token_count", "info": [1]}}
    payload.rate_limits.primary.used_percent {"type": "event_msg", "payload": {"type": "token_count", "rate_limits": {"primary": {"used_percent": "1"}}}}
    payload                   {"type": "event_msg", "payload": 3}
    type                      {"type": 3, "payload": {}}
    type                      {"type": "event_msg", "payload": {"type": "agent_message"}}
    timestamp                 {"type": "event_msg", "timestamp": "soon", "payload": {"type": "token_count"}}
    ordinal                   {"type": "event_msg", "ordinal": -1, "payload": {"type": "token_count", "info": {"last_token_usage": {}}}}
    payload.usage.total_tokens {"type": "token_usage_record", "payload": {"usage": {"total_tokens": "x"}}}
    payload.usage             {"type": "token_usage_record", "payload": {}}
    payload.thread_id         {"type": "token_usage_record", "payload": {"usage": {}, "thread_id": 1}}
    payload.session_id        {"type": "session_meta", "payload": {}}
    payload.id                {"type": "session_meta", "payload": {"id": " "}}
    payload.id                "{\"type\": \"session_meta\", \"payload\": {\"id\": []}}"
"#;

#[test]
fn errors_name_their_field() {
    for row in ERRORS.trim().lines() {
        let (field, entry) = row.trim().split_once(' ').expect("field");
        let e = parse_entry(&serde_json::from_str(entry).expect("entry")).expect_err(row);
        let field = if field == "-" { "" } else { field };
        assert_eq!(e.field, field, "{row}: {}", e.reason);
    }
    let long = json!({"total": 1, "response_id": "r".repeat(MAX_ID + 1)});
    assert_eq!(
        parse_entry(&long).map_err(|e| e.field),
        Err("response_id".into())
    );
}

const KEYS: &str = "type payload info last_token_usage input_tokens cached_input_tokens \
    output_tokens total_tokens usage line total input model session_id thread_id id \
    rate_limits primary secondary used_percent window_minutes resets_at resets_in_seconds \
    credits balance unlimited timestamp recorded_at ordinal";
const WORDS: &str = "event_msg token_count token_usage_record session_meta task_complete 1,234 \
    2026-11-23T17:57:34.333Z -5 1e400 NaN tokens_used Token_usage:_total=1 {\"type\":";

fn json_value() -> impl Strategy<Value = Value> {
    let words: Vec<_> = WORDS
        .split_whitespace()
        .map(|w| w.replace('_', " "))
        .collect();
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(words).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    let keys: Vec<&str> = KEYS.split_whitespace().collect();
    leaf.prop_recursive(5, 64, 8, move |inner| {
        let pairs =
            prop::collection::vec((prop::sample::select(keys.clone()), inner.clone()), 0..8);
        prop_oneof![
            prop::collection::vec(inner, 0..4).prop_map(Value::Array),
            pairs
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.into(), v)).collect())),
        ]
    })
}

fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| pointers(c, format!("{at}/{k}"), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| pointers(c, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

/// A fixture line with one node replaced: reaches the deep paths random trees rarely build.
fn mutated_fixture() -> impl Strategy<Value = Value> {
    let parts = (
        prop::sample::select(&FIXTURES[..]),
        any::<prop::sample::Index>(),
        json_value(),
    );
    parts.prop_map(|(f, at, new)| {
        let mut v = fixture(f);
        let mut paths = Vec::new();
        pointers(&v, String::new(), &mut paths);
        if let Some(slot) = v.pointer_mut(at.get::<String>(&paths)) {
            *slot = new;
        }
        v
    })
}

proptest! {
    #[test]
    fn never_panics(v in prop_oneof![json_value(), mutated_fixture()]) {
        let _ = parse_entry(&v);
        let _ = parse_entry(&Value::String(v.to_string()));
    }

    #[test]
    fn never_panics_on_strings(s in any::<String>()) {
        let _ = parse_entry(&Value::String(s));
    }

    #[test]
    fn clean_line_is_bounded_printable(s in any::<String>(), pad in 0usize..1200) {
        for raw in [s.clone(), format!("{}{s}", "a\u{1b}[1m".repeat(pad))] {
            let out = clean_line(&raw);
            prop_assert!(out.len() <= MAX_LINE);
            prop_assert!(out.chars().all(|c| c == ' ' || c.is_ascii_graphic()), "{out:?}");
        }
    }
}

const NUMBER_KEYS: &str = "total total_tokens input input_tokens cached cached_input_tokens \
    cache_write cache_write_input_tokens output output_tokens reasoning reasoning_output_tokens";
const TEXT_KEYS: &str = "line model session_id turn_id response_id";
/// Members the plain way does not read.
const OTHER_KEYS: &str = "recorded_at type payload rate_limits";

/// Member texts of the right type that read plainly.
fn plain_member(number: bool) -> BoxedStrategy<String> {
    if number {
        prop_oneof![
            (0u64..5_000_000).prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            Just("null".to_string()),
        ]
        .boxed()
    } else {
        prop_oneof![
            Just("\"gpt-5\"".to_string()),
            Just("\"  o4-mini  \"".to_string()),
            Just("\"\"".to_string()),
            Just("\"Token usage: total=1,234 input=1,000 (+ 200 cached) output=234\"".to_string()),
            Just("\"caf\u{e9}\"".to_string()),
            Just(format!("\"{}\"", "x".repeat(200))),
            "[a-zA-Z0-9 ._:-]{0,20}".prop_map(|s| format!("\"{s}\"")),
            Just("null".to_string()),
        ]
        .boxed()
    }
}

/// Member texts the plain way refuses, or reads differently typed.
fn other_member() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        Just("1.5".to_string()),
        Just("1e3".to_string()),
        Just("true".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("\"1,234\"".to_string()),
        Just("\"a\\\"b\"".to_string()),
        Just("42".to_string()),
        any::<String>().prop_map(|s| Value::String(s).to_string()),
    ]
}

/// An entry's members: each key at most once, usually of the right type, rarely one more.
fn members() -> impl Strategy<Value = Vec<(String, String)>> {
    let keys: Vec<(&'static str, bool)> = NUMBER_KEYS
        .split_whitespace()
        .map(|k| (k, true))
        .chain(TEXT_KEYS.split_whitespace().map(|k| (k, false)))
        .chain(OTHER_KEYS.split_whitespace().map(|k| (k, false)))
        .collect();
    let each: Vec<_> = keys
        .into_iter()
        .map(|(k, number)| {
            let rare = OTHER_KEYS.contains(k);
            let value = prop_oneof![9 => plain_member(number), 1 => other_member().boxed()];
            prop::option::weighted(if rare { 0.05 } else { 0.4 }, value)
                .prop_map(move |v| v.map(|v| (k.to_string(), v)))
        })
        .collect();
    (
        each,
        prop::option::weighted(0.05, (0usize..17, other_member())),
    )
        .prop_map(|(members, twice): (Vec<_>, _)| {
            let mut members: Vec<(String, String)> = members.into_iter().flatten().collect();
            if let Some((i, v)) = twice
                && let Some((k, _)) = members.get(i % members.len().max(1)).cloned()
            {
                members.push((k, v));
            }
            members
        })
        .prop_shuffle()
}

proptest! {
    /// Entries read the plain way (`plain.rs`) read exactly as through a document.
    #[test]
    fn plain_agrees_with_the_general_way(members in members(), array in prop::bool::weighted(0.05)) {
        let body = members
            .iter()
            .map(|(k, v)| if array { v.clone() } else { format!("\"{k}\":{v}") })
            .collect::<Vec<_>>()
            .join(",");
        let text = if array { format!("[{body}]") } else { format!("{{{body}}}") };
        let v: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(parse_entry_text(&text), Some(parse_entry(&v)), "{}", text);
    }
}

#[test]
fn the_common_entry_reads_the_plain_way() {
    let text = r#"{"model":"gpt-5","input_tokens":1200,"cached_input_tokens":200,
        "output_tokens":300,"session_id":"s1","turn_id":"t1"}"#;
    let parsed = plain::parse(text).expect("read the plain way").unwrap();
    assert_eq!(parsed, ok(&serde_json::from_str(text).unwrap()));
    assert!(plain::parse(r#"{"model":"gpt-5","input":1,"extra":1}"#).is_none());
    assert!(plain::parse(r#"{"model":"gpt\"5","input":1}"#).is_none());
    assert!(plain::parse(r#"{"input":1,"input":2}"#).is_none());
    assert!(plain::parse(r#"["gpt-5"]"#).is_none());
    assert_eq!(parse_entry_text("{"), None, "not JSON");
}
