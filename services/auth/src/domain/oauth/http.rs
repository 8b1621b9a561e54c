//! The HTTP client the OAuth/OIDC crates call through: our own reqwest (one TLS stack in the
//! binary), no redirects (a token or discovery endpoint that redirects is refused rather than
//! followed somewhere else), short timeouts and a bounded body.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Discovery documents, JWKS, tokens and profiles are small.
const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Http(reqwest::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(pub String);

impl Http {
    pub fn new() -> Result<Self, HttpError> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .user_agent(concat!("codex-central/", env!("CARGO_PKG_VERSION")))
            .build()
            .map(Http)
            .map_err(|e| HttpError(format!("HTTP client: {e}")))
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.0
    }
}

/// Reads a response body up to [`MAX_BODY`].
pub async fn bounded_body(res: reqwest::Response) -> Result<Vec<u8>, HttpError> {
    let mut res = res;
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| HttpError(format!("reading the answer failed: {e}")))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            return Err(HttpError("the answer is larger than 1 MiB".into()));
        }
    }
    Ok(body)
}

impl<'c> oauth2::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let res = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| HttpError(format!("request to {} failed: {e}", parts.uri)))?;
            let status = res.status();
            let headers = res.headers().clone();
            let body = bounded_body(res).await?;
            let mut out = http::Response::new(body);
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}
