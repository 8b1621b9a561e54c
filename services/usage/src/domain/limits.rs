//! Per-token rate limits of the `/v1` gateway (SPEC §9): requests and tokens per minute, counted
//! in shared one-minute windows so the limits hold across replicas.

use codex_central_store::{Store, rate_windows};

use crate::Result;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    Denied {
        retry_after_secs: u32,
        reason: String,
    },
}

/// Counts one request for `subject` and decides. Tokens are counted when calls end
/// ([`add_tokens`]), so a call is refused once the minute's tokens reached the limit.
pub async fn check(store: &Store, subject: &str, limits: Limits, now: i64) -> Result<Decision> {
    if subject.is_empty()
        || (limits.requests_per_minute.is_none() && limits.tokens_per_minute.is_none())
    {
        return Ok(Decision::Allowed);
    }
    let max = limits.requests_per_minute.map(i64::from);
    let (taken, window) = rate_windows::try_take(store, subject, now, max).await?;
    let retry_after_secs =
        u32::try_from((window.window_start + rate_windows::WINDOW_MS - now + 999) / 1000)
            .unwrap_or(60)
            .max(1);
    if !taken && let Some(rpm) = limits.requests_per_minute {
        return Ok(Decision::Denied {
            retry_after_secs,
            reason: format!("Rate limit reached: {rpm} requests per minute for this token"),
        });
    }
    if let Some(tpm) = limits.tokens_per_minute
        && window.tokens >= i64::try_from(tpm).unwrap_or(i64::MAX)
    {
        return Ok(Decision::Denied {
            retry_after_secs,
            reason: format!("Rate limit reached: {tpm} tokens per minute for this token"),
        });
    }
    Ok(Decision::Allowed)
}

/// Adds the tokens a finished call used to the subject's current window.
pub async fn add_tokens(store: &Store, subject: &str, now: i64, tokens: i64) -> Result<()> {
    if !subject.is_empty() && tokens > 0 {
        rate_windows::add(store, subject, now, 0, tokens).await?;
    }
    Ok(())
}
