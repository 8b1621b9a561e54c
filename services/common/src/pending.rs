//! RPCs that are part of the settled contract but land with a later issue answer
//! `UNIMPLEMENTED` with a message naming what is missing, instead of a fake success.

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
