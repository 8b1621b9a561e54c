//! Stored Unix milliseconds as text.

/// RFC 3339 text (UTC, millisecond precision) for a stored Unix-millisecond value.
pub fn ms_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(ms_to_rfc3339(0), "1970-01-01T00:00:00.000Z");
    }
}
