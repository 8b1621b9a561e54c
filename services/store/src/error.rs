use sea_orm::DbErr;
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL is not one we support or is malformed.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database could not be reached or refused the connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A row that the caller named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A uniqueness rule was violated (e.g. a duplicate name).
    #[error("{0}")]
    Conflict(String),
    /// Stored data that cannot be decoded (corruption or a newer schema).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

fn is_connection_error(err: &DbErr) -> bool {
    matches!(err, DbErr::Conn(_) | DbErr::ConnectionAcquire(_))
}

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        match err {
            Error::InvalidUrl(msg) => Status::new(Code::InvalidArgument, msg),
            Error::Unavailable(msg) => {
                tracing::warn!(error = %msg, "database unavailable");
                Status::new(Code::Unavailable, "database unavailable")
            }
            Error::NotFound(msg) => Status::new(Code::NotFound, msg),
            Error::Conflict(msg) => Status::new(Code::AlreadyExists, msg),
            Error::Corrupt(msg) => {
                tracing::error!(error = %msg, "corrupt stored data");
                Status::new(Code::Internal, "stored data is invalid")
            }
            Error::Db(err) => {
                if is_connection_error(&err) {
                    tracing::warn!(error = %err, "database unavailable");
                    Status::new(Code::Unavailable, "database unavailable")
                } else {
                    tracing::error!(error = %err, "database error");
                    Status::new(Code::Internal, "database error")
                }
            }
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
