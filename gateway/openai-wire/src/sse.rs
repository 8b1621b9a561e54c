//! Server-sent events: an incremental decoder for upstream bodies and the encoder for what the
//! gateway streams to its client.
//!
//! The decoder follows the WHATWG event-stream rules that matter here: `\n`, `\r\n` and `\r`
//! line ends, `data:` lines joined with `\n`, the `event:` field, comment lines starting with
//! `:`, one optional space after the colon, a leading byte-order mark, and `id:`/`retry:` ignored.
//! Bytes may arrive split anywhere, including inside a UTF-8 character or between `\r` and `\n`.

use bytes::Bytes;
use serde_json::Value;

/// Largest single event the decoder buffers. Upstream answers are at most a few MiB; beyond this
/// the upstream is misbehaving and buffering on would only let it exhaust memory.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One decoded event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when there was one.
    pub(crate) event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub(crate) data: String,
}

/// The decoder gave up on the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// A single event grew beyond [`MAX_EVENT_BYTES`].
    EventTooLarge,
}

impl std::fmt::Display for SseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SseError::EventTooLarge => write!(
                f,
                "upstream sent a stream event larger than {MAX_EVENT_BYTES} bytes"
            ),
        }
    }
}

impl std::error::Error for SseError {}

/// Incremental decoder: feed it the body chunk by chunk.
///
/// [`SseDecoder::push`] returns `Err(SseError::EventTooLarge)` once an event outgrows
/// [`MAX_EVENT_BYTES`]; the decoder then stays failed (every later `push` returns the same error,
/// `finish` returns nothing), so the caller ends the stream, e.g. with the translators' `fail`.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the line being read; decoded only once complete, so a UTF-8 character split
    /// across chunks is reassembled first.
    line: Vec<u8>,
    /// The previous chunk ended in `\r`: a `\n` starting the next one belongs to that line end.
    after_cr: bool,
    /// Nothing decoded yet: a byte-order mark may still come.
    at_start: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    failed: bool,
}

impl SseDecoder {
    pub fn new() -> Self {
        SseDecoder {
            at_start: true,
            ..SseDecoder::default()
        }
    }

    /// Decodes what `chunk` completes; an event still open stays buffered.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        if self.failed {
            return Err(SseError::EventTooLarge);
        }
        let mut out = Vec::new();
        let mut rest = chunk;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if let Some(tail) = rest.strip_prefix(b"\n") {
                rest = tail;
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (segment, tail) = rest.split_at(pos);
            self.extend_line(segment)?;
            // `tail` starts with the line end found above.
            let is_cr = tail.first() == Some(&b'\r');
            rest = tail.get(1..).unwrap_or_default();
            if is_cr {
                if rest.is_empty() {
                    self.after_cr = true;
                } else if let Some(after_lf) = rest.strip_prefix(b"\n") {
                    rest = after_lf;
                }
            }
            self.end_line(&mut out);
        }
        self.extend_line(rest)?;
        Ok(out)
    }

    /// The upstream body ended: a final event not followed by a blank line is still delivered.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if self.failed {
            return out;
        }
        if !self.line.is_empty() {
            self.end_line(&mut out);
        }
        self.after_cr = false;
        self.dispatch(&mut out);
        out
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        let size = self.line.len() + bytes.len() + self.data.len();
        if size > MAX_EVENT_BYTES {
            self.failed = true;
            self.line = Vec::new();
            self.data = String::new();
            return Err(SseError::EventTooLarge);
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let raw = std::mem::take(&mut self.line);
        let mut text = String::from_utf8_lossy(&raw).into_owned();
        if self.at_start {
            self.at_start = false;
            if let Some(stripped) = text.strip_prefix('\u{feff}') {
                text = stripped.to_owned();
            }
        }
        if text.is_empty() {
            self.dispatch(out);
            return;
        }
        if text.starts_with(':') {
            return;
        }
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_str(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            _ => {}
        }
    }

    /// A blank line ends the event; without any `data:` line there is nothing to deliver.
    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take().filter(|e| !e.is_empty());
        let data = std::mem::take(&mut self.data);
        if std::mem::take(&mut self.has_data) {
            out.push(SseEvent { event, data });
        }
    }
}

/// `event: X\ndata: {json}\n\n`, or only the data line when there is no event name.
pub(crate) fn encode(event: Option<&str>, data: &Value) -> Bytes {
    let json = data.to_string();
    let mut s = String::with_capacity(json.len() + 64);
    if let Some(name) = event {
        s.push_str("event: ");
        // A line end in the name would forge extra fields.
        s.extend(name.chars().filter(|c| *c != '\n' && *c != '\r'));
        s.push('\n');
    }
    s.push_str("data: ");
    s.push_str(&json);
    s.push_str("\n\n");
    Bytes::from(s)
}

/// `data: [DONE]\n\n`, the end marker of a Chat Completions stream.
pub(crate) fn done() -> Bytes {
    Bytes::from_static(b"data: [DONE]\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Rng;
    use serde_json::json;

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    fn decode_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for c in chunks {
            out.extend(d.push(c).unwrap());
        }
        out.extend(d.finish());
        out
    }

    #[test]
    fn decodes_fields_comments_and_multiline_data() {
        let input = b": keepalive\nevent: response.created\ndata: {\"a\":1}\n\ndata:no-space\ndata:  two spaces\nid: 7\nretry: 10\n\nevent: only-event\n\ndata\n\n";
        assert_eq!(
            decode_all(&[input]),
            vec![
                ev(Some("response.created"), "{\"a\":1}"),
                ev(None, "no-space\n two spaces"),
                ev(None, ""),
            ]
        );
    }

    #[test]
    fn all_line_endings_are_accepted() {
        let lf = decode_all(&[b"event: e\ndata: x\ndata: y\n\ndata: z\n\n"]);
        let crlf = decode_all(&[b"event: e\r\ndata: x\r\ndata: y\r\n\r\ndata: z\r\n\r\n"]);
        let cr = decode_all(&[b"event: e\rdata: x\rdata: y\r\rdata: z\r\r"]);
        let expected = vec![ev(Some("e"), "x\ny"), ev(None, "z")];
        assert_eq!(lf, expected);
        assert_eq!(crlf, expected);
        assert_eq!(cr, expected);
    }

    #[test]
    fn crlf_split_between_chunks_is_one_line_end() {
        // Had the `\n` counted as a second line end, `data: a` would have been dispatched alone.
        assert_eq!(
            decode_all(&[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]),
            vec![ev(None, "a\nb")]
        );
    }

    #[test]
    fn utf8_split_inside_a_character_is_reassembled() {
        let bytes = "data: héllo → 世界\n\n".as_bytes();
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(
                decode_all(&[a, b]),
                vec![ev(None, "héllo → 世界")],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn finish_flushes_an_unterminated_event_and_bom_is_dropped() {
        assert_eq!(
            decode_all(&["\u{feff}data: {\"x\":1}".as_bytes()]),
            vec![ev(None, "{\"x\":1}")]
        );
        let mut d = SseDecoder::new();
        assert_eq!(d.push(b"data: a\n").unwrap(), vec![]);
        assert_eq!(d.finish(), vec![ev(None, "a")]);
        assert_eq!(d.finish(), vec![]);
    }

    #[test]
    fn an_oversized_event_is_refused_and_stays_refused() {
        let mut d = SseDecoder::new();
        let chunk = vec![b'x'; 1024 * 1024];
        assert_eq!(d.push(b"data: ").unwrap(), vec![]);
        let mut result = Ok(vec![]);
        for _ in 0..17 {
            result = d.push(&chunk);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(SseError::EventTooLarge));
        assert_eq!(d.push(b"\n\n"), Err(SseError::EventTooLarge));
        assert_eq!(d.finish(), vec![]);
        // Many events of modest size are fine: the bound is per event.
        let mut d = SseDecoder::new();
        let mut one = b"data: ".to_vec();
        one.extend(vec![b'y'; 1024 * 1024]);
        one.extend(b"\n\n");
        for _ in 0..20 {
            assert_eq!(d.push(&one).unwrap().len(), 1);
        }
    }

    #[test]
    fn encode_and_done_produce_the_wire_form() {
        assert_eq!(
            encode(Some("response.created"), &json!({"type": "response.created", "n": "a\nb"})),
            Bytes::from_static(
                b"event: response.created\ndata: {\"type\":\"response.created\",\"n\":\"a\\nb\"}\n\n"
            )
        );
        assert_eq!(
            encode(None, &json!({"a": 1})),
            Bytes::from_static(b"data: {\"a\":1}\n\n")
        );
        assert_eq!(
            encode(Some("x\r\nevil: 1"), &json!(1)),
            Bytes::from_static(b"event: xevil: 1\ndata: 1\n\n")
        );
        assert_eq!(done(), Bytes::from_static(b"data: [DONE]\n\n"));
        let decoded = decode_all(&[&encode(Some("e"), &json!({"k": "v"})), &done()]);
        assert_eq!(
            decoded,
            vec![ev(Some("e"), "{\"k\":\"v\"}"), ev(None, "[DONE]")]
        );
    }

    #[test]
    fn property_random_splits_decode_like_the_whole_body() {
        let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
        let alphabet: &[&[u8]] = &[
            b"data: ",
            b"event: ",
            b": c",
            b"\n",
            b"\r\n",
            b"\r",
            b"{\"a\":1}",
            b"x",
            "é".as_bytes(),
            "世".as_bytes(),
            b"data",
            b"id: 1",
            b":",
            b" ",
            b"[DONE]",
        ];
        for round in 0..2000 {
            let mut body = Vec::new();
            for _ in 0..rng.below(40) {
                body.extend_from_slice(alphabet[rng.below(alphabet.len())]);
            }
            if round % 7 == 0 {
                // Raw noise, invalid UTF-8 included.
                for _ in 0..rng.below(64) {
                    body.push((rng.next() & 0xff) as u8);
                }
            }
            let whole = decode_all(&[&body]);
            let mut chunks = Vec::new();
            let mut rest = body.as_slice();
            while !rest.is_empty() {
                let (a, b) = rest.split_at(rng.below(rest.len() + 1).min(rest.len()));
                chunks.push(a);
                rest = b;
            }
            assert_eq!(
                decode_all(&chunks),
                whole,
                "body {:?}",
                String::from_utf8_lossy(&body)
            );
            let bytewise: Vec<&[u8]> = body.chunks(1).collect();
            assert_eq!(decode_all(&bytewise), whole);
            for e in &whole {
                assert!(e.event.as_deref().is_none_or(|n| !n.contains(['\n', '\r'])));
            }
        }
    }
}
