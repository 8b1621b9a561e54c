//! A strict JSON reader and compact writer that keep what the digest depends on.
//!
//! serde_json cannot be used for the text: without `arbitrary_precision` (which must stay off in
//! this workspace) it re-formats numbers (`1.0` → `1.0` but `1e5` → `100000.0`), and it silently
//! keeps the last of duplicate keys. This reader keeps each number token verbatim, keeps member
//! order, decodes string escapes and rejects anything Python and the server could read
//! differently (duplicate keys, lone surrogates).

use std::collections::HashSet;
use std::fmt::Write as _;

use super::FieldError;

/// Deep enough for any real `auth.json`, shallow enough that recursion cannot overflow the stack.
const MAX_DEPTH: usize = 128;

/// The field syntax errors are reported on: the whole uploaded document.
const FIELD: &str = "auth";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Json {
    Null,
    Bool(bool),
    /// The number token exactly as written: re-formatting it would change the digest.
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Members in document order; keys are unique because the reader rejects duplicates.
    Object(Vec<(String, Json)>),
}

impl Json {
    pub(super) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// For error messages: "must be a string, not an array".
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    pub(super) fn to_compact(&self) -> String {
        let mut out = String::new();
        self.write_compact(&mut out);
        out
    }

    fn write_compact(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(true) => out.push_str("true"),
            Json::Bool(false) => out.push_str("false"),
            Json::Number(token) => out.push_str(token),
            Json::String(s) => write_string(out, s),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_compact(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, key);
                    out.push(':');
                    value.write_compact(out);
                }
                out.push('}');
            }
        }
    }
}

/// Python's `json.dumps(ensure_ascii=False)` string encoding: only `"`, `\` and U+0000–U+001F
/// are escaped (short forms where JSON has them, else `\u00xx` in lowercase); `/`, U+007F,
/// U+2028 and all non-ASCII text are written raw.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            // Writing to a String cannot fail.
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Reads one JSON text (RFC 8259, any top-level value), rejecting duplicate keys and lone
/// surrogates. Errors name the field `auth` and say where in the text the problem is.
pub(super) fn parse(text: &str) -> Result<Json, FieldError> {
    if text.starts_with('\u{feff}') {
        // Python's json.loads refuses a BOM too; say so instead of "unexpected character".
        return Err(FieldError::new(
            FIELD,
            "invalid JSON: the text starts with a byte order mark (save it as UTF-8 without BOM)",
        ));
    }
    let mut reader = Reader { text, pos: 0 };
    reader.document().map_err(|e| e.into_field_error(text))
}

struct SyntaxError {
    pos: usize,
    /// "invalid JSON" for grammar errors; duplicate keys are legal JSON but still refused.
    prefix: &'static str,
    message: String,
}

impl SyntaxError {
    fn into_field_error(self, text: &str) -> FieldError {
        let (line, column) = line_column(text, self.pos);
        FieldError::new(
            FIELD,
            format!(
                "{} at line {line} column {column}: {}",
                self.prefix, self.message
            ),
        )
    }
}

/// 1-based line and column (in characters) of a byte offset, for messages a person can act on.
fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let before = text.get(..pos).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

type ReadResult<T> = Result<T, SyntaxError>;

/// A cursor over the text. `pos` only ever stops on an ASCII byte or at the end, so slicing the
/// text at it is always on a character boundary.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn document(&mut self) -> ReadResult<Json> {
        let value = self.value(0)?;
        self.skip_whitespace();
        if self.pos < self.text.len() {
            return self.unexpected("the end of the text after the JSON value");
        }
        Ok(value)
    }

    fn value(&mut self, depth: usize) -> ReadResult<Json> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Number),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            _ => self.unexpected("a value"),
        }
    }

    fn object(&mut self, depth: usize) -> ReadResult<Json> {
        self.enter(depth)?;
        let mut members = Vec::new();
        let mut seen = HashSet::new();
        self.skip_whitespace();
        if self.eat(b'}') {
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return self.unexpected("a string key");
            }
            let key_pos = self.pos;
            let key = self.string()?;
            if !seen.insert(key.clone()) {
                // Python keeps only the last value, so host and server would hash different text.
                return Err(SyntaxError {
                    pos: key_pos,
                    prefix: "duplicate key",
                    message: format!("{key:?} appears twice in the same object"),
                });
            }
            self.skip_whitespace();
            if !self.eat(b':') {
                return self.unexpected("':' after the key");
            }
            let value = self.value(depth)?;
            members.push((key, value));
            if !self.separator(b'}')? {
                return Ok(Json::Object(members));
            }
        }
    }

    fn array(&mut self, depth: usize) -> ReadResult<Json> {
        self.enter(depth)?;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.eat(b']') {
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            if !self.separator(b']')? {
                return Ok(Json::Array(items));
            }
        }
    }

    /// Consumes the opening bracket after checking the nesting limit.
    fn enter(&mut self, depth: usize) -> ReadResult<()> {
        if depth > MAX_DEPTH {
            return self.error(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        self.pos += 1;
        Ok(())
    }

    /// After a member or item: `true` when a `,` announces another, `false` at the closer.
    fn separator(&mut self, close: u8) -> ReadResult<bool> {
        self.skip_whitespace();
        if self.eat(b',') {
            self.skip_whitespace();
            if self.peek() == Some(close) {
                return self.error(format!("trailing comma before '{}'", char::from(close)));
            }
            return Ok(true);
        }
        if self.eat(close) {
            return Ok(false);
        }
        self.unexpected(&format!("',' or '{}'", char::from(close)))
    }

    fn string(&mut self) -> ReadResult<String> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.text.as_bytes().get(self.pos..).unwrap_or_default();
            let Some(run) = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            else {
                return Err(SyntaxError {
                    pos: open,
                    prefix: "invalid JSON",
                    message: "unterminated string".into(),
                });
            };
            out.push_str(self.text.get(self.pos..self.pos + run).unwrap_or_default());
            self.pos += run;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(b) => {
                    return self.error(format!(
                        "control character U+{b:04X} must be escaped inside a string"
                    ));
                }
                None => return self.error("unterminated string"),
            }
        }
    }

    /// At a backslash inside a string: decodes one escape into `out`.
    fn escape(&mut self, out: &mut String) -> ReadResult<()> {
        let start = self.pos;
        self.pos += 1;
        let decoded = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                out.push(self.unicode_escape(start)?);
                return Ok(());
            }
            None => return self.error("unterminated string"),
            Some(_) => {
                let bad = self.current_char().unwrap_or('?');
                self.pos = start;
                return self.error(format!("invalid escape \\{bad}"));
            }
        };
        self.pos += 1;
        out.push(decoded);
        Ok(())
    }

    /// After `\u`: four hex digits, and for a high surrogate the `\uDC00`–`\uDFFF` that must
    /// follow it. A lone surrogate has no UTF-8 form, so Python could not hash what it decoded.
    fn unicode_escape(&mut self, start: usize) -> ReadResult<char> {
        let unit = self.hex4(start)?;
        let code = match unit {
            0xD800..=0xDBFF => {
                let low_start = self.pos;
                let low = if self
                    .text
                    .get(self.pos..)
                    .is_some_and(|r| r.starts_with("\\u"))
                {
                    self.pos += 2;
                    Some(self.hex4(low_start)?)
                } else {
                    None
                };
                match low {
                    Some(low @ 0xDC00..=0xDFFF) => {
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    _ => {
                        self.pos = start;
                        return self.error(format!(
                            "lone surrogate \\u{unit:04X}: a high surrogate must be followed by \
                             a \\uDC00-\\uDFFF escape"
                        ));
                    }
                }
            }
            0xDC00..=0xDFFF => {
                self.pos = start;
                return self.error(format!(
                    "lone surrogate \\u{unit:04X}: a low surrogate must follow a high one"
                ));
            }
            other => other,
        };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => {
                self.pos = start;
                self.error(format!("\\u escape does not name a character (U+{code:X})"))
            }
        }
    }

    fn hex4(&mut self, start: usize) -> ReadResult<u32> {
        let digits = self.text.get(self.pos..self.pos + 4).unwrap_or_default();
        let valid = digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_hexdigit());
        match u32::from_str_radix(digits, 16) {
            Ok(unit) if valid => {
                self.pos += 4;
                Ok(unit)
            }
            _ => {
                self.pos = start;
                self.error("\\u must be followed by four hex digits")
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, returned as written.
    fn number(&mut self) -> ReadResult<String> {
        let start = self.pos;
        self.eat(b'-');
        if self.eat(b'0') {
            if self.peek().is_some_and(|b| b.is_ascii_digit()) {
                return self.error("numbers must not have leading zeros");
            }
        } else if !self.digits() {
            return self.unexpected("a digit");
        }
        if self.eat(b'.') && !self.digits() {
            return self.unexpected("a digit after the decimal point");
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _sign = self.eat(b'+') || self.eat(b'-');
            if !self.digits() {
                return self.unexpected("a digit in the exponent");
            }
        }
        Ok(self
            .text
            .get(start..self.pos)
            .unwrap_or_default()
            .to_owned())
    }

    /// Consumes a run of ASCII digits; `false` when there was none.
    fn digits(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn literal(&mut self, word: &str, value: Json) -> ReadResult<Json> {
        if self
            .text
            .get(self.pos..)
            .is_some_and(|r| r.starts_with(word))
        {
            self.pos += word.len();
            return Ok(value);
        }
        self.unexpected(&format!("the literal {word}"))
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        let matched = self.peek() == Some(byte);
        if matched {
            self.pos += 1;
        }
        matched
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn current_char(&self) -> Option<char> {
        self.text.get(self.pos..).and_then(|r| r.chars().next())
    }

    fn unexpected<T>(&self, expected: &str) -> ReadResult<T> {
        match self.current_char() {
            Some(found) => self.error(format!("expected {expected}, found {found:?}")),
            None => self.error(format!("expected {expected}, found the end of the text")),
        }
    }

    fn error<T>(&self, message: impl Into<String>) -> ReadResult<T> {
        Err(SyntaxError {
            pos: self.pos,
            prefix: "invalid JSON",
            message: message.into(),
        })
    }
}
