//! Usage totals: per host, person, token, model, source or calendar period (UTC days, ISO
//! weeks from Monday, months), a zero-filled daily cost history, and the day/week/month totals
//! hosts and the overview show. All read the per-day sums (see `usage_rollups`).

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use codex_central_store::usage_queries::Filter;
use codex_central_store::usage_records::DAY_MS;
use codex_central_store::usage_rollups::{self, Group, Sums};
use codex_central_store::{Store, hosts, personal_tokens, users};

use crate::Result;

/// What buckets are keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Host,
    User,
    Token,
    Model,
    Source,
    Day,
    Week,
    Month,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Host id, user id, token id, model, source, or the period (`YYYY-MM-DD` for days and for
    /// weeks, their Monday; `YYYY-MM` for months).
    pub key: String,
    /// fqdn, username or token name where there is one; else the key.
    pub label: String,
    pub sums: Sums,
}

fn date_of_day(day: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(Duration::days(day))
}

/// The key of a day (days since the epoch) in a calendar grouping.
fn period_key(by: By, day: i64) -> String {
    let Some(date) = date_of_day(day) else {
        return day.to_string();
    };
    match by {
        By::Week => {
            let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
            monday.format("%Y-%m-%d").to_string()
        }
        By::Month => date.format("%Y-%m").to_string(),
        _ => date.format("%Y-%m-%d").to_string(),
    }
}

pub async fn aggregate(store: &Store, filter: &Filter, by: Option<By>) -> Result<Vec<Bucket>> {
    let group = by.map(|b| match b {
        By::Host => Group::Host,
        By::User => Group::User,
        By::Token => Group::Token,
        By::Model => Group::Model,
        By::Source => Group::Source,
        By::Day | By::Week | By::Month => Group::Day,
    });
    let sums = usage_rollups::aggregate(store, filter, group).await?;
    let mut keyed: BTreeMap<String, Sums> = BTreeMap::new();
    for (key, s) in sums {
        let key = match by {
            Some(b @ (By::Day | By::Week | By::Month)) => match key.parse::<i64>() {
                Ok(day) => period_key(b, day),
                Err(_) => key,
            },
            _ => key,
        };
        keyed.entry(key).or_default().add(&s);
    }
    let labels = labels(store, by, keyed.keys()).await?;
    Ok(keyed
        .into_iter()
        .map(|(key, sums)| Bucket {
            label: labels.get(&key).cloned().unwrap_or_else(|| key.clone()),
            key,
            sums,
        })
        .collect())
}

async fn labels<'a>(
    store: &Store,
    by: Option<By>,
    keys: impl Iterator<Item = &'a String>,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    match by {
        Some(By::Host) => {
            let ids: Vec<i64> = keys.filter_map(|k| k.parse().ok()).collect();
            for (id, fqdn) in hosts::fqdns(store, ids).await? {
                out.insert(id.to_string(), fqdn);
            }
        }
        Some(By::User) => {
            let ids: Vec<String> = keys.filter(|k| !k.is_empty()).cloned().collect();
            out.extend(users::usernames(store, ids).await?);
        }
        Some(By::Token) => {
            let ids: Vec<String> = keys.filter(|k| !k.is_empty()).cloned().collect();
            out.extend(personal_tokens::names(store, ids).await?);
        }
        _ => {}
    }
    Ok(out)
}

/// One day of the cost history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPoint {
    /// Start of the UTC day, Unix ms.
    pub day_ms: i64,
    pub sums: Sums,
}

/// The last `days` UTC days up to today, every day present (zero when nothing was used).
pub async fn cost_history(
    store: &Store,
    filter: &Filter,
    days: u32,
    now: i64,
) -> Result<Vec<DayPoint>> {
    let today = now.div_euclid(DAY_MS);
    let first = today - i64::from(days.max(1)) + 1;
    let ranged = Filter {
        since: Some(first * DAY_MS),
        until: Some((today + 1) * DAY_MS),
        ..filter.clone()
    };
    let sums = usage_rollups::aggregate(store, &ranged, Some(Group::Day)).await?;
    Ok((first..=today)
        .map(|day| DayPoint {
            day_ms: day * DAY_MS,
            sums: sums.get(&day.to_string()).copied().unwrap_or_default(),
        })
        .collect())
}

/// Today, this ISO week (from Monday) and this month so far, UTC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub day: Sums,
    pub week: Sums,
    pub month: Sums,
}

/// Start of today, of this week and of this month (UTC), Unix ms.
pub fn period_starts(now: i64) -> (i64, i64, i64) {
    let today = now.div_euclid(DAY_MS);
    let date = date_of_day(today).unwrap_or_default();
    let week = today - i64::from(date.weekday().num_days_from_monday());
    let month = Utc
        .with_ymd_and_hms(date.year(), date.month(), 1, 0, 0, 0)
        .single()
        .map_or(today * DAY_MS, |t| t.timestamp_millis());
    (today * DAY_MS, week * DAY_MS, month)
}

pub async fn summary(store: &Store, filter: &Filter, now: i64) -> Result<Summary> {
    let (day, week, month) = period_starts(now);
    // One read from the earliest start; the shorter periods are sums of its days.
    let since = week.min(month);
    let ranged = Filter {
        since: Some(since),
        until: None,
        ..filter.clone()
    };
    let by_day = usage_rollups::aggregate(store, &ranged, Some(Group::Day)).await?;
    let mut out = Summary::default();
    for (key, s) in by_day {
        let Ok(d) = key.parse::<i64>() else { continue };
        let at = d * DAY_MS;
        if at >= day {
            out.day.add(&s);
        }
        if at >= week {
            out.week.add(&s);
        }
        if at >= month {
            out.month.add(&s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_keys() {
        // 2026-12-03 is a Thursday; its ISO week began on Monday 2026-11-30.
        let day = NaiveDate::from_ymd_opt(2026, 12, 3)
            .unwrap()
            .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
            .num_days();
        assert_eq!(period_key(By::Day, day), "2026-12-03");
        assert_eq!(period_key(By::Week, day), "2026-11-30");
        assert_eq!(period_key(By::Month, day), "2026-12");
        let now = day * DAY_MS + 5_000;
        let (d, w, m) = period_starts(now);
        assert_eq!(d, day * DAY_MS);
        assert_eq!(w, (day - 3) * DAY_MS);
        assert_eq!(m, (day - 2) * DAY_MS);
    }
}
