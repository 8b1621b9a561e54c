//! What a group of usage reports stores, worked out apart from how: which records to try (each
//! dedupe key once, the first report's), then, from the keys the database skipped as stored
//! already, each report's outcome, its envelope's totals and the records the sums add.

use std::collections::HashSet;

use crate::entities::usage_ingests;
use crate::entities::usage_records::Model;
use crate::usage_records::{Report, Stored};

/// The records of a batch to insert: (report, record) positions, no dedupe key twice.
pub(crate) struct Candidates {
    pub rows: Vec<(usize, usize)>,
    /// Per report, the positions of its records whose key an earlier record of the batch has.
    repeated: Vec<Vec<usize>>,
}

impl Candidates {
    pub(crate) fn new(reports: &[Report]) -> Self {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut rows = Vec::new();
        let mut repeated = vec![Vec::new(); reports.len()];
        for (at, report) in reports.iter().enumerate() {
            for (i, r) in report.records.iter().enumerate() {
                if let Some(key) = r.dedupe_key.as_deref()
                    && !seen.insert(key)
                {
                    repeated[at].push(i);
                    continue;
                }
                rows.push((at, i));
            }
        }
        Candidates { rows, repeated }
    }

    pub(crate) fn records<'a>(&self, reports: &'a [Report]) -> Vec<&'a Model> {
        self.rows
            .iter()
            .map(|&(at, i)| &reports[at].records[i])
            .collect()
    }
}

/// The rows of `rows` whose dedupe keys are not in `stored`.
pub(crate) fn unstored<'a>(rows: &[&'a Model], stored: &HashSet<String>) -> Vec<&'a Model> {
    rows.iter()
        .filter(|r| !is_stored(r, stored))
        .copied()
        .collect()
}

fn is_stored(r: &Model, stored: &HashSet<String>) -> bool {
    r.dedupe_key
        .as_ref()
        .is_some_and(|key| stored.contains(key))
}

/// What a batch stored.
pub(crate) struct Settled<'a> {
    pub outcomes: Vec<Stored>,
    /// The records stored, for the sums.
    pub kept: Vec<&'a Model>,
    /// The reports' envelopes with their counts and totals.
    pub envelopes: Vec<usage_ingests::Model>,
}

/// Each report's outcome once the candidates were inserted; `skipped` holds the keys of those
/// the database did not take (stored already).
pub(crate) fn settle<'a>(
    reports: &'a [Report],
    candidates: Candidates,
    skipped: &HashSet<String>,
) -> Settled<'a> {
    let mut outcomes: Vec<Stored> = candidates
        .repeated
        .into_iter()
        .map(|duplicates| Stored {
            inserted: Vec::new(),
            duplicates,
        })
        .collect();
    let mut kept = Vec::with_capacity(candidates.rows.len());
    for (at, i) in candidates.rows {
        let r = &reports[at].records[i];
        if !is_stored(r, skipped) {
            outcomes[at].inserted.push(i);
            kept.push(r);
        } else {
            outcomes[at].duplicates.push(i);
        }
    }
    let mut envelopes = Vec::new();
    for (report, stored) in reports.iter().zip(&mut outcomes) {
        stored.duplicates.sort_unstable();
        let Some(mut envelope) = report.envelope.clone() else {
            continue;
        };
        envelope.row_count = i32::try_from(stored.inserted.len()).unwrap_or(i32::MAX);
        envelope.duplicate_count = i32::try_from(stored.duplicates.len()).unwrap_or(i32::MAX);
        for &i in &stored.inserted {
            let r = &report.records[i];
            envelope.total_tokens += r.total_tokens;
            envelope.input_tokens += r.input_tokens;
            envelope.cached_input_tokens += r.cached_input_tokens;
            envelope.output_tokens += r.output_tokens;
            envelope.reasoning_output_tokens += r.reasoning_output_tokens;
            envelope.cost_micros += r.cost_micros;
        }
        envelopes.push(envelope);
    }
    Settled {
        outcomes,
        kept,
        envelopes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: Option<&str>, tokens: i64) -> Model {
        Model {
            dedupe_key: key.map(str::to_string),
            total_tokens: tokens,
            ..Default::default()
        }
    }

    fn report(records: Vec<Model>) -> Report {
        Report {
            envelope: Some(usage_ingests::Model::default()),
            records,
        }
    }

    #[test]
    fn a_key_is_tried_once_and_counted_where_the_database_took_it() {
        let reports = vec![
            report(vec![
                record(Some("a"), 1),
                record(None, 2),
                record(Some("a"), 4),
            ]),
            report(vec![
                record(Some("a"), 8),
                record(Some("b"), 16),
                record(Some("old"), 32),
                record(Some("raced"), 64),
            ]),
        ];
        let candidates = Candidates::new(&reports);
        assert_eq!(
            candidates.rows,
            vec![(0, 0), (0, 1), (1, 1), (1, 2), (1, 3)]
        );
        let skipped = HashSet::from(["old".to_string(), "raced".to_string()]);
        let settled = settle(&reports, candidates, &skipped);
        assert_eq!(settled.outcomes[0].inserted, vec![0, 1]);
        assert_eq!(settled.outcomes[0].duplicates, vec![2]);
        assert_eq!(settled.outcomes[1].inserted, vec![1]);
        assert_eq!(settled.outcomes[1].duplicates, vec![0, 2, 3]);
        let tokens: Vec<i64> = settled.kept.iter().map(|r| r.total_tokens).collect();
        assert_eq!(tokens, vec![1, 2, 16]);
        let envelopes: Vec<(i32, i32, i64)> = settled
            .envelopes
            .iter()
            .map(|e| (e.row_count, e.duplicate_count, e.total_tokens))
            .collect();
        assert_eq!(envelopes, vec![(2, 1, 3), (1, 3, 16)]);
    }
}
