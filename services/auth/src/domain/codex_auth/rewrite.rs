//! Edits of a stored document that keep everything else as it was (member order, number text,
//! other keys): a refresh's new tokens, and refresh-token custody's placeholder.

use chrono::{DateTime, SecondsFormat, Utc};

use super::FieldError;
use super::document::CanonicalDocument;
use super::json::{self, Json};

/// What hosts receive in place of the refresh token when the server keeps it (custody mode
/// `server`). It passes the token checks, so Codex and the peer wrapper handle it like any
/// token, and a host that stores it back is recognised.
pub const CUSTODY_PLACEHOLDER: &str = "codex-central-custody:the-server-keeps-this-refresh-token";

/// The tokens an identity provider answered a refresh with; each one is optional.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NewTokens {
    pub id_token: Option<String>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for NewTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewTokens")
            .field("id_token", &self.id_token.is_some())
            .field("access_token", &self.access_token.is_some())
            .field("refresh_token", &self.refresh_token.is_some())
            .finish()
    }
}

/// `tokens.refresh_token` of a document, when it has a non-empty one.
pub fn refresh_token(text: &str) -> Option<String> {
    let root = json::parse(text).ok()?;
    match root.get("tokens")?.get("refresh_token")? {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The document with the refreshed tokens in place and `last_refresh` set to `now` (Codex's
/// own format), everything else untouched; validated like an upload.
pub fn with_new_tokens(
    text: &str,
    tokens: &NewTokens,
    now: DateTime<Utc>,
) -> Result<CanonicalDocument, FieldError> {
    let mut root = json::parse(text)?;
    let Json::Object(members) = &mut root else {
        return Err(FieldError::new("auth", "must be a JSON object"));
    };
    let Some(Json::Object(token_members)) = member_mut(members, "tokens") else {
        return Err(FieldError::new(
            "auth.tokens",
            "must be an object to refresh",
        ));
    };
    for (key, value) in [
        ("id_token", &tokens.id_token),
        ("access_token", &tokens.access_token),
        ("refresh_token", &tokens.refresh_token),
    ] {
        if let Some(value) = value {
            set(token_members, key, Json::String(value.clone()));
        }
    }
    set(
        members,
        "last_refresh",
        Json::String(now.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
    );
    CanonicalDocument::parse(&root.to_compact(), now)
}

/// What a host receives under custody: the refresh token replaced by [`CUSTODY_PLACEHOLDER`].
/// `None` when the document has no refresh token to keep back.
pub fn custody_view(text: &str) -> Option<String> {
    replace_refresh_token(text, |current| {
        (current != CUSTODY_PLACEHOLDER).then(|| CUSTODY_PLACEHOLDER.to_string())
    })
}

/// A host's upload with the placeholder swapped back for the server's `real` refresh token;
/// `None` when the upload carries no placeholder (it is stored as sent).
pub fn restore_custody(upload: &str, real: &str) -> Option<String> {
    replace_refresh_token(upload, |current| {
        (current == CUSTODY_PLACEHOLDER).then(|| real.to_string())
    })
}

/// Rewrites `tokens.refresh_token` with what `with` returns for it (None: leave the document).
fn replace_refresh_token(text: &str, with: impl FnOnce(&str) -> Option<String>) -> Option<String> {
    let mut root = json::parse(text).ok()?;
    let Json::Object(members) = &mut root else {
        return None;
    };
    let Some(Json::Object(tokens)) = member_mut(members, "tokens") else {
        return None;
    };
    let Some(Json::String(current)) = member_mut(tokens, "refresh_token") else {
        return None;
    };
    if current.is_empty() {
        return None;
    }
    *current = with(current)?;
    Some(root.to_compact())
}

fn member_mut<'a>(members: &'a mut [(String, Json)], key: &str) -> Option<&'a mut Json> {
    members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Replaces a member's value where it stands, or appends the member.
fn set(members: &mut Vec<(String, Json)>, key: &str, value: Json) {
    match member_mut(members, key) {
        Some(slot) => *slot = value,
        None => members.push((key.to_string(), value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"OPENAI_API_KEY":null,"tokens":{"id_token":"id-0123456789abcdefghijklmnop","access_token":"at-0123456789abcdefghijklmnop","refresh_token":"rt-0123456789abcdefghijklmnop","account_id":"acct-1"},"last_refresh":"2026-12-01T00:00:00.123456789Z","extra":{"n":1.50}}"#;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-04T10:00:00.5Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn new_tokens_replace_in_place_and_keep_everything_else() {
        let tokens = NewTokens {
            id_token: None,
            access_token: Some("at-NEW-0123456789abcdefghijk".into()),
            refresh_token: Some("rt-NEW-0123456789abcdefghijk".into()),
        };
        let doc = with_new_tokens(DOC, &tokens, now()).expect("valid");
        assert_eq!(
            doc.text,
            r#"{"OPENAI_API_KEY":null,"tokens":{"id_token":"id-0123456789abcdefghijklmnop","access_token":"at-NEW-0123456789abcdefghijk","refresh_token":"rt-NEW-0123456789abcdefghijk","account_id":"acct-1"},"last_refresh":"2026-12-04T10:00:00.500Z","extra":{"n":1.50}}"#
        );
        assert_eq!(doc.last_refresh_at, now());
    }

    #[test]
    fn missing_members_are_appended() {
        let doc = r#"{"tokens":{"access_token":"at-0123456789abcdefghijklmnop"},"last_refresh":"2026-12-01T00:00:00Z"}"#;
        let tokens = NewTokens {
            refresh_token: Some("rt-NEW-0123456789abcdefghijk".into()),
            ..NewTokens::default()
        };
        let out = with_new_tokens(doc, &tokens, now()).expect("valid");
        assert!(
            out.text.contains(r#""access_token":"at-0123456789abcdefghijklmnop","refresh_token":"rt-NEW-0123456789abcdefghijk"}"#),
            "{}",
            out.text
        );
    }

    #[test]
    fn junk_answers_are_refused_like_uploads() {
        let tokens = NewTokens {
            access_token: Some("short".into()),
            ..NewTokens::default()
        };
        let err = with_new_tokens(DOC, &tokens, now()).expect_err("refused");
        assert_eq!(err.field, "auth.tokens.access_token");
        let api_key = r#"{"OPENAI_API_KEY":"sk-0123456789abcdefghijklmnop","last_refresh":"2026-12-01T00:00:00Z"}"#;
        assert!(with_new_tokens(api_key, &NewTokens::default(), now()).is_err());
    }

    #[test]
    fn custody_hides_and_restores_the_refresh_token() {
        let view = custody_view(DOC).expect("has a refresh token");
        assert_eq!(
            view,
            DOC.replace("rt-0123456789abcdefghijklmnop", CUSTODY_PLACEHOLDER)
        );
        assert_eq!(custody_view(&view), None, "already a custody view");
        assert_eq!(refresh_token(&view).as_deref(), Some(CUSTODY_PLACEHOLDER));
        let back = restore_custody(&view, "rt-0123456789abcdefghijklmnop");
        assert_eq!(back.as_deref(), Some(DOC));
        assert_eq!(
            restore_custody(DOC, "rt-other"),
            None,
            "real tokens are kept"
        );
        let api_key = r#"{"OPENAI_API_KEY":"sk-0123456789abcdefghijklmnop","last_refresh":"2026-12-01T00:00:00Z"}"#;
        assert_eq!(custody_view(api_key), None);
        assert_eq!(refresh_token(api_key), None);
    }

    #[test]
    fn the_placeholder_passes_the_token_checks() {
        assert!(super::super::check_token_quality("t", CUSTODY_PLACEHOLDER).is_ok());
    }
}
