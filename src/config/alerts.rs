//! The alert keys: thresholds, budgets of people and of the fleet, webhooks and their secret.

use std::time::Duration;

use codex_central_common::crypto::Secret;

use super::{ConfigError, Layer, invalid};

#[derive(Debug, Clone)]
pub struct Alerts {
    /// Ascending, distinct.
    pub thresholds: Vec<u32>,
    pub webhook_urls: Vec<String>,
    /// Signs webhook bodies; required with webhooks.
    pub webhook_secret: Option<Secret<String>>,
    pub user_monthly_budget_micros: Option<i64>,
    pub fleet_monthly_budget_micros: Option<i64>,
    pub check_every: Duration,
}

pub fn alerts(layer: &Layer) -> Result<Alerts, ConfigError> {
    let thresholds = thresholds(layer.alert_thresholds.as_deref().unwrap_or_default())?;
    let webhook_urls: Vec<String> = layer
        .alert_webhook_urls
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    for url in &webhook_urls {
        let parsed = reqwest::Url::parse(url)
            .map_err(|_| invalid("alert_webhook_urls", "each must be an http(s) URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(invalid("alert_webhook_urls", "each must be an http(s) URL"));
        }
        if url.len() > 500 {
            return Err(invalid(
                "alert_webhook_urls",
                "each must be at most 500 characters",
            ));
        }
    }
    let secret = match (
        &layer.alert_webhook_secret,
        &layer.alert_webhook_secret_file,
    ) {
        (Some(s), _) if !s.is_empty() => Some(s.clone()),
        (_, Some(file)) => Some(super::sections::read_secret_file(
            "alert_webhook_secret_file",
            file,
        )?),
        _ => None,
    };
    if let Some(s) = &secret
        && s.len() < 16
    {
        return Err(invalid(
            "alert_webhook_secret",
            "must be at least 16 characters",
        ));
    }
    if !webhook_urls.is_empty() && secret.is_none() {
        return Err(invalid(
            "alert_webhook_secret",
            "alert_webhook_urls need a secret to sign deliveries with",
        ));
    }
    Ok(Alerts {
        thresholds,
        webhook_urls,
        webhook_secret: secret.map(Secret::new),
        user_monthly_budget_micros: usd(
            "alert_user_monthly_budget_usd",
            layer.alert_user_monthly_budget_usd.as_deref(),
        )?,
        fleet_monthly_budget_micros: usd(
            "alert_fleet_monthly_budget_usd",
            layer.alert_fleet_monthly_budget_usd.as_deref(),
        )?,
        check_every: Duration::from_secs(layer.alert_check_secs.unwrap_or_default().max(1)),
    })
}

fn thresholds(text: &str) -> Result<Vec<u32>, ConfigError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let t: u32 = part
            .parse()
            .ok()
            .filter(|t| (1..=1000).contains(t))
            .ok_or_else(|| {
                invalid(
                    "alert_thresholds",
                    "expected percentages from 1 to 1000, separated by commas",
                )
            })?;
        out.push(t);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A dollar amount ("250" or "99.50") in micros; empty or absent: none.
fn usd(key: &str, text: Option<&str>) -> Result<Option<i64>, ConfigError> {
    let text = text.unwrap_or_default().trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || invalid(key, "expected an amount in USD such as 250 or 99.50");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || fraction.len() > 6
        || !(whole.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = format!("{fraction:0<6}").parse().map_err(|_| bad())?;
    let micros = whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)?;
    Ok((micros > 0).then_some(micros))
}

#[cfg(test)]
mod tests {
    use super::{thresholds, usd};

    #[test]
    fn thresholds_and_amounts_parse_or_name_the_key() {
        assert_eq!(thresholds("95, 80,100,80").ok(), Some(vec![80, 95, 100]));
        assert_eq!(thresholds("").ok(), Some(vec![]));
        for bad in ["0", "x", "80;95", "1001", "-5"] {
            assert!(thresholds(bad).is_err(), "{bad}");
        }
        assert_eq!(usd("k", Some("250")).ok(), Some(Some(250_000_000)));
        assert_eq!(usd("k", Some("99.5")).ok(), Some(Some(99_500_000)));
        assert_eq!(usd("k", Some(" ")).ok(), Some(None));
        assert_eq!(usd("k", Some("0")).ok(), Some(None));
        for bad in ["$5", "1e3", "1.2345678", ".5", "-1", "99999999999999999"] {
            let err = usd("alert_fleet_monthly_budget_usd", Some(bad))
                .map(|_| ())
                .unwrap_err();
            assert!(
                err.to_string().contains("alert_fleet_monthly_budget_usd"),
                "{bad}: {err}"
            );
        }
    }
}
