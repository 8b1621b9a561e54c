//! Names on the wire and credential parsing shared by the gateway and the services'
//! authentication layer, so both read a request the same way.

use http::HeaderMap;

/// Carries the gateway's internal credential to the services.
pub const INTERNAL_HEADER: &str = "x-cc-internal";
/// The principal the gateway authenticated (binary metadata: an encoded `Principal`).
pub const PRINCIPAL_HEADER: &str = "x-cc-principal-bin";
/// The client IP the gateway resolved.
pub const CLIENT_IP_HEADER: &str = "x-cc-client-ip";
/// The browser session cookie.
pub const SESSION_COOKIE: &str = "cc_session";
/// The header carrying a session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The peer's host-key header (`Authorization: Bearer` works too).
pub const API_KEY_HEADER: &str = "x-api-key";

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_string())
}

/// A cookie's value from every `Cookie` header; empty values count as absent.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(
            bearer(&headers(&[("authorization", "bearer  abc ")])).as_deref(),
            Some("abc")
        );
        assert_eq!(bearer(&headers(&[("authorization", "Basic abc")])), None);
        assert_eq!(bearer(&headers(&[("authorization", "Bearer ")])), None);
    }

    #[test]
    fn cookies_across_headers() {
        let h = headers(&[("cookie", "a=1; cc_session=xyz"), ("cookie", "b=\"2\"")]);
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
