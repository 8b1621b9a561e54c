use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] codex_central_store::Error),
    #[error(transparent)]
    Common(#[from] codex_central_common::Error),
    #[error("{0}")]
    InvalidArgument(String),
    /// A request field is invalid; `field` is its dotted path (REST: 422 naming it).
    #[error("{message}")]
    InvalidField { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
}

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        match err {
            Error::Store(e) => e.into(),
            Error::Common(e) => e.into(),
            Error::InvalidArgument(msg) => Status::new(Code::InvalidArgument, msg),
            Error::InvalidField { field, message } => {
                let mut status = Status::new(Code::InvalidArgument, message);
                if let Ok(v) = tonic::metadata::MetadataValue::try_from(field.as_str()) {
                    status.metadata_mut().insert("x-field", v);
                }
                status
            }
            Error::NotFound(msg) => Status::new(Code::NotFound, msg),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
