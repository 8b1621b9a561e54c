//! The dashboard SPA's files (`clients/dashboard/dist`): `index.html` at `/admin/` for a
//! signed-in viewer, with the session's CSRF token in a meta tag and a strict
//! Content-Security-Policy, and the content-hashed bundles under `/admin/assets/`, cached for a
//! year. Release builds serve the copy embedded at build time (`gateway/build.rs`); debug builds
//! read the folder on every request so a rebuilt dashboard needs no server rebuild.

use std::borrow::Cow;

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Scripts, styles, images, fonts and requests from this origin only; nothing inline.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

#[cfg(not(debug_assertions))]
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/dashboard.rs"));
}

/// One built file by its path below `dist`.
fn file(name: &str) -> Option<Cow<'static, [u8]>> {
    #[cfg(not(debug_assertions))]
    {
        let files = embedded::FILES;
        files
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| Cow::Borrowed(files[i].1))
    }
    #[cfg(debug_assertions)]
    {
        let dist =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../clients/dashboard/dist");
        std::fs::read(dist.join(name)).ok().map(Cow::Owned)
    }
}

/// The SPA's page for a viewer, or `None` when the dashboard was not built into this server.
/// `csrf` is empty in local mode, where grpc-web calls need none.
pub fn index(csrf: &str) -> Option<Response> {
    let html = file("index.html")?;
    let html = String::from_utf8_lossy(&html);
    let meta = format!(r#"<meta name="csrf-token" content="{}">"#, attribute(csrf));
    let page = match html.find("</head>") {
        Some(at) => format!("{}{meta}{}", &html[..at], &html[at..]),
        None => format!("{meta}{html}"),
    };
    let mut res = ([(CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    let h = res.headers_mut();
    // Revalidated on every load, so a new release's bundle names are picked up at once.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Some(res)
}

/// `GET /admin/assets/{*path}`: a built bundle. Names carry a content hash, so an answer never
/// changes and is cached for a year.
pub async fn asset(Path(path): Path<String>) -> Response {
    let Some(bytes) = safe_name(&path)
        .then(|| file(&format!("assets/{path}")))
        .flatten()
    else {
        return (
            StatusCode::NOT_FOUND,
            [(CACHE_CONTROL, "no-store")],
            "no such dashboard file",
        )
            .into_response();
    };
    let mut res = ([(CONTENT_TYPE, content_type(&path))], bytes.into_owned()).into_response();
    let h = res.headers_mut();
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// Plain names only: letters, digits, `.`, `_`, `-` in `/`-separated parts that do not start
/// with a dot (so no `..`, no hidden files, no absolute paths).
fn safe_name(path: &str) -> bool {
    path.len() <= 200
        && path.split('/').all(|part| {
            !part.is_empty()
                && !part.starts_with('.')
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("json" | "map") => "application/json",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Escapes a value for a double-quoted HTML attribute.
fn attribute(value: &str) -> Cow<'_, str> {
    if !value.contains(['&', '"', '<', '>']) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_asset_names() {
        for ok in ["index-3f2a.js", "fonts/a_b.woff2", "x.css"] {
            assert!(safe_name(ok), "{ok}");
        }
        for bad in [
            "",
            "../secret",
            "a/../b",
            ".env",
            "a//b",
            "/abs",
            "a\\b",
            "a b",
            "%2e%2e",
        ] {
            assert!(!safe_name(bad), "{bad}");
        }
    }

    #[test]
    fn attribute_values_are_escaped() {
        assert_eq!(attribute("abc"), "abc");
        assert_eq!(attribute(r#""><x"#), "&quot;&gt;&lt;x");
    }
}
