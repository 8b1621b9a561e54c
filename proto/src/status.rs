//! The one mapping between the base error (`codex_central_common::Error`) and `tonic::Status`.
//! Details travel as the standard rich error model (`google.rpc.Status` in
//! `grpc-status-details-bin`): `BadRequest` field violations with dotted paths, `RetryInfo`,
//! and `ErrorInfo` with a stable reason and context, so grpcurl, grpcio-status and the gateway
//! all read the same thing.

use std::collections::HashMap;
use std::time::Duration;

use codex_central_common::error::{Error, FieldViolation, Kind};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// `ErrorInfo.domain` of every error codex-central raises.
pub const ERROR_DOMAIN: &str = "codex-central";

/// The gRPC code of each kind. `Gone` has no code of its own: it travels as
/// `FAILED_PRECONDITION` with reason `gone`, which [`decode`] turns back into `Gone`.
pub fn code_of(kind: Kind) -> Code {
    match kind {
        Kind::InvalidArgument => Code::InvalidArgument,
        Kind::Unauthenticated => Code::Unauthenticated,
        Kind::PermissionDenied => Code::PermissionDenied,
        Kind::NotFound => Code::NotFound,
        Kind::AlreadyExists => Code::AlreadyExists,
        Kind::FailedPrecondition | Kind::Gone => Code::FailedPrecondition,
        Kind::RateLimited => Code::ResourceExhausted,
        Kind::Unavailable => Code::Unavailable,
        Kind::DeadlineExceeded => Code::DeadlineExceeded,
        Kind::Unimplemented => Code::Unimplemented,
        Kind::Cancelled => Code::Cancelled,
        Kind::Internal => Code::Internal,
    }
}

fn kind_of(code: Code, reason: &str) -> Kind {
    match code {
        Code::InvalidArgument | Code::OutOfRange => Kind::InvalidArgument,
        Code::Unauthenticated => Kind::Unauthenticated,
        Code::PermissionDenied => Kind::PermissionDenied,
        Code::NotFound => Kind::NotFound,
        Code::AlreadyExists => Kind::AlreadyExists,
        Code::FailedPrecondition if reason == Kind::Gone.default_reason() => Kind::Gone,
        Code::FailedPrecondition | Code::Aborted => Kind::FailedPrecondition,
        Code::ResourceExhausted => Kind::RateLimited,
        Code::Unavailable => Kind::Unavailable,
        Code::DeadlineExceeded => Kind::DeadlineExceeded,
        Code::Unimplemented => Kind::Unimplemented,
        Code::Cancelled => Kind::Cancelled,
        Code::Ok | Code::Unknown | Code::Internal | Code::DataLoss => Kind::Internal,
    }
}

/// The status for an error. Internal errors are logged here, in the span of the call (which
/// carries the request id), and reach the caller only as a fixed message.
pub fn encode(err: &Error) -> Status {
    if err.kind() == Kind::Internal {
        tracing::error!(error = %err.message(), "internal error");
    }
    let mut details = ErrorDetails::new();
    let metadata: HashMap<String, String> = err.metadata().iter().cloned().collect();
    let reason = match err.kind() {
        Kind::Gone => Kind::Gone.default_reason(),
        _ => err.reason(),
    };
    details.set_error_info(reason, ERROR_DOMAIN, metadata);
    for violation in err.fields() {
        details.add_bad_request_violation(&violation.field, &violation.description);
    }
    if let Some(secs) = err.retry_after_secs() {
        details.set_retry_info(Some(Duration::from_secs(secs)));
    }
    Status::with_error_details(code_of(err.kind()), err.public_message(), details)
}

/// The error a status carries. Statuses without rich details (from tonic itself, a proxy or
/// an older peer) decode to their code's kind and message.
pub fn decode(status: &Status) -> Error {
    let details = status.get_error_details();
    let info = details.error_info();
    let reason = info.map(|i| i.reason.as_str()).unwrap_or_default();
    let kind = kind_of(status.code(), reason);
    let mut err = match details.bad_request() {
        Some(bad) if !bad.field_violations.is_empty() => Error::invalid_fields(
            status.message(),
            bad.field_violations
                .iter()
                .map(|v| FieldViolation {
                    field: v.field.clone(),
                    description: v.description.clone(),
                })
                .collect(),
        ),
        _ => Error::new(kind, status.message()),
    };
    if let Some(info) = info {
        if !info.reason.is_empty() && info.reason != kind.default_reason() {
            err = err.with_reason(info.reason.clone());
        }
        let mut pairs: Vec<(&String, &String)> = info.metadata.iter().collect();
        pairs.sort();
        for (key, value) in pairs {
            err = err.with_metadata(key.clone(), value.clone());
        }
    }
    if let Some(delay) = details.retry_info().and_then(|r| r.retry_delay) {
        err = err.with_retry_after(delay.as_secs().max(1));
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_survive_the_round_trip() {
        let sent = Error::permission_denied("IP mismatch")
            .with_reason("ip_mismatch")
            .with_metadata("expected_ip", "10.0.0.1")
            .with_metadata("received_ip", "10.0.0.2");
        let got = decode(&encode(&sent));
        assert_eq!(got, sent);

        let sent = Error::invalid_field("usages.3.input", "must be a number");
        assert_eq!(decode(&encode(&sent)), sent);

        let sent = Error::rate_limited("slow down", 42);
        let status = encode(&sent);
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(decode(&status), sent);

        let sent = Error::gone("Installer already used");
        let status = encode(&sent);
        assert_eq!(status.code(), Code::FailedPrecondition);
        assert_eq!(decode(&status).kind(), Kind::Gone);
    }

    #[test]
    fn internal_messages_stay_inside() {
        let status = encode(&Error::internal("connection string postgres://secret@db"));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal server error");
    }

    #[test]
    fn plain_statuses_decode_by_code() {
        let err = decode(&Status::not_found("no such host"));
        assert_eq!(err.kind(), Kind::NotFound);
        assert_eq!(err.message(), "no such host");
        assert_eq!(err.reason(), "not_found");
    }
}
