//! Macros the service crates expand: their error type, and contract RPCs not built yet.

/// Declares a service crate's `Error`: the base error (`codex_central_common::Error`) in a
/// local newtype, so the crate can turn it into a `tonic::Status` through the one mapping in
/// [`crate::status`] and `?` works on every error source the crate names (the store's, say).
/// The base error's constructors are forwarded (`Error::not_found(..)`, ...).
#[macro_export]
macro_rules! service_error {
    ($($source:ty),* $(,)?) => {
        /// This crate's error: the shared base error, mapped to a gRPC status in one place.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Error(pub ::codex_central_common::Error);

        pub type Result<T, E = Error> = ::std::result::Result<T, E>;

        impl ::std::fmt::Display for Error {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::error::Error for Error {}

        impl ::std::ops::Deref for Error {
            type Target = ::codex_central_common::Error;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl From<::codex_central_common::Error> for Error {
            fn from(err: ::codex_central_common::Error) -> Self {
                Error(err)
            }
        }

        $(impl From<$source> for Error {
            fn from(err: $source) -> Self {
                Error(err.into())
            }
        })*

        impl From<Error> for ::tonic::Status {
            fn from(err: Error) -> Self {
                $crate::status::encode(&err.0)
            }
        }

        $crate::forward_constructors! {
            invalid_argument(message);
            unauthenticated(message);
            permission_denied(message);
            not_found(message);
            already_exists(message);
            failed_precondition(message);
            gone(message);
            unavailable(message);
            internal(message);
        }

        impl Error {
            /// An invalid request field, named by its dotted path.
            pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
                Error(::codex_central_common::Error::invalid_field(field, message))
            }

            pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> Self {
                Error(::codex_central_common::Error::rate_limited(message, retry_after_secs))
            }

            pub fn with_reason(self, reason: impl Into<::std::borrow::Cow<'static, str>>) -> Self {
                Error(self.0.with_reason(reason))
            }

            pub fn with_metadata(self, key: impl Into<String>, value: impl Into<String>) -> Self {
                Error(self.0.with_metadata(key, value))
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! forward_constructors {
    ($($name:ident(message);)+) => {
        impl Error {
            $(pub fn $name(message: impl Into<String>) -> Self {
                Error(::codex_central_common::Error::$name(message))
            })+
        }
    };
}

/// RPCs that are part of the settled contract but not built yet answer `UNIMPLEMENTED` with a
/// message naming what is missing, instead of a fake success.
///
/// Expands, inside a `#[tonic::async_trait]` impl, to methods in the exact shape `async_trait`
/// gives trait methods (the attribute does not see through macro calls, so the expansion must
/// already be desugared).
#[macro_export]
macro_rules! pending_rpcs {
    ($($method:ident($req:ty) -> $resp:ty;)+) => {$(
        fn $method<'life0, 'async_trait>(
            &'life0 self,
            _request: ::tonic::Request<$req>,
        ) -> ::core::pin::Pin<
            Box<
                dyn ::core::future::Future<
                        Output = ::std::result::Result<::tonic::Response<$resp>, ::tonic::Status>,
                    > + ::core::marker::Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(async move {
                Err(::tonic::Status::unimplemented(concat!(
                    stringify!($method),
                    " is part of the API contract but not implemented in this version"
                )))
            })
        }
    )+};
}
