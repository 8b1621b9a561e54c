//! `auth.json` against the server's canonical copy (`POST /auth`): retrieve with the local
//! digest and `last_refresh`; write the server's copy when it wins; store the local copy when
//! the server asks for it (or when Codex refreshed it during the run).

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::api::{Api, ApiError};
use crate::digest::auth_digest;
use crate::files;

/// The local auth.json as the server sees it.
pub struct LocalAuth {
    /// The compact text (what is sent on store), None when there is no usable file.
    pub compact: Option<String>,
    pub digest: String,
    pub last_refresh: String,
}

/// What a client without a file sends, as the peer's wrapper does: it is older than any
/// canonical copy, so the server answers with its copy.
const EMPTY_LAST_REFRESH: &str = "2000-01-01T00:00:00Z";

impl LocalAuth {
    pub fn read(path: &std::path::Path) -> LocalAuth {
        let text = files::read_optional(path).ok().flatten();
        let compact = text.as_deref().and_then(crate::digest::compact_json);
        match compact {
            Some(c) => {
                let last_refresh = serde_json::from_str::<Value>(&c)
                    .ok()
                    .and_then(|v| v.get("last_refresh")?.as_str().map(str::to_string))
                    .unwrap_or_else(|| EMPTY_LAST_REFRESH.into());
                LocalAuth {
                    digest: crate::digest::sha256_hex(c.as_bytes()),
                    compact: Some(c),
                    last_refresh,
                }
            }
            None => {
                let empty = format!("{{\"last_refresh\":\"{EMPTY_LAST_REFRESH}\",\"auths\":{{}}}}");
                LocalAuth {
                    digest: crate::digest::sha256_hex(empty.as_bytes()),
                    compact: None,
                    last_refresh: EMPTY_LAST_REFRESH.into(),
                }
            }
        }
    }
}

/// What the `/auth` exchange settled.
#[derive(Debug, Default)]
pub struct AuthOutcome {
    /// retrieve's status word, then store's when one followed (`valid`, `outdated`, `updated`…).
    pub status: String,
    pub canonical_digest: Option<String>,
    pub canonical_last_refresh: Option<String>,
    pub host_secure: Option<bool>,
    /// The host's Codex version pin (empty: none).
    pub codex_pin: Option<String>,
    pub quota_exceeded: bool,
    pub quota_reason: Option<String>,
    pub versions: Option<Value>,
    /// The answer's quota picture for `cdx status`: `chatgpt_usage`, `quota_projected_percent`,
    /// `token_usage_month`, `quota_limit_percent`.
    pub quota: Option<Value>,
    /// The local file was replaced with the server's copy.
    pub wrote: bool,
    /// The local copy was uploaded.
    pub stored: bool,
}

fn versions_fields() -> Value {
    serde_json::json!({
        "wrapper_version": concat!("cdx-", env!("CARGO_PKG_VERSION")),
    })
}

/// `POST /auth` retrieve, then store when the server asks and there is a local copy.
pub async fn sync(api: &Api, path: &std::path::Path) -> Result<AuthOutcome, ApiError> {
    let local = LocalAuth::read(path);
    let mut body = versions_fields();
    body["command"] = "retrieve".into();
    body["last_refresh"] = local.last_refresh.clone().into();
    body["digest"] = local.digest.clone().into();
    let (data, auth) = post_auth(api, body.to_string()).await?;
    let mut out = outcome_of(&data);
    out.wrote = apply_answer(auth.as_deref(), &local.digest, path)?;
    let asked = data.get("action").and_then(Value::as_str) == Some("store");
    if asked && let Some(compact) = &local.compact {
        let (data, auth) = store(api, compact).await?;
        let after = outcome_of(&data);
        out.stored = true;
        out.status = format!("{}+{}", out.status, after.status);
        out.canonical_digest = after.canonical_digest;
        out.canonical_last_refresh = after.canonical_last_refresh;
        out.wrote |= apply_answer(auth.as_deref(), &local.digest, path)?;
    }
    Ok(out)
}

#[derive(Deserialize)]
struct AuthField<'a> {
    #[serde(borrow, default)]
    auth: Option<&'a RawValue>,
}

/// Posts to `/auth`: the answer's `data`, and its `auth` document as text (number text and
/// key order as the server sent them).
async fn post_auth(api: &Api, body: String) -> Result<(Value, Option<String>), ApiError> {
    let raw = api
        .call_raw(reqwest::Method::POST, "/auth", Some(body))
        .await?;
    let data: Value =
        serde_json::from_str(raw.get()).map_err(|e| ApiError::Other(format!("/auth: {e}")))?;
    let auth = serde_json::from_str::<AuthField>(raw.get())
        .ok()
        .and_then(|f| f.auth)
        .filter(|a| a.get().trim_start().starts_with('{'))
        .map(|a| a.get().to_string());
    Ok((data, auth))
}

/// `POST /auth` store with the document's own text (number text and key order survive).
pub async fn store(api: &Api, compact: &str) -> Result<(Value, Option<String>), ApiError> {
    let raw = RawValue::from_string(compact.to_string())
        .map_err(|_| ApiError::Other("auth.json is not JSON".into()))?;
    let mut body = serde_json::Map::new();
    body.insert("command".into(), "store".into());
    if let Value::Object(v) = versions_fields() {
        body.extend(v);
    }
    // serde_json cannot put a RawValue in a Value: splice the text in.
    let head = serde_json::to_string(&body).map_err(|e| ApiError::Other(e.to_string()))?;
    let text = format!("{},\"auth\":{}}}", &head[..head.len() - 1], raw.get());
    post_auth(api, text).await
}

/// Writes the answer's `auth` (0600, atomically) when it differs from the local copy.
fn apply_answer(
    auth: Option<&str>,
    local_digest: &str,
    path: &std::path::Path,
) -> Result<bool, ApiError> {
    let Some(text) = auth.and_then(crate::digest::compact_json) else {
        return Ok(false);
    };
    if auth_digest(&text).as_deref() == Some(local_digest) {
        return Ok(false);
    }
    files::write_atomic(path, text.as_bytes(), files::SECRET)
        .map_err(|e| ApiError::Other(e.to_string()))?;
    Ok(true)
}

fn outcome_of(data: &Value) -> AuthOutcome {
    let s = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
    AuthOutcome {
        status: s("status").unwrap_or_default(),
        canonical_digest: s("canonical_digest"),
        canonical_last_refresh: s("canonical_last_refresh"),
        host_secure: data
            .get("host")
            .and_then(|h| h.get("secure"))
            .and_then(|v| v.as_bool().or_else(|| v.as_i64().map(|n| n != 0))),
        codex_pin: data
            .get("host")
            .and_then(|h| h.get("client_version_override"))
            .and_then(Value::as_str)
            .map(str::to_string),
        quota_exceeded: data
            .get("quota_exceeded")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        quota_reason: s("quota_reason"),
        versions: data.get("versions").cloned(),
        quota: Some(serde_json::json!({
            "chatgpt_usage": data.get("chatgpt_usage"),
            "quota_projected_percent": data.get("quota_projected_percent"),
            "token_usage_month": data.get("token_usage_month"),
            "quota_limit_percent": data.get("quota_limit_percent"),
        })),
        wrote: false,
        stored: false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn local_auth_digest_and_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.json");
        let none = LocalAuth::read(&p);
        assert!(none.compact.is_none());
        assert_eq!(none.last_refresh, EMPTY_LAST_REFRESH);
        std::fs::write(
            &p,
            "{\n  \"tokens\": {\"a\": 1.50},\n  \"last_refresh\": \"2026-11-23T17:57:41Z\"\n}\n",
        )
        .unwrap();
        let l = LocalAuth::read(&p);
        assert_eq!(
            l.compact.as_deref(),
            Some("{\"tokens\":{\"a\":1.50},\"last_refresh\":\"2026-11-23T17:57:41Z\"}")
        );
        assert_eq!(l.last_refresh, "2026-11-23T17:57:41Z");
    }

    #[test]
    fn answer_is_written_only_when_it_differs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("auth.json");
        let text = r#"{"OPENAI_API_KEY":null,"tokens":{"access_token":"x/y"},"n":1.50,"last_refresh":"2026-11-23T17:57:41Z"}"#;
        let digest = auth_digest(text).unwrap();
        assert!(!apply_answer(Some(text), &digest, &p).unwrap());
        assert!(!p.exists());
        assert!(apply_answer(Some(text), "other", &p).unwrap());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        assert!(!apply_answer(None, "other", &p).unwrap());
    }

    #[test]
    fn outcome_reads_the_contract_fields() {
        let o = outcome_of(
            &json!({"status": "outdated", "canonical_digest": "d", "host": {"secure": false},
            "cdx_silent": true, "quota_exceeded": true, "quota_reason": "weekly 98%"}),
        );
        assert_eq!(o.host_secure, Some(false));
        assert!(o.quota_exceeded);
        assert_eq!(o.quota_reason.as_deref(), Some("weekly 98%"));
    }
}
