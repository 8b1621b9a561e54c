//! Why cdx stops before Codex runs, and the exit code each reason gets.
//!
//! Exit codes (documented in the crate README):
//! - Codex's own code when Codex ran (a signal death is 128 + the signal number);
//! - 69: the server is unreachable and the cached auth.json is too old (or absent);
//! - 77: the server refused this host (401/403: unknown or disabled key, IP binding,
//!   insecure window closed);
//! - 78: cdx's configuration is missing or invalid;
//! - 79: the fleet's API is disabled by an administrator (kill switch);
//! - 80: the fleet is over its quota and the policy is hard fail;
//! - 65: `cdx --update` refused a download whose sha256 does not match;
//! - 126 / 127: Codex could not be started / was not found;
//! - 70: anything else (an unexpected server answer, a file that cannot be written).

use thiserror::Error;

pub mod code {
    pub const CHECKSUM: i32 = 65;
    pub const OFFLINE: i32 = 69;
    pub const SOFTWARE: i32 = 70;
    pub const DENIED: i32 = 77;
    pub const CONFIG: i32 = 78;
    pub const KILL_SWITCH: i32 = 79;
    pub const QUOTA: i32 = 80;
    pub const NOT_EXECUTABLE: i32 = 126;
    pub const NOT_FOUND: i32 = 127;
}

/// Messages never hold a token or the host key: they are built from server messages, paths
/// and cdx's own words only.
#[derive(Debug, Error, PartialEq)]
pub enum CdxError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Offline(String),
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    KillSwitch(String),
    #[error("{0}")]
    Quota(String),
    #[error("{0}")]
    Codex(String, i32),
    #[error("{0}")]
    Checksum(String),
    #[error("{0}")]
    Other(String),
}

impl CdxError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CdxError::Config(_) => code::CONFIG,
            CdxError::Offline(_) => code::OFFLINE,
            CdxError::Denied(_) => code::DENIED,
            CdxError::KillSwitch(_) => code::KILL_SWITCH,
            CdxError::Quota(_) => code::QUOTA,
            CdxError::Codex(_, c) => *c,
            CdxError::Checksum(_) => code::CHECKSUM,
            CdxError::Other(_) => code::SOFTWARE,
        }
    }
}

impl From<std::io::Error> for CdxError {
    fn from(e: std::io::Error) -> Self {
        CdxError::Other(e.to_string())
    }
}

impl From<crate::api::ApiError> for CdxError {
    fn from(e: crate::api::ApiError) -> Self {
        use crate::api::ApiError;
        match e {
            ApiError::Offline(m) => {
                CdxError::Offline(format!("cdx: the server is unreachable: {m}"))
            }
            ApiError::Denied(m) => {
                CdxError::Denied(format!("cdx: the server refused this host: {m}"))
            }
            ApiError::KillSwitch(m) => CdxError::KillSwitch(format!("cdx: {m}")),
            ApiError::Other(m) => CdxError::Other(m),
        }
    }
}
