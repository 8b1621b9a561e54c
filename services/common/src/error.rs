//! The common crate's error: what shared helpers (crypto, principals, validation) can fail with.

use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value from outside (request field, flag, file) is malformed.
    #[error("{0}")]
    InvalidArgument(String),
    /// No credential, or a credential that matches nothing.
    #[error("{0}")]
    Unauthenticated(String),
    /// A known principal asked for something it may not do.
    #[error("{0}")]
    PermissionDenied(String),
    /// Decryption failed: wrong master key, unknown key id or tampered ciphertext.
    #[error("{0}")]
    Decrypt(String),
    /// The master key (env or file) is missing, unreadable or malformed.
    #[error("{0}")]
    MasterKey(String),
    /// A failure of the OS or a library that the caller cannot fix (RNG, hashing).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        let code = match &err {
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::Unauthenticated(_) => Code::Unauthenticated,
            Error::PermissionDenied(_) => Code::PermissionDenied,
            Error::Decrypt(_) | Error::MasterKey(_) => Code::FailedPrecondition,
            Error::Internal(_) => Code::Internal,
        };
        Status::new(code, err.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
