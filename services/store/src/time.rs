/// Current time as Unix milliseconds, the representation of every time column (see the
/// migration crate's docs for why).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
