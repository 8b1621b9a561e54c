//! Which copy wins on `retrieve` and `store` (SPEC §4). Timestamps are compared as instants,
//! never as strings, and digests case-insensitively.

use chrono::{DateTime, Utc};

use super::CanonicalDocument;

/// The answer to a host's `retrieve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetrieveOutcome {
    /// No canonical copy yet: the host should store its own (`action: "store"`).
    Missing,
    /// The host already has the canonical copy.
    Valid,
    /// The host's copy is at least as recent: it should upload it (`action: "store"`).
    UploadRequired,
    /// The canonical copy is newer: the answer carries it.
    Outdated,
}

impl RetrieveOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            RetrieveOutcome::Missing => "missing",
            RetrieveOutcome::Valid => "valid",
            RetrieveOutcome::UploadRequired => "upload_required",
            RetrieveOutcome::Outdated => "outdated",
        }
    }
}

/// The answer to a host's (or an admin's) `store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// The upload becomes the canonical copy.
    Updated,
    /// The upload is the canonical copy already.
    Unchanged,
    /// The canonical copy is newer: the answer carries it.
    Outdated,
}

impl StoreOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreOutcome::Updated => "updated",
            StoreOutcome::Unchanged => "unchanged",
            StoreOutcome::Outdated => "outdated",
        }
    }
}

/// `canonical` is the stored copy's digest and `last_refresh`. A tie on time with a different
/// digest asks for an upload: the host may hold a newer refresh written within the same instant,
/// and `store` settles it.
pub fn decide_retrieve(
    canonical: Option<(&str, DateTime<Utc>)>,
    client_digest: &str,
    client_last_refresh: DateTime<Utc>,
) -> RetrieveOutcome {
    match canonical {
        None => RetrieveOutcome::Missing,
        Some((digest, _)) if digest.eq_ignore_ascii_case(client_digest) => RetrieveOutcome::Valid,
        Some((_, at)) if client_last_refresh >= at => RetrieveOutcome::UploadRequired,
        Some(_) => RetrieveOutcome::Outdated,
    }
}

/// `canonical` is the stored copy's digest and `last_refresh`. On a tie in time a different
/// digest wins, so two copies refreshed in the same instant converge on the last one stored
/// instead of bouncing between hosts.
pub fn decide_store(
    canonical: Option<(&str, DateTime<Utc>)>,
    candidate: &CanonicalDocument,
) -> StoreOutcome {
    let Some((digest, at)) = canonical else {
        return StoreOutcome::Updated;
    };
    let candidate_at = candidate.last_refresh_at;
    if candidate_at > at || (candidate_at == at && !digest.eq_ignore_ascii_case(&candidate.digest))
    {
        StoreOutcome::Updated
    } else if candidate_at < at {
        StoreOutcome::Outdated
    } else {
        StoreOutcome::Unchanged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::codex_auth::compact::sha256_hex;

    const D1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "2222222222222222222222222222222222222222222222222222222222222222";
    const MIXED: &str = "abcdefABCDEF0123456789abcdefABCDEF0123456789abcdefABCDEF01234567";

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn candidate(digest: &str, last_refresh: &str) -> CanonicalDocument {
        CanonicalDocument {
            text: "{}".into(),
            digest: digest.into(),
            last_refresh: last_refresh.into(),
            last_refresh_at: at(last_refresh),
        }
    }

    #[test]
    fn retrieve_table() {
        let t = at("2025-09-03T10:00:00Z");
        let earlier = at("2025-09-03T09:59:59.999999Z");
        let later = at("2025-09-03T10:00:00.000001Z");
        let same_instant_other_offset = at("2025-09-03T12:00:00+02:00");
        let canonical = Some((D1, t));
        let rows = [
            (None, D1, t, RetrieveOutcome::Missing),
            (None, D2, earlier, RetrieveOutcome::Missing),
            (canonical, D1, t, RetrieveOutcome::Valid),
            // Same digest wins over any timestamp disagreement.
            (canonical, D1, earlier, RetrieveOutcome::Valid),
            (canonical, D1, later, RetrieveOutcome::Valid),
            (canonical, D2, later, RetrieveOutcome::UploadRequired),
            (canonical, D2, t, RetrieveOutcome::UploadRequired),
            (
                canonical,
                D2,
                same_instant_other_offset,
                RetrieveOutcome::UploadRequired,
            ),
            (canonical, D2, earlier, RetrieveOutcome::Outdated),
        ];
        for (i, (canonical, digest, client_at, expected)) in rows.into_iter().enumerate() {
            assert_eq!(
                decide_retrieve(canonical, digest, client_at),
                expected,
                "row {i}"
            );
        }
    }

    #[test]
    fn retrieve_compares_digests_case_insensitively() {
        let t = at("2025-09-03T10:00:00Z");
        let upper = MIXED.to_ascii_uppercase();
        let lower = MIXED.to_ascii_lowercase();
        assert_eq!(
            decide_retrieve(Some((&lower, t)), &upper, at("2000-01-01T00:00:00Z")),
            RetrieveOutcome::Valid
        );
        assert_eq!(
            decide_retrieve(Some((&upper, t)), MIXED, at("2000-01-01T00:00:00Z")),
            RetrieveOutcome::Valid
        );
    }

    #[test]
    fn store_table() {
        let t = "2025-09-03T10:00:00Z";
        let canonical = Some((D1, at(t)));
        let rows = [
            (None, candidate(D1, t), StoreOutcome::Updated),
            (
                canonical,
                candidate(D2, "2025-09-03T10:00:00.000000001Z"),
                StoreOutcome::Updated,
            ),
            // Newer with the same digest cannot happen for a real document, but time decides.
            (
                canonical,
                candidate(D1, "2025-09-03T10:00:01Z"),
                StoreOutcome::Updated,
            ),
            (canonical, candidate(D2, t), StoreOutcome::Updated),
            (
                canonical,
                candidate(D2, "2025-09-03T12:00:00+02:00"),
                StoreOutcome::Updated,
            ),
            (canonical, candidate(D1, t), StoreOutcome::Unchanged),
            (
                canonical,
                candidate(D1, "2025-09-03T12:00:00+02:00"),
                StoreOutcome::Unchanged,
            ),
            (
                canonical,
                candidate(&D1.to_ascii_uppercase(), t),
                StoreOutcome::Unchanged,
            ),
            (
                canonical,
                candidate(D2, "2025-09-03T09:59:59Z"),
                StoreOutcome::Outdated,
            ),
            (
                canonical,
                candidate(D1, "2025-09-03T09:59:59Z"),
                StoreOutcome::Outdated,
            ),
        ];
        for (i, (canonical, candidate, expected)) in rows.into_iter().enumerate() {
            assert_eq!(decide_store(canonical, &candidate), expected, "row {i}");
        }
    }

    #[test]
    fn store_with_a_parsed_document() {
        let now = at("2025-09-03T12:00:00Z");
        let raw = r#"{"OPENAI_API_KEY":"sk-proj-Qm9ndXNBcGlLZXkwMDAxMjM0NTY3","last_refresh":"2025-09-03T10:00:00Z"}"#;
        let doc = CanonicalDocument::parse(raw, now).unwrap();
        let digest = sha256_hex(raw);
        assert_eq!(
            decide_store(Some((&digest, at("2025-09-03T10:00:00Z"))), &doc),
            StoreOutcome::Unchanged
        );
    }

    #[test]
    fn wire_words() {
        assert_eq!(RetrieveOutcome::Missing.as_str(), "missing");
        assert_eq!(RetrieveOutcome::Valid.as_str(), "valid");
        assert_eq!(RetrieveOutcome::UploadRequired.as_str(), "upload_required");
        assert_eq!(RetrieveOutcome::Outdated.as_str(), "outdated");
        assert_eq!(StoreOutcome::Updated.as_str(), "updated");
        assert_eq!(StoreOutcome::Unchanged.as_str(), "unchanged");
        assert_eq!(StoreOutcome::Outdated.as_str(), "outdated");
    }
}
