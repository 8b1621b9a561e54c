use sea_orm::DbErr;

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

/// What clients are told to wait before retrying while the database is away.
const RETRY_AFTER_SECS: u64 = 5;

/// Services see store failures as the base error. Database outages are `Unavailable` (the
/// caller may retry); anything else is internal, with the cause kept for the log only.
impl From<Error> for codex_central_common::Error {
    fn from(err: Error) -> Self {
        use codex_central_common::Error as Base;
        match err {
            Error::InvalidUrl(msg) => Base::invalid_argument(msg),
            Error::Unavailable(msg) => {
                tracing::warn!(error = %msg, "database unavailable");
                Base::unavailable("database unavailable").with_retry_after(RETRY_AFTER_SECS)
            }
            Error::NotFound(msg) => Base::not_found(msg),
            Error::Conflict(msg) => Base::already_exists(msg),
            Error::Corrupt(msg) => Base::internal(format!("corrupt stored data: {msg}")),
            Error::Db(err) if is_connection_error(&err) => {
                tracing::warn!(error = %err, "database unavailable");
                Base::unavailable("database unavailable").with_retry_after(RETRY_AFTER_SECS)
            }
            Error::Db(err) => Base::internal(format!("database error: {err}")),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
