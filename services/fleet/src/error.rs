use tonic::metadata::MetadataValue;
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] codex_central_store::Error),
    #[error(transparent)]
    Common(#[from] codex_central_common::Error),
    /// A request field is invalid; `field` is its dotted path.
    #[error("{message}")]
    InvalidField { field: String, message: String },
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Unauthenticated(String),
    /// Refused, with context for the client (e.g. the IP binding's expected and received IP).
    #[error("{message}")]
    PermissionDenied {
        message: String,
        details: Vec<(&'static str, String)>,
    },
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    NotFound(String),
    /// The kill switch is on (REST: 503).
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    FailedPrecondition(String),
    /// A single-use thing was already used or has expired (REST: 410).
    #[error("{0}")]
    Gone(String),
}

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::InvalidField {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn denied(message: impl Into<String>) -> Self {
        Error::PermissionDenied {
            message: message.into(),
            details: Vec::new(),
        }
    }
}

fn with_metadata(mut status: Status, pairs: &[(String, String)]) -> Status {
    for (key, value) in pairs {
        if let (Ok(k), Ok(v)) = (
            key.parse::<tonic::metadata::MetadataKey<tonic::metadata::Ascii>>(),
            MetadataValue::try_from(value.as_str()),
        ) {
            status.metadata_mut().insert(k, v);
        }
    }
    status
}

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        match err {
            Error::Store(e) => e.into(),
            Error::Common(e) => e.into(),
            Error::InvalidField { field, message } => with_metadata(
                Status::new(Code::InvalidArgument, message),
                &[("x-field".into(), field)],
            ),
            Error::AlreadyExists(msg) => Status::new(Code::AlreadyExists, msg),
            Error::NotFound(msg) => Status::new(Code::NotFound, msg),
            Error::Unavailable(msg) => Status::new(Code::Unavailable, msg),
            Error::FailedPrecondition(msg) => Status::new(Code::FailedPrecondition, msg),
            Error::Gone(msg) => with_metadata(
                Status::new(Code::FailedPrecondition, msg),
                &[("x-http-status".into(), "410".into())],
            ),
            Error::Unauthenticated(msg) => Status::new(Code::Unauthenticated, msg),
            Error::PermissionDenied { message, details } => {
                let pairs: Vec<(String, String)> = details
                    .into_iter()
                    .map(|(k, v)| (format!("x-detail-{}", k.replace('_', "-")), v))
                    .collect();
                with_metadata(Status::new(Code::PermissionDenied, message), &pairs)
            }
            Error::RateLimited {
                message,
                retry_after_secs,
            } => with_metadata(
                Status::new(Code::ResourceExhausted, message),
                &[("retry-after".into(), retry_after_secs.to_string())],
            ),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
