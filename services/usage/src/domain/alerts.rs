//! Alerts on spend and ChatGPT quota (issue 14, 7b). A subject (a token, a person, the fleet)
//! crossing a threshold of a metric raises one alert per window (the budget period, the quota
//! window): an audit row, a flag in the overview until acknowledged or the window ends, and a
//! webhook delivery. Token budgets are judged as `/v1` calls are admitted (the spend is at
//! hand); people's and the fleet's budgets and the quota by a leased check every minute.
//!
//! When several thresholds are crossed at once, only the highest is raised: a jump from 50 %
//! to 100 % sends one alert, not three, and the lower ones are not raised later in the window.

use std::sync::Arc;
use std::time::Duration;

use codex_central_common::ttl_cache::TtlCache;
use codex_central_store::audit::NewAuditEvent;
use codex_central_store::entities::usage_alerts::Model as Alert;
use codex_central_store::usage_queries::Filter;
use codex_central_store::usage_rollups::{self, Group};
use codex_central_store::{Store, leases, quota_snapshots, usage_alerts};
use serde_json::json;

use super::budget::{self, Budget, Period, Spend};
use super::quota_eval;
use super::quota_snapshots::FLEET_ACCOUNT;
use crate::Result;

/// Alert settings (config keys `alert_thresholds`, `alert_webhook_urls`,
/// `alert_webhook_secret`, `alert_user_monthly_budget_usd`, `alert_fleet_monthly_budget_usd`).
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Percentages, ascending.
    pub thresholds: Vec<u32>,
    pub webhooks: Vec<String>,
    pub webhook_secret: String,
    pub user_monthly_budget_micros: Option<i64>,
    pub fleet_monthly_budget_micros: Option<i64>,
    pub check_every: Duration,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            thresholds: vec![80, 95, 100],
            webhooks: Vec::new(),
            webhook_secret: String::new(),
            user_monthly_budget_micros: None,
            fleet_monthly_budget_micros: None,
            check_every: Duration::from_secs(60),
        }
    }
}

/// What is measured against the thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Budget,
    /// The ChatGPT 5-hour window.
    QuotaPrimary,
    /// The ChatGPT weekly window.
    QuotaWeekly,
    /// Where the weekly window ends at the current rate.
    QuotaWeeklyProjection,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Budget => "budget",
            Metric::QuotaPrimary => "quota_5h",
            Metric::QuotaWeekly => "quota_weekly",
            Metric::QuotaWeeklyProjection => "quota_weekly_projection",
        }
    }
}

/// One reading: a subject's metric within a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub scope: &'static str,
    pub subject_id: String,
    pub user_id: String,
    pub metric: Metric,
    pub window_start: i64,
    pub window_end: i64,
    pub percent: f64,
    /// Says what crossed, for people; the threshold is added in front.
    pub message: String,
}

impl Reading {
    fn key(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}",
            self.scope,
            self.subject_id,
            self.metric.as_str()
        )
    }

    /// Whether a window ending at `end` is this reading's: ChatGPT's reset times move by a
    /// second or so between reports of one window, while the next window ends a whole window
    /// later.
    fn same_window(&self, end: i64) -> bool {
        let half = ((self.window_end - self.window_start) / 2).max(1);
        (end - self.window_end).abs() < half
    }
}

/// The window an alert was raised in and the highest threshold raised there.
#[derive(Debug, Clone, Copy)]
struct Raised {
    threshold: u32,
    window_start: i64,
    window_end: i64,
}

/// The highest of `thresholds` that `percent` reaches and that is above `raised` (the highest
/// already raised in the window), if any.
pub fn to_raise(thresholds: &[u32], percent: f64, raised: Option<u32>) -> Option<u32> {
    thresholds
        .iter()
        .copied()
        .filter(|t| percent >= f64::from(*t) && raised.is_none_or(|r| *t > r))
        .max()
}

/// Remembered per process so that calls under a threshold already raised cost no query.
const RAISED_CAPACITY: usize = 10_000;
const RAISED_TTL: Duration = Duration::from_secs(600);
const LEASE: &str = "usage.alerts";

#[derive(Clone)]
pub struct Alerts(Arc<Inner>);

struct Inner {
    store: Store,
    settings: AlertSettings,
    /// The newest window with an alert per subject and metric.
    raised: TtlCache<String, Raised>,
}

impl Alerts {
    pub fn new(store: Store, settings: AlertSettings) -> Self {
        Alerts(Arc::new(Inner {
            store,
            settings,
            raised: TtlCache::new(RAISED_TTL, RAISED_CAPACITY),
        }))
    }

    pub fn settings(&self) -> &AlertSettings {
        &self.0.settings
    }

    /// A token's budget as a call is admitted: its thresholds, and its own soft alert.
    pub async fn observe_token_budget(
        &self,
        token_id: &str,
        user_id: &str,
        budget: Budget,
        spend: &Spend,
        now: i64,
    ) -> Result<Option<Alert>> {
        if budget.micros <= 0 {
            return Ok(None);
        }
        let (start, end) = budget::period_bounds(budget.period, now);
        let percent = spend.spent_micros as f64 * 100.0 / budget.micros as f64;
        let reading = Reading {
            scope: "token",
            subject_id: token_id.into(),
            user_id: user_id.into(),
            metric: Metric::Budget,
            window_start: start,
            window_end: end,
            percent,
            message: format!(
                "token {token_id} has spent {percent:.0} % of its {} budget ({} of {} USD)",
                period_name(budget.period),
                dollars(spend.spent_micros),
                dollars(budget.micros)
            ),
        };
        let mut thresholds = self.0.settings.thresholds.clone();
        thresholds.extend(budget.alert_percent.map(|p| p.clamp(1, 100)));
        thresholds.sort_unstable();
        thresholds.dedup();
        self.observe(&reading, &thresholds, now).await
    }

    /// Raises the highest threshold `reading` newly crosses, if any.
    pub async fn observe(
        &self,
        reading: &Reading,
        thresholds: &[u32],
        now: i64,
    ) -> Result<Option<Alert>> {
        let lowest = thresholds.iter().copied().min().unwrap_or(u32::MAX);
        if reading.percent < f64::from(lowest) {
            return Ok(None);
        }
        let key = reading.key();
        let raised = match self.0.raised.get(&key) {
            Some(r) if reading.same_window(r.window_end) => Some(r),
            _ => self.highest_stored(reading).await?,
        };
        let Some(threshold) = to_raise(thresholds, reading.percent, raised.map(|r| r.threshold))
        else {
            if let Some(r) = raised {
                self.0.raised.insert(key, r);
            }
            return Ok(None);
        };
        // Later alerts of a window keep its first bounds, so the crossing stays unique.
        let (window_start, window_end) = raised
            .map_or((reading.window_start, reading.window_end), |r| {
                (r.window_start, r.window_end)
            });
        let alert = Alert {
            id: uuid::Uuid::new_v4().to_string(),
            scope: reading.scope.into(),
            subject_id: reading.subject_id.chars().take(64).collect(),
            user_id: reading.user_id.chars().take(36).collect(),
            metric: reading.metric.as_str().into(),
            threshold: i32::try_from(threshold).unwrap_or(i32::MAX),
            window_start,
            window_end,
            percent: (reading.percent * 100.0).round() / 100.0,
            message: format!("{threshold} % reached: {}", reading.message)
                .chars()
                .take(500)
                .collect(),
            raised_at: now,
            acknowledged_at: None,
            acknowledged_by: String::new(),
        };
        let event = NewAuditEvent::without_principal(
            "system:alerts",
            "",
            "usage.alert",
            format!("{}:{}", reading.scope, reading.subject_id),
        )
        .details(json!({
            "alert_id": alert.id,
            "metric": alert.metric,
            "threshold": threshold,
            "percent": alert.percent,
            "window_end": alert.window_end,
        }));
        let stored =
            usage_alerts::raise(&self.0.store, alert, event, &self.0.settings.webhooks).await?;
        // Stored, or raised by another replica meanwhile: this threshold is done either way.
        self.0.raised.insert(
            key,
            Raised {
                threshold,
                window_start,
                window_end,
            },
        );
        if let Some(a) = &stored {
            tracing::info!(alert = %a.id, scope = reading.scope, metric = %a.metric, threshold, "usage alert raised");
        }
        Ok(stored)
    }

    async fn highest_stored(&self, r: &Reading) -> Result<Option<Raised>> {
        let half = ((r.window_end - r.window_start) / 2).max(1);
        let found = usage_alerts::highest_in_window(
            &self.0.store,
            r.scope,
            &r.subject_id,
            r.metric.as_str(),
            (r.window_end - half + 1, r.window_end + half - 1),
        )
        .await?;
        Ok(found.map(|a| Raised {
            threshold: u32::try_from(a.threshold).unwrap_or(0),
            window_start: a.window_start,
            window_end: a.window_end,
        }))
    }

    /// People's and the fleet's monthly budgets and the fleet's ChatGPT quota.
    pub async fn check(&self, now: i64) -> Result<Vec<Alert>> {
        let mut readings = self.budget_readings(now).await?;
        readings.extend(self.quota_readings(now).await?);
        let mut raised = Vec::new();
        for r in readings {
            if let Some(a) = self.observe(&r, &self.0.settings.thresholds, now).await? {
                raised.push(a);
            }
        }
        Ok(raised)
    }

    async fn budget_readings(&self, now: i64) -> Result<Vec<Reading>> {
        let s = &self.0.settings;
        let (start, end) = budget::period_bounds(Period::Month, now);
        let mut out = Vec::new();
        let month = Filter {
            since: Some(start),
            ..Default::default()
        };
        if let Some(limit) = s.fleet_monthly_budget_micros.filter(|m| *m > 0) {
            let spent: i64 = usage_rollups::aggregate(&self.0.store, &month, None)
                .await?
                .values()
                .map(|v| v.cost_micros)
                .sum();
            let percent = spent as f64 * 100.0 / limit as f64;
            out.push(Reading {
                scope: "fleet",
                subject_id: String::new(),
                user_id: String::new(),
                metric: Metric::Budget,
                window_start: start,
                window_end: end,
                percent,
                message: format!(
                    "the fleet has spent {percent:.0} % of its monthly budget ({} of {} USD)",
                    dollars(spent),
                    dollars(limit)
                ),
            });
        }
        if let Some(limit) = s.user_monthly_budget_micros.filter(|m| *m > 0) {
            let per_user =
                usage_rollups::aggregate(&self.0.store, &month, Some(Group::User)).await?;
            for (user, sums) in per_user {
                if user.is_empty() {
                    continue;
                }
                let percent = sums.cost_micros as f64 * 100.0 / limit as f64;
                out.push(Reading {
                    scope: "user",
                    subject_id: user.clone(),
                    message: format!(
                        "user {user} has spent {percent:.0} % of the monthly budget per person \
                         ({} of {} USD)",
                        dollars(sums.cost_micros),
                        dollars(limit)
                    ),
                    user_id: user,
                    metric: Metric::Budget,
                    window_start: start,
                    window_end: end,
                    percent,
                });
            }
        }
        Ok(out)
    }

    async fn quota_readings(&self, now: i64) -> Result<Vec<Reading>> {
        let Some(s) = quota_snapshots::latest(&self.0.store, FLEET_ACCOUNT).await? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let windows = [
            (
                Metric::QuotaPrimary,
                "5-hour",
                s.primary_used_percent,
                s.primary_window_minutes,
                s.primary_resets_at,
            ),
            (
                Metric::QuotaWeekly,
                "weekly",
                s.secondary_used_percent,
                s.secondary_window_minutes,
                s.secondary_resets_at,
            ),
        ];
        for (metric, name, used, minutes, resets) in windows {
            let (Some(used), Some(resets)) = (used, resets) else {
                continue;
            };
            // A window that ended before now says nothing about the current one.
            if resets <= now {
                continue;
            }
            let start = resets - i64::from(minutes.unwrap_or(0).max(1)) * 60_000;
            out.push(Reading {
                scope: "fleet",
                subject_id: String::new(),
                user_id: String::new(),
                metric,
                window_start: start,
                window_end: resets,
                percent: used,
                message: format!("the fleet's ChatGPT {name} window is at {used:.0} %"),
            });
            if metric == Metric::QuotaWeekly
                && let Some(projected) = quota_eval::projected_percent(used, start, resets, now)
            {
                out.push(Reading {
                    scope: "fleet",
                    subject_id: String::new(),
                    user_id: String::new(),
                    metric: Metric::QuotaWeeklyProjection,
                    window_start: start,
                    window_end: resets,
                    percent: projected,
                    message: format!(
                        "at the current rate the fleet's ChatGPT weekly window reaches \
                         {projected:.0} % by its reset at {} (now {used:.0} %)",
                        utc(resets)
                    ),
                });
            }
        }
        Ok(out)
    }

    /// The leased minute check and the webhook sender; the caller keeps the handles.
    pub fn spawn(&self, holder: String) -> Vec<tokio::task::JoinHandle<()>> {
        let me = self.clone();
        let check = leases::spawn_every(
            self.0.store.clone(),
            LEASE,
            holder.clone(),
            self.0.settings.check_every,
            move |_| {
                let me = me.clone();
                async move {
                    if let Err(err) = me.check(codex_central_store::now_ms()).await {
                        tracing::warn!(error = %err, "could not check usage alerts");
                    }
                }
            },
        );
        let sender = super::webhooks::spawn(
            self.0.store.clone(),
            holder,
            self.0.settings.webhook_secret.clone(),
        );
        vec![check, sender]
    }
}

fn period_name(p: Period) -> &'static str {
    match p {
        Period::Day => "daily",
        Period::Week => "weekly",
        Period::Month => "monthly",
    }
}

fn dollars(micros: i64) -> String {
    format!("{:.2}", micros as f64 / 1_000_000.0)
}

fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::to_raise;

    #[test]
    fn the_highest_new_threshold_is_raised_once() {
        let t = [80, 95, 100];
        // (percent, highest raised before, expected)
        let table: [(f64, Option<u32>, Option<u32>); 9] = [
            (10.0, None, None),
            (79.99, None, None),
            (80.0, None, Some(80)),
            (96.0, None, Some(95)),
            (96.0, Some(80), Some(95)),
            (96.0, Some(95), None),
            (150.0, Some(80), Some(100)),
            (100.0, Some(100), None),
            // A lower reading after a higher alert raises nothing.
            (85.0, Some(95), None),
        ];
        for (percent, raised, want) in table {
            assert_eq!(
                to_raise(&t, percent, raised),
                want,
                "{percent} after {raised:?}"
            );
        }
        assert_eq!(to_raise(&[], 100.0, None), None);
    }
}
