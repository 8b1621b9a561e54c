//! Conversions between stored Unix milliseconds and wire timestamps.

/// A protobuf timestamp for a stored Unix-millisecond value.
pub fn ms_to_timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    }
}

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
        let ts = ms_to_timestamp(1_700_000_000_123);
        assert_eq!((ts.seconds, ts.nanos), (1_700_000_000, 123_000_000));
        assert_eq!(ms_to_rfc3339(0), "1970-01-01T00:00:00.000Z");
    }
}
