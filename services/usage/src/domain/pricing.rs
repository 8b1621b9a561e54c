//! Prices and cost. A snapshot gives a model's prices per million tokens from an instant on; a
//! row costs what the snapshot in force at its time says. The shipped table
//! (`prices/openai.json`) is in force from the beginning of time, so anything an admin enters
//! or a pull adds from a date takes over from then. Money is in micros of [`CURRENCY`]; a price
//! in another currency is refused, so sums never mix currencies.

use std::collections::HashMap;

use codex_central_store::entities::price_snapshots::Model as Snapshot;
use codex_central_store::{Store, price_snapshots};
use serde::Deserialize;

use crate::{Error, Result};

/// The shipped table, in the format `--pricing-url` serves (see docs/usage.md).
pub const SHIPPED: &str = include_str!("../../prices/openai.json");

/// The one currency costs are counted in.
pub const CURRENCY: &str = "USD";

pub const SOURCE_DEFAULT: &str = "default";
pub const SOURCE_ADMIN: &str = "admin";
pub const SOURCE_PULL: &str = "pull";

/// A price list: `{"currency": "USD", "prices": [{"model", "input_per_million",
/// "cached_input_per_million", "output_per_million", "effective_from"?}]}`, prices in currency
/// units (not micros), `effective_from` an RFC 3339 instant or a `YYYY-MM-DD` day (UTC).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceList {
    pub currency: String,
    #[serde(default)]
    pub checked_at: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    pub prices: Vec<ListedPrice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListedPrice {
    pub model: String,
    pub input_per_million: f64,
    #[serde(default)]
    pub cached_input_per_million: Option<f64>,
    pub output_per_million: f64,
    #[serde(default)]
    pub effective_from: Option<String>,
}

/// Currency units per million tokens → micros per million tokens; negative, not finite or
/// absurd (over a million units per million tokens) is refused.
pub fn micros(field: &str, units: f64) -> Result<i64> {
    if !units.is_finite() || !(0.0..=1_000_000.0).contains(&units) {
        return Err(Error::invalid(
            field,
            "must be a price between 0 and 1,000,000 per million tokens",
        ));
    }
    Ok((units * 1_000_000.0).round() as i64)
}

/// Parses a price list into snapshots (ids, source and creation filled in). `default_from` is
/// the instant used when an entry has no `effective_from`.
pub fn snapshots_of(
    list: &PriceList,
    currency: &str,
    source: &str,
    default_from: i64,
    now: i64,
) -> Result<Vec<Snapshot>> {
    if !list.currency.eq_ignore_ascii_case(currency) {
        return Err(Error::invalid(
            "currency",
            format!(
                "prices are in {}, this deployment counts in {currency}",
                list.currency
            ),
        ));
    }
    let mut out = Vec::with_capacity(list.prices.len());
    for (i, p) in list.prices.iter().enumerate() {
        let field = |name: &str| format!("prices.{i}.{name}");
        let model = check_model(&field("model"), &p.model)?;
        let effective_at = match &p.effective_from {
            None => default_from,
            Some(text) => instant(text)
                .ok_or_else(|| Error::invalid(field("effective_from"), "is not a date"))?,
        };
        let input = micros(&field("input_per_million"), p.input_per_million)?;
        out.push(Snapshot {
            id: uuid::Uuid::new_v4().to_string(),
            model,
            input_per_million_micros: input,
            cached_input_per_million_micros: match p.cached_input_per_million {
                Some(c) => micros(&field("cached_input_per_million"), c)?,
                None => input,
            },
            output_per_million_micros: micros(&field("output_per_million"), p.output_per_million)?,
            currency: currency.to_string(),
            effective_at,
            source: source.to_string(),
            created_at: now,
            created_by: source.to_string(),
        });
    }
    Ok(out)
}

/// `YYYY-MM-DD` (midnight UTC) or RFC 3339 → Unix ms.
pub fn instant(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// A model name as prices are keyed: trimmed, 1-191 printable characters.
pub fn check_model(field: &str, model: &str) -> Result<String> {
    let model = model.trim();
    if model.is_empty() || model.chars().count() > 191 || model.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "must be a model name of 1-191 characters",
        ));
    }
    Ok(model.to_string())
}

/// Stores the shipped prices not stored yet (at start; every replica may, the second finds them
/// there). An admin's deletion of a shipped snapshot is therefore undone at the next start:
/// to change a shipped price, add a snapshot from a date instead.
pub async fn seed_shipped(store: &Store) -> Result<usize> {
    let list: PriceList = serde_json::from_str(SHIPPED)
        .map_err(|e| Error::internal(format!("the shipped price table is not valid: {e}")))?;
    let snapshots = snapshots_of(
        &list,
        CURRENCY,
        SOURCE_DEFAULT,
        0,
        codex_central_store::now_ms(),
    )?;
    Ok(price_snapshots::insert_missing(store, snapshots).await?)
}

/// The names under which a model's prices may be stored, most specific first: as given, without
/// a provider prefix (`openai/gpt-5`), without a date suffix (`gpt-4o-2024-08-06`).
pub fn candidates(model: &str) -> Vec<String> {
    let mut out = vec![model.to_string()];
    let bare = model.rsplit_once('/').map_or(model, |(_, m)| m);
    if bare != model {
        out.push(bare.to_string());
    }
    let undated = strip_date(bare);
    if undated != bare {
        out.push(undated.to_string());
    }
    out
}

fn strip_date(model: &str) -> &str {
    let b = model.as_bytes();
    // "-YYYY-MM-DD", checked on bytes: the cut then falls on the ASCII '-'.
    if b.len() > 11 {
        let t = &b[b.len() - 11..];
        let digits = |r: std::ops::Range<usize>| t[r].iter().all(u8::is_ascii_digit);
        if t[0] == b'-'
            && digits(1..5)
            && t[5] == b'-'
            && digits(6..8)
            && t[8] == b'-'
            && digits(9..11)
        {
            return &model[..model.len() - 11];
        }
    }
    model
}

/// Snapshots of some models, to price rows with.
#[derive(Debug, Default, Clone)]
pub struct PriceBook {
    by_model: HashMap<String, Vec<Snapshot>>,
}

impl PriceBook {
    /// Loads every snapshot that may price `models`.
    pub async fn load<'a>(
        store: &Store,
        models: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self> {
        let mut names: Vec<String> = models
            .into_iter()
            .filter(|m| !m.is_empty())
            .flat_map(candidates)
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Ok(PriceBook::default());
        }
        Ok(PriceBook::of(price_snapshots::list(store, &names).await?))
    }

    pub fn of(snapshots: Vec<Snapshot>) -> Self {
        let mut by_model: HashMap<String, Vec<Snapshot>> = HashMap::new();
        for s in snapshots {
            by_model.entry(s.model.clone()).or_default().push(s);
        }
        for list in by_model.values_mut() {
            list.sort_by_key(|s| s.effective_at);
        }
        PriceBook { by_model }
    }

    /// The snapshot in force for `model` at `at`: the latest one from at or before it, under
    /// the most specific name that has one.
    pub fn at(&self, model: &str, at: i64) -> Option<&Snapshot> {
        candidates(model).iter().find_map(|name| {
            self.by_model
                .get(name)?
                .iter()
                .rev()
                .find(|s| s.effective_at <= at)
        })
    }
}

/// Token counts as a row holds them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub input: i64,
    pub cached: i64,
    pub output: i64,
}

/// Cost in micros: input not served from cache at the input price, cached input at the cached
/// price, output (reasoning included) at the output price; rounded half up.
pub fn cost_micros(t: Counted, p: &Snapshot) -> i64 {
    let cached = t.cached.clamp(0, t.input.max(0));
    let fresh = i128::from(t.input.max(0) - cached);
    let total = fresh * i128::from(p.input_per_million_micros)
        + i128::from(cached) * i128::from(p.cached_input_per_million_micros)
        + i128::from(t.output.max(0)) * i128::from(p.output_per_million_micros);
    i64::try_from((total + 500_000) / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(model: &str, from: i64, input: i64, cached: i64, output: i64) -> Snapshot {
        Snapshot {
            id: format!("{model}@{from}"),
            model: model.into(),
            input_per_million_micros: input,
            cached_input_per_million_micros: cached,
            output_per_million_micros: output,
            currency: "USD".into(),
            effective_at: from,
            source: "admin".into(),
            created_at: 0,
            created_by: String::new(),
        }
    }

    #[test]
    fn the_shipped_table_parses() {
        let list: PriceList = serde_json::from_str(SHIPPED).unwrap();
        let snaps = snapshots_of(&list, "USD", SOURCE_DEFAULT, 0, 1).unwrap();
        assert!(snaps.len() >= 10);
        let gpt5 = snaps.iter().find(|s| s.model == "gpt-5").unwrap();
        assert_eq!(gpt5.input_per_million_micros, 1_250_000);
        assert_eq!(gpt5.cached_input_per_million_micros, 125_000);
        assert_eq!(gpt5.output_per_million_micros, 10_000_000);
        assert!(snapshots_of(&list, "EUR", SOURCE_DEFAULT, 0, 1).is_err());
    }

    #[test]
    fn cost_uses_the_snapshot_in_force_at_the_rows_time() {
        let book = PriceBook::of(vec![
            snap("gpt-5", 0, 1_250_000, 125_000, 10_000_000),
            snap("gpt-5", 1_000, 2_500_000, 250_000, 20_000_000),
        ]);
        let t = Counted {
            input: 1_000_000,
            cached: 400_000,
            output: 100_000,
        };
        // 600k fresh × 1.25 + 400k cached × 0.125 + 100k × 10 = 0.75 + 0.05 + 1.0 units.
        assert_eq!(cost_micros(t, book.at("gpt-5", 999).unwrap()), 1_800_000);
        assert_eq!(cost_micros(t, book.at("gpt-5", 1_000).unwrap()), 3_600_000);
        assert!(book.at("gpt-5", -1).is_none());
        assert!(book.at("unknown", 5).is_none());
    }

    #[test]
    fn names_fall_back_to_undated_and_unprefixed() {
        let book = PriceBook::of(vec![snap("gpt-4o", 0, 1, 1, 1)]);
        assert!(book.at("gpt-4o-2024-08-06", 0).is_some());
        assert!(book.at("openai/gpt-4o", 0).is_some());
        assert!(book.at("gpt-4o-mini", 0).is_none());
        assert_eq!(strip_date("gpt-4o-2024-08-06"), "gpt-4o");
        assert_eq!(strip_date("2024-08-06"), "2024-08-06");
        assert_eq!(strip_date("modèle-éé-é-ééé"), "modèle-éé-é-ééé");
    }

    #[test]
    fn rounding_and_bounds() {
        let p = snap("m", 0, 1, 1, 1);
        // 1 token at 1 micro per million: 0.000001 micros, rounds to 0.
        assert_eq!(
            cost_micros(
                Counted {
                    input: 1,
                    cached: 0,
                    output: 0
                },
                &p
            ),
            0
        );
        assert_eq!(
            cost_micros(
                Counted {
                    input: 10,
                    cached: 50,
                    output: -3
                },
                &p
            ),
            0
        );
        assert!(micros("x", -1.0).is_err());
        assert!(micros("x", f64::NAN).is_err());
        assert_eq!(micros("x", 0.125).unwrap(), 125_000);
        assert_eq!(instant("2026-01-02"), Some(1_767_312_000_000));
        assert!(instant("yesterday").is_none());
    }
}
