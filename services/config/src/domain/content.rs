//! What prompts, skills and `AGENTS.md` share: digests, the answers of a host sync and of a
//! write, how far hosts may push, and the checks every distributed text passes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Largest prompt body or `AGENTS.md` accepted. Codex reads at most 32 KiB of project docs by
/// default; this leaves room for fleets that raise `project_doc_max_bytes`.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A host sync's answer for one item, given the digest the host has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStatus {
    /// Nothing to have: the host removes its copy.
    Missing,
    /// Retired: the host deletes its copy.
    Deleted,
    Unchanged,
    Updated,
}

/// A host's sync of an item that may be retired, given whether it exists, is retired and its
/// digest, and the digest of the host's copy.
pub fn sync_status(found: Option<(bool, &str)>, known_sha256: &str) -> SyncStatus {
    match found {
        None => SyncStatus::Missing,
        Some((true, _)) => SyncStatus::Deleted,
        Some((false, sha)) if sha.eq_ignore_ascii_case(known_sha256.trim()) => {
            SyncStatus::Unchanged
        }
        Some(_) => SyncStatus::Updated,
    }
}

/// The outcome of a save or a host push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStatus {
    Created,
    Updated,
    Unchanged,
    /// Stored as a proposal awaiting an admin.
    Proposed,
}

/// What a host push does (`host_content_push`): `on` (the peer's behaviour: a host's edit
/// becomes the fleet's copy), `review` (a proposal an admin approves) or `off` (refused).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HostPush {
    #[default]
    On,
    Review,
    Off,
}

impl HostPush {
    pub fn as_str(self) -> &'static str {
        match self {
            HostPush::On => "on",
            HostPush::Review => "review",
            HostPush::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Option<HostPush> {
        match s.trim().to_ascii_lowercase().as_str() {
            "on" => Some(HostPush::On),
            "review" => Some(HostPush::Review),
            "off" => Some(HostPush::Off),
            _ => None,
        }
    }
}

/// A distributed text: bounded, and free of NUL (which PostgreSQL cannot store in text).
pub fn check_text(field: &str, value: &str) -> Result<()> {
    if value.len() > MAX_TEXT_BYTES {
        return Err(Error::invalid(
            field,
            format!("{field} is larger than {MAX_TEXT_BYTES} bytes"),
        ));
    }
    if value.contains('\0') {
        return Err(Error::invalid(
            field,
            format!("{field} contains a NUL byte"),
        ));
    }
    Ok(())
}

/// A one-line field (description, argument hint): bounded, no control characters.
pub fn check_line(field: &str, value: &str, max_chars: usize) -> Result<()> {
    if value.chars().count() > max_chars {
        return Err(Error::invalid(
            field,
            format!("{field} is longer than {max_chars} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(())
}

/// An optimistic-lock check: `expected` empty skips it.
pub fn check_expected(what: &str, expected: &str, current: &str) -> Result<()> {
    if expected.is_empty() || expected.eq_ignore_ascii_case(current) {
        Ok(())
    } else {
        Err(Error::failed_precondition(format!(
            "{what} was changed since it was read (sha256 {}); reload and retry",
            if current.is_empty() { "none" } else { current }
        ))
        .with_reason("sha256_mismatch"))
    }
}

/// `key: value` pairs of a Markdown file's leading `---` front matter (flat, one per line;
/// quotes around a value are removed). Empty when the file has none.
pub fn front_matter(text: &str) -> Vec<(String, String)> {
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for line in lines {
        if line.trim_end() == "---" {
            return out;
        }
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            out.push((k.trim().to_string(), v.to_string()));
        }
    }
    // No closing line: not front matter.
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_read_only_when_closed() {
        let md = "---\ndescription: \"Review the diff\"\nargument-hint: [file]\n---\nBody\n";
        assert_eq!(
            front_matter(md),
            vec![
                ("description".to_string(), "Review the diff".to_string()),
                ("argument-hint".to_string(), "[file]".to_string()),
            ]
        );
        assert!(front_matter("---\ndescription: x\nno end").is_empty());
        assert!(front_matter("# Title\n---\n").is_empty());
    }

    #[test]
    fn stale_locks_are_refused() {
        assert!(check_expected("x", "", "abc").is_ok());
        assert!(check_expected("x", "ABC", "abc").is_ok());
        assert!(check_expected("x", "abd", "abc").is_err());
    }
}
