use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] codex_central_store::Error),
    #[error(transparent)]
    Common(#[from] codex_central_common::Error),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    PermissionDenied(String),
    /// The request is well-formed but the state of things forbids it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A sign-in provider failed or answered something unusable.
    #[error("{0}")]
    Provider(String),
    /// Too many attempts: try again after this many seconds.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// A request field is invalid; `field` is its dotted path (e.g. `auth.last_refresh`).
    #[error("{message}")]
    InvalidField { field: String, message: String },
}

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        match err {
            Error::Store(e) => e.into(),
            Error::Common(e) => e.into(),
            Error::InvalidArgument(msg) => Status::new(Code::InvalidArgument, msg),
            Error::Unauthenticated(msg) => Status::new(Code::Unauthenticated, msg),
            Error::PermissionDenied(msg) => Status::new(Code::PermissionDenied, msg),
            Error::FailedPrecondition(msg) => Status::new(Code::FailedPrecondition, msg),
            Error::Provider(msg) => Status::new(Code::Unavailable, msg),
            Error::RateLimited {
                message,
                retry_after_secs,
            } => {
                let mut status = Status::new(Code::ResourceExhausted, message);
                if let Ok(v) =
                    tonic::metadata::MetadataValue::try_from(retry_after_secs.to_string())
                {
                    status.metadata_mut().insert("retry-after", v);
                }
                status
            }
            Error::InvalidField { field, message } => {
                let mut status = Status::new(Code::InvalidArgument, message);
                if let Ok(v) = tonic::metadata::MetadataValue::try_from(field.as_str()) {
                    status.metadata_mut().insert("x-field", v);
                }
                status
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
