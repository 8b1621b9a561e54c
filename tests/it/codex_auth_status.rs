//! The canonical auth.json as operators see it: claims decoded from its (unsigned) tokens, the
//! token expiry and the planned server refresh, on `/api/v1/codex-auth` and `/admin/overview`,
//! never a token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::on_all_backends;
use crate::testkit::{Ready, auth_on};

fn jwt(payload: Value) -> String {
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk",
        enc(&json!({"alg": "RS256", "typ": "JWT"})),
        enc(&payload)
    )
}

async fn claims_are_shown_masked(r: Ready) {
    let (status, body) = r.admin_get("/api/v1/codex-auth").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["present"], false);
    assert!(body["data"]["claims"]["email"].is_null());

    let exp = (Utc::now() + Duration::minutes(20)).timestamp();
    let namespace = json!({"chatgpt_account_id": "acct-7f3e9a2b1c", "chatgpt_plan_type": "pro",
                           "chatgpt_user_id": "user-AbCdEf123456"});
    let refresh = "rt_AbCdEfGhIjKlMnOpQrStUvWxYz012345";
    let doc = json!({
        "OPENAI_API_KEY": null,
        "tokens": {
            "id_token": jwt(json!({"email": "ops@example.com", "exp": exp, "https://api.openai.com/auth": namespace})),
            "access_token": jwt(json!({"exp": exp, "https://api.openai.com/auth": namespace})),
            "refresh_token": refresh,
            "account_id": "acct-7f3e9a2b1c"
        },
        "last_refresh": (Utc::now() - Duration::hours(1)).to_rfc3339()
    });
    let (status, body) = r
        .admin_post("/admin/auth/upload", json!({"auth": doc}))
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = r.admin_get("/api/v1/codex-auth").await;
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    assert_eq!(d["present"], true);
    let digest = d["digest"].clone();
    assert_eq!(digest.as_str().map(str::len), Some(64));
    let c = &d["claims"];
    assert_eq!(c["mode"], "chatgpt");
    assert_eq!(c["email"], "ops@example.com");
    assert_eq!(c["plan_type"], "pro");
    assert_eq!(c["account_id"], "acct…2b1c");
    assert_eq!(c["chatgpt_user_id"], "user…3456");
    let expires = chrono::DateTime::from_timestamp(exp, 0).unwrap();
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(at(&c["access_token_expires_at"]), expires);
    // The server plans its refresh 30 minutes before expiry: already due. Unless its job has
    // tried already (the token endpoint is unreachable here): then it retries after a backoff.
    if d["refresh"]["last_attempt_at"].is_null() {
        assert_eq!(
            at(&d["refresh"]["next_due_at"]),
            expires - Duration::minutes(30)
        );
    } else {
        assert!(
            at(&d["refresh"]["next_due_at"]) > at(&d["refresh"]["last_attempt_at"]),
            "{d}"
        );
    }
    assert!(
        !body.to_string().contains(refresh),
        "no token in the answer"
    );

    let (status, body) = r.admin_get("/admin/overview").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["canonical_auth"]["claims"]["email"],
        "ops@example.com"
    );
    assert_eq!(
        body["data"]["last_refresh"], doc["last_refresh"],
        "as the document has it"
    );
    assert_eq!(body["data"]["canonical_digest"], digest);
    assert!(!body.to_string().contains(refresh));
}

on_all_backends!(ready(auth_on()) => claims_are_shown_masked);
