//! Small readers over untrusted JSON shared by the translators: they return `None` (or an
//! empty string) for anything of the wrong shape instead of failing.

use serde_json::Value;

/// `v[key]` as a string.
pub(crate) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `v[key]` as a non-empty string.
pub(crate) fn non_empty_str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    str_at(v, key).filter(|s| !s.is_empty())
}

/// A token count: providers sometimes send `12.0`, never anything negative worth keeping.
pub(crate) fn count(v: &Value) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    let f = v.as_f64()?;
    // Truncation is the intent; the range check keeps the cast meaningful.
    (f.is_finite() && f >= 0.0 && f < u64::MAX as f64).then_some(f as u64)
}

/// `v[key]` as a token count.
pub(crate) fn count_at(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(count)
}

/// The text of a content value: a string as is, or the `text` of each part of an array
/// (`input_text`, `output_text`, `text`, `summary_text`, `reasoning_text`, ...) joined by `sep`.
/// Parts without text (images, files) are left out.
pub(crate) fn text_of(content: &Value, sep: &str) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| str_at(p, "text"))
            .collect::<Vec<_>>()
            .join(sep),
        _ => String::new(),
    }
}

/// An id for the JSON: a string as is, a number in its decimal form, else nothing.
pub(crate) fn id_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Function-call arguments as the string both APIs carry; some providers send an object.
pub(crate) fn arguments_string(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_accept_integral_floats_and_refuse_the_rest() {
        assert_eq!(count(&json!(12)), Some(12));
        assert_eq!(count(&json!(12.0)), Some(12));
        assert_eq!(count(&json!(-1)), None);
        assert_eq!(count(&json!("12")), None);
        assert_eq!(count(&json!(1e300)), None);
    }

    #[test]
    fn text_of_joins_text_parts_and_skips_others() {
        let parts = json!([
            {"type": "input_text", "text": "a"},
            {"type": "input_image", "image_url": "http://x"},
            {"type": "output_text", "text": "b"},
            "loose string",
            7
        ]);
        assert_eq!(text_of(&parts, "\n\n"), "a\n\nb");
        assert_eq!(text_of(&json!("plain"), ""), "plain");
        assert_eq!(text_of(&json!({"text": "x"}), ""), "");
    }

    #[test]
    fn arguments_are_kept_verbatim_or_serialised() {
        assert_eq!(arguments_string(Some(&json!("{\"a\": 1}"))), "{\"a\": 1}");
        assert_eq!(arguments_string(Some(&json!({"a": 1}))), "{\"a\":1}");
        assert_eq!(arguments_string(None), "");
    }
}
