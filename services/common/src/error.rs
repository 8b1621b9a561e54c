//! The one base error of codex-central. Every service's error is this value (see
//! `codex_central_proto::service_error!`); the proto crate maps it to a `tonic::Status` with
//! standard rich details once, and the gateway decodes those details back into this value and
//! renders it as the REST envelope or the OpenAI error shape. Nothing here knows about gRPC.

use std::borrow::Cow;
use std::fmt;

/// What went wrong, in the terms every surface maps: a gRPC code, an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value from outside (request field, flag, file) is malformed (HTTP 422).
    InvalidArgument,
    /// No credential, or a credential that matches nothing (401).
    Unauthenticated,
    /// A known principal asked for something it may not do (403).
    PermissionDenied,
    NotFound,
    AlreadyExists,
    /// The request is well-formed but the state of things forbids it (409).
    FailedPrecondition,
    /// A single-use thing was already used or has expired (410).
    Gone,
    /// Too many attempts (429, with a retry delay).
    RateLimited,
    /// A dependency (database, upstream, kill switch) is not available now (503).
    Unavailable,
    DeadlineExceeded,
    Unimplemented,
    Cancelled,
    /// A failure the caller cannot fix; the message is logged, never shown.
    Internal,
}

impl Kind {
    /// The stable reason code used when an error names no more specific one.
    pub const fn default_reason(self) -> &'static str {
        match self {
            Kind::InvalidArgument => "invalid_argument",
            Kind::Unauthenticated => "unauthenticated",
            Kind::PermissionDenied => "permission_denied",
            Kind::NotFound => "not_found",
            Kind::AlreadyExists => "already_exists",
            Kind::FailedPrecondition => "failed_precondition",
            Kind::Gone => "gone",
            Kind::RateLimited => "rate_limited",
            Kind::Unavailable => "unavailable",
            Kind::DeadlineExceeded => "deadline_exceeded",
            Kind::Unimplemented => "not_implemented",
            Kind::Cancelled => "cancelled",
            Kind::Internal => "internal",
        }
    }
}

/// One invalid field: its dotted path (`usages.3.input`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// The base error: a kind, a message safe to show, and the structured details every surface
/// renders (field violations, a retry delay, a stable reason with context).
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: Kind,
    message: String,
    reason: Option<Cow<'static, str>>,
    fields: Vec<FieldViolation>,
    retry_after_secs: Option<u64>,
    metadata: Vec<(String, String)>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            reason: None,
            fields: Vec::new(),
            retry_after_secs: None,
            metadata: Vec::new(),
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(Kind::InvalidArgument, message)
    }

    /// An invalid request field, named by its dotted path.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::invalid_fields(
            message.clone(),
            vec![FieldViolation {
                field: field.into(),
                description: message,
            }],
        )
    }

    pub fn invalid_fields(message: impl Into<String>, fields: Vec<FieldViolation>) -> Self {
        Error {
            fields,
            ..Self::new(Kind::InvalidArgument, message)
        }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(Kind::Unauthenticated, message)
    }

    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::new(Kind::PermissionDenied, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, message)
    }

    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(Kind::AlreadyExists, message)
    }

    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(Kind::FailedPrecondition, message)
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(Kind::Gone, message)
    }

    pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Error {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(Kind::RateLimited, message)
        }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Kind::Unavailable, message)
    }

    pub fn unimplemented(message: impl Into<String>) -> Self {
        Self::new(Kind::Unimplemented, message)
    }

    /// Decryption failed: wrong master key, unknown key id or tampered ciphertext.
    pub fn decrypt(message: impl Into<String>) -> Self {
        Self::failed_precondition(message).with_reason("decrypt_failed")
    }

    /// The master key (env or file) is missing, unreadable or malformed.
    pub fn master_key(message: impl Into<String>) -> Self {
        Self::failed_precondition(message).with_reason("master_key")
    }

    /// A failure the caller cannot fix. `message` is for the logs: every surface shows clients
    /// a fixed text instead.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Kind::Internal, message)
    }

    /// A stable machine-readable reason (`model_not_allowed`, `ip_mismatch`) instead of the
    /// kind's default.
    pub fn with_reason(mut self, reason: impl Into<Cow<'static, str>>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Context for the client (e.g. the IP binding's `expected_ip`); never a secret.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The stable reason: the one given, else the kind's default.
    pub fn reason(&self) -> &str {
        self.reason
            .as_deref()
            .unwrap_or_else(|| self.kind.default_reason())
    }

    pub fn fields(&self) -> &[FieldViolation] {
        &self.fields
    }

    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }

    pub fn metadata(&self) -> &[(String, String)] {
        &self.metadata
    }

    /// What a client may see: internal details stay in the logs.
    pub fn public_message(&self) -> &str {
        if self.kind == Kind::Internal {
            "internal server error"
        } else {
            &self.message
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(reason) = &self.reason {
            d.field("reason", reason);
        }
        if !self.fields.is_empty() {
            d.field("fields", &self.fields);
        }
        if let Some(secs) = self.retry_after_secs {
            d.field("retry_after_secs", &secs);
        }
        if !self.metadata.is_empty() {
            d.field("metadata", &self.metadata);
        }
        d.finish()
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_default_to_the_kind() {
        assert_eq!(Error::not_found("x").reason(), "not_found");
        assert_eq!(
            Error::permission_denied("x")
                .with_reason("ip_mismatch")
                .reason(),
            "ip_mismatch"
        );
        let e = Error::invalid_field("usages.3.input", "must be a number");
        assert_eq!(e.fields()[0].field, "usages.3.input");
        assert_eq!(
            Error::internal("db exploded").public_message(),
            "internal server error"
        );
    }
}
