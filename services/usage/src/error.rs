use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] codex_central_store::Error),
    #[error(transparent)]
    Common(#[from] codex_central_common::Error),
    #[error("{0}")]
    InvalidArgument(String),
}

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        match err {
            Error::Store(e) => e.into(),
            Error::Common(e) => e.into(),
            Error::InvalidArgument(msg) => Status::new(Code::InvalidArgument, msg),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
