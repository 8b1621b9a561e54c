//! Spend budgets of personal tokens (SPEC §9): what a token's gateway calls cost in the current
//! UTC day, ISO week or month, read from the per-day sums every replica writes, so the budget
//! holds across replicas (up to the calls still being written, a fraction of a second).

use codex_central_store::Store;
use codex_central_store::usage_queries::Filter;
use codex_central_store::usage_records::DAY_MS;
use codex_central_store::usage_rollups;

use super::aggregates::period_starts;
use crate::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    fn name(self) -> &'static str {
        match self {
            Period::Day => "daily",
            Period::Week => "weekly",
            Period::Month => "monthly",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub period: Period,
    pub micros: i64,
    /// Soft alert from this share of the budget (1-100).
    pub alert_percent: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spend {
    pub spent_micros: i64,
    pub exhausted: bool,
    pub alert: bool,
    /// When the period ends (Unix ms).
    pub resets_at: i64,
}

/// The start and the end of the period containing `now` (Unix ms, UTC).
pub fn period_bounds(period: Period, now: i64) -> (i64, i64) {
    let (day, week, month) = period_starts(now);
    match period {
        Period::Day => (day, day + DAY_MS),
        Period::Week => (week, week + 7 * DAY_MS),
        Period::Month => {
            // The first day of the next month: a day past the 28th of this one, at its start.
            let next = period_starts(month + 32 * DAY_MS).2;
            (month, next)
        }
    }
}

pub async fn spend(store: &Store, token_id: &str, budget: Budget, now: i64) -> Result<Spend> {
    let (start, end) = period_bounds(budget.period, now);
    let filter = Filter {
        token_id: Some(token_id.to_string()),
        since: Some(start),
        ..Default::default()
    };
    let spent: i64 = usage_rollups::aggregate(store, &filter, None)
        .await?
        .values()
        .map(|s| s.cost_micros)
        .sum();
    let alert = budget.alert_percent.is_some_and(|p| {
        i128::from(spent) * 100 >= i128::from(budget.micros) * i128::from(p.clamp(1, 100))
    });
    Ok(Spend {
        spent_micros: spent,
        exhausted: spent >= budget.micros,
        alert,
        resets_at: end,
    })
}

/// The message of a refused call: which budget, how much of it is spent, when it resets.
pub fn exhausted_message(budget: Budget, spend: &Spend) -> String {
    // Cents, unless that would show a small nonzero amount as 0.00.
    let dollars = |m: i64| {
        let units = m as f64 / 1_000_000.0;
        if m != 0 && m.abs() < 10_000 {
            format!("{units:.6}")
        } else {
            format!("{units:.2}")
        }
    };
    let resets = chrono::DateTime::from_timestamp_millis(spend.resets_at)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    format!(
        "This token's {} budget of {} USD is spent ({} USD used); it resets at {resets}",
        budget.period.name(),
        dollars(budget.micros),
        dollars(spend.spent_micros),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_end_where_the_next_begins() {
        // 2026-12-03 12:00 UTC, a Thursday.
        let now = 1_796_299_200_000;
        let (d0, d1) = period_bounds(Period::Day, now);
        assert_eq!((d1 - d0, d0 % DAY_MS), (DAY_MS, 0));
        let (w0, w1) = period_bounds(Period::Week, now);
        assert_eq!(w1 - w0, 7 * DAY_MS);
        assert_eq!((now - w0) / DAY_MS, 3);
        let (m0, m1) = period_bounds(Period::Month, now);
        assert_eq!((m1 - m0) / DAY_MS, 31, "December");
        assert_eq!((now - m0) / DAY_MS, 2);
    }

    #[test]
    fn the_message_names_budget_spend_and_reset() {
        let b = Budget {
            period: Period::Month,
            micros: 5_000_000,
            alert_percent: Some(80),
        };
        let s = Spend {
            spent_micros: 5_250_000,
            exhausted: true,
            alert: true,
            resets_at: 1_798_761_600_000,
        };
        assert_eq!(
            exhausted_message(b, &s),
            "This token's monthly budget of 5.00 USD is spent (5.25 USD used); it resets at \
             2027-01-01 00:00 UTC"
        );
    }
}
