//! Test support: a deterministic xorshift generator, random JSON of the shapes the
//! translators look at, and in-place mutation of real bodies, for the property tests.

use serde_json::{Map, Value, json};

/// xorshift64: reproducible and good enough to explore shapes.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform-ish in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Keys and strings the translators branch on, so random values hit real code paths.
const WORDS: &[&str] = &[
    "type",
    "role",
    "content",
    "delta",
    "choices",
    "tool_calls",
    "index",
    "id",
    "function",
    "name",
    "arguments",
    "usage",
    "error",
    "message",
    "text",
    "item",
    "item_id",
    "output_index",
    "response",
    "status",
    "output",
    "call_id",
    "reasoning_content",
    "finish_reason",
    "summary",
    "input",
    "output_text",
    "input_text",
    "function_call",
    "function_call_output",
    "reasoning",
    "assistant",
    "user",
    "developer",
    "length",
    "stop",
    "response.completed",
    "response.output_text.delta",
    "response.output_item.added",
    "response.function_call_arguments.delta",
    "incomplete_details",
    "prompt_tokens",
    "completion_tokens",
    "input_tokens",
    "tools",
    "tool_choice",
    "",
    "é世\u{0}",
];

pub(crate) fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let kinds = if depth == 0 { 5 } else { 7 };
    match rng.below(kinds) {
        0 => Value::Null,
        1 => json!(rng.below(2) == 0),
        2 => match rng.below(4) {
            0 => json!(rng.below(5)),
            1 => json!(-(rng.below(1000) as i64)),
            2 => json!(u64::MAX),
            _ => json!((rng.next() % 1000) as f64 / 7.0),
        },
        3 | 4 => json!(rng.pick(WORDS)),
        5 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(5) {
                m.insert((*rng.pick(WORDS)).to_owned(), random_value(rng, depth - 1));
            }
            Value::Object(m)
        }
    }
}

/// Replaces, removes or inserts one node somewhere in `v`.
pub(crate) fn mutate(rng: &mut Rng, v: &mut Value) {
    let descend = rng.below(4) != 0;
    match v {
        Value::Object(m) if descend && !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            match rng.below(6) {
                0 => {
                    m.shift_remove(&key);
                }
                1 => {
                    m.insert((*rng.pick(WORDS)).to_owned(), random_value(rng, 3));
                }
                _ => {
                    if let Some(child) = m.get_mut(&key) {
                        mutate(rng, child);
                    }
                }
            }
        }
        Value::Array(a) if descend && !a.is_empty() => {
            let i = rng.below(a.len());
            match rng.below(6) {
                0 => {
                    a.remove(i);
                }
                1 => a.insert(i, random_value(rng, 3)),
                _ => mutate(rng, &mut a[i]),
            }
        }
        _ => *v = random_value(rng, 3),
    }
}

/// Decodes what a translator emitted: `(event name, data)` pairs, data as JSON when it is.
pub(crate) fn decode_output(chunks: &[bytes::Bytes]) -> Vec<(Option<String>, Value)> {
    let mut decoder = super::sse::SseDecoder::new();
    let mut events = Vec::new();
    for chunk in chunks {
        // Every chunk must be whole events: nothing may stay buffered between them.
        let decoded = decoder
            .push(chunk)
            .expect("translator output fits the decoder");
        assert!(
            decoder.finish().is_empty(),
            "chunk {chunk:?} is not whole events"
        );
        events.extend(decoded);
    }
    events
        .into_iter()
        .map(|e| {
            let data = serde_json::from_str(&e.data).unwrap_or(Value::String(e.data));
            (e.event, data)
        })
        .collect()
}
