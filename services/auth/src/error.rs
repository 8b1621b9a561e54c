codex_central_proto::service_error!(codex_central_store::Error);

impl Error {
    /// A sign-in provider failed or answered something unusable.
    pub fn provider(message: impl Into<String>) -> Self {
        Error::unavailable(message).with_reason("sign_in_provider_failed")
    }
}
