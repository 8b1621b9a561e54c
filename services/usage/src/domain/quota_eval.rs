//! Whether the fleet's ChatGPT account is over the quota policy, computed here so every host
//! gets the same answer: a window (the 5-hour primary or the weekly secondary) at or over
//! `limit_percent`, or, with a week partition of N days, the weekly window past the share of
//! the days begun (day k of the window allows `limit × k / N`; with 5, the weekend has the
//! whole limit). Also today's use of the weekly window, from the last snapshot before the UTC
//! day began (the baseline). VIP hosts are exempt from hard failure; the caller applies that.

use super::quota::QuotaPolicy;

const DAY_MS: i64 = 86_400_000;

/// The windows of a snapshot as the evaluation reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Seen {
    pub primary_percent: Option<f64>,
    pub secondary_percent: Option<f64>,
    /// When the weekly window resets (Unix ms).
    pub secondary_resets_at: Option<i64>,
    pub secondary_window_minutes: Option<u32>,
    pub observed_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub over_limit: bool,
    /// What the weekly window may reach now (the limit, or today's share of it).
    pub allowance_percent: f64,
    /// Weekly-window use since the baseline; 0 without one.
    pub daily_used_percent: f64,
    pub daily_baseline_at: Option<i64>,
    /// Why it is over, for people; empty when not.
    pub reason: String,
    /// Where the weekly window ends at the current rate (see [`projected_percent`]).
    pub weekly_projected_percent: Option<f64>,
}

/// Where a window's use ends at its current rate: `used` over the part of the window passed,
/// scaled to the whole window, as the peer's wrapper shows it. None in the window's first
/// fourteenth (12 hours of a week), where a few calls would project absurd figures.
pub fn projected_percent(used: f64, start: i64, end: i64, at: i64) -> Option<f64> {
    let window = end - start;
    let elapsed = at - start;
    if window <= 0 || elapsed <= 0 || elapsed < window / 14 || !used.is_finite() {
        return None;
    }
    if elapsed >= window {
        return Some(used);
    }
    Some((used * window as f64 / elapsed as f64).min(10_000.0))
}

pub fn evaluate(policy: &QuotaPolicy, now: &Seen, baseline: Option<&Seen>, at: i64) -> Evaluation {
    let limit = f64::from(policy.limit_percent.clamp(50, 100));
    let mut allowance = limit;
    if matches!(policy.week_partition_days, 5 | 7)
        && let Some(resets) = now.secondary_resets_at
    {
        let window = i64::from(now.secondary_window_minutes.unwrap_or(10_080).max(1)) * 60_000;
        let start = resets - window;
        let days = f64::from(policy.week_partition_days);
        let begun = ((at - start).div_euclid(DAY_MS) + 1).clamp(1, 7) as f64;
        allowance = limit * begun.min(days) / days;
    }
    let mut reason = String::new();
    if let Some(p) = now.primary_percent
        && p >= limit
    {
        reason = format!("the 5-hour window is at {p:.0} % (limit {limit:.0} %)");
    } else if let Some(s) = now.secondary_percent
        && s >= allowance
    {
        reason = if allowance < limit {
            format!("the weekly window is at {s:.0} %, today's allowance is {allowance:.0} %")
        } else {
            format!("the weekly window is at {s:.0} % (limit {limit:.0} %)")
        };
    }
    let (daily_used, baseline_at) = match (baseline, now.secondary_percent) {
        (Some(b), Some(s)) => (
            (s - b.secondary_percent.unwrap_or(0.0)).max(0.0),
            Some(b.observed_at),
        ),
        _ => (0.0, None),
    };
    let weekly_projected_percent = match (now.secondary_percent, now.secondary_resets_at) {
        (Some(used), Some(resets)) => {
            let window = i64::from(now.secondary_window_minutes.unwrap_or(10_080).max(1)) * 60_000;
            projected_percent(used, resets - window, resets, at)
        }
        _ => None,
    };
    Evaluation {
        weekly_projected_percent,
        over_limit: !reason.is_empty(),
        allowance_percent: allowance,
        daily_used_percent: daily_used,
        daily_baseline_at: baseline_at,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_796_000_000_000;

    fn policy(limit: u32, partition: u32) -> QuotaPolicy {
        QuotaPolicy {
            hard_fail: true,
            limit_percent: limit,
            week_partition_days: partition,
        }
    }

    /// A snapshot at T0 whose weekly window began `day` whole days before it.
    fn seen(primary: f64, secondary: f64, day: i64) -> Seen {
        Seen {
            primary_percent: Some(primary),
            secondary_percent: Some(secondary),
            secondary_resets_at: Some(T0 - day * DAY_MS - 3_600_000 + 7 * DAY_MS),
            secondary_window_minutes: Some(10_080),
            observed_at: T0,
        }
    }

    #[test]
    fn decisions() {
        // (policy, primary, secondary, day of the window, over, allowance)
        let table = [
            (policy(100, 0), 50.0, 99.0, 0, false, 100.0),
            (policy(100, 0), 100.0, 10.0, 0, true, 100.0),
            (policy(80, 0), 79.0, 80.0, 3, true, 80.0),
            (policy(80, 0), 79.9, 79.9, 3, false, 80.0),
            // Seven daily allowances: day 1 allows 1/7 of the limit.
            (policy(70, 7), 0.0, 9.0, 0, false, 10.0),
            (policy(70, 7), 0.0, 10.0, 0, true, 10.0),
            (policy(70, 7), 0.0, 35.0, 4, false, 50.0),
            (policy(70, 7), 0.0, 69.0, 6, false, 70.0),
            // Five: the weekend has the whole limit.
            (policy(100, 5), 0.0, 39.0, 1, false, 40.0),
            (policy(100, 5), 0.0, 41.0, 1, true, 40.0),
            (policy(100, 5), 0.0, 99.0, 6, false, 100.0),
            // Limits are clamped to 50-100.
            (policy(10, 0), 0.0, 49.0, 0, false, 50.0),
        ];
        for (p, primary, secondary, day, over, allowance) in table {
            let e = evaluate(&p, &seen(primary, secondary, day), None, T0);
            assert_eq!(
                (e.over_limit, e.allowance_percent),
                (over, allowance),
                "{p:?} {primary} {secondary} day {day}: {e:?}"
            );
            assert_eq!(e.reason.is_empty(), !over);
        }
    }

    #[test]
    fn the_weekly_projection_scales_use_to_the_whole_window() {
        let week = 7 * DAY_MS;
        // (used, time passed, expected)
        let table = [
            (10.0, DAY_MS / 4, None), // within the first twelve hours
            (10.0, DAY_MS, Some(70.0)),
            (50.0, 2 * DAY_MS, Some(175.0)),
            (60.0, 6 * DAY_MS, Some(70.0)),
            (60.0, week + 1, Some(60.0)),
            (f64::NAN, DAY_MS, None),
        ];
        for (used, passed, want) in table {
            let got = projected_percent(used, T0, T0 + week, T0 + passed);
            assert_eq!(
                got.map(|p| (p * 1000.0).round() / 1000.0),
                want,
                "{used} after {passed}"
            );
        }
        assert_eq!(
            projected_percent(5.0, T0, T0, T0 + 1),
            None,
            "an empty window"
        );
        // Three days into the window at 30 %: the week ends at 70 %.
        let e = evaluate(&policy(100, 0), &seen(0.0, 30.0, 3), None, T0);
        let p = e.weekly_projected_percent.unwrap_or_default();
        assert!((p - 30.0 * 7.0 / (3.0 + 1.0 / 24.0)).abs() < 0.01, "{p}");
    }

    #[test]
    fn daily_use_counts_from_the_baseline() {
        let base = Seen {
            secondary_percent: Some(20.0),
            observed_at: T0 - 3_600_000,
            ..Default::default()
        };
        let e = evaluate(&policy(100, 0), &seen(0.0, 27.5, 2), Some(&base), T0);
        assert_eq!(e.daily_used_percent, 7.5);
        assert_eq!(e.daily_baseline_at, Some(T0 - 3_600_000));
        let e = evaluate(&policy(100, 0), &seen(0.0, 27.5, 2), None, T0);
        assert_eq!((e.daily_used_percent, e.daily_baseline_at), (0.0, None));
        // No windows at all: nothing is over.
        let e = evaluate(&policy(50, 7), &Seen::default(), None, T0);
        assert!(!e.over_limit);
    }
}
