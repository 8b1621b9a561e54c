//! A local OAuth token endpoint in place of `auth.openai.com`: it records every request and
//! answers refreshes with rotated tokens, a chosen error, or after a delay.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// An unsigned JWT with `payload` (Codex reads claims without checking signatures).
pub fn jwt(payload: Value) -> String {
    let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk",
        enc(&json!({"alg": "RS256", "typ": "JWT"})),
        enc(&payload)
    )
}

/// A ChatGPT-mode auth.json whose access token expires in `expires_in_minutes`, refreshed
/// `age_minutes` ago, pretty-printed as Codex writes it, with members after `last_refresh` that
/// a refresh must keep.
pub fn chatgpt_document(expires_in_minutes: i64, age_minutes: i64, refresh_token: &str) -> String {
    let exp = (Utc::now() + chrono::Duration::minutes(expires_in_minutes)).timestamp();
    let auth = json!({"chatgpt_account_id": "acct-7f3e9a2b1c", "chatgpt_plan_type": "pro"});
    let last = (Utc::now() - chrono::Duration::minutes(age_minutes))
        .format("%Y-%m-%dT%H:%M:%S%.9fZ")
        .to_string();
    format!(
        "{{\n  \"OPENAI_API_KEY\": null,\n  \"tokens\": {{\n    \"id_token\": \"{}\",\n    \"access_token\": \"{}\",\n    \"refresh_token\": \"{refresh_token}\",\n    \"account_id\": \"acct-7f3e9a2b1c\"\n  }},\n  \"last_refresh\": \"{last}\",\n  \"fleet_note\": {{\"ratio\": 1.50}}\n}}",
        jwt(json!({"email": "ops@example.com", "exp": exp, "https://api.openai.com/auth": auth})),
        jwt(json!({"exp": exp, "https://api.openai.com/auth": auth})),
    )
}

/// How the stub answers the next refreshes.
#[derive(Clone, Debug)]
pub enum Answer {
    /// New tokens (access token valid for an hour, a rotated refresh token).
    Rotate,
    /// This status and JSON body.
    Fail(u16, Value),
    /// Rotate, after this long.
    Slow(Duration),
}

#[derive(Default)]
struct Stub {
    seen: Mutex<Vec<(String, Value)>>,
    answer: Mutex<Option<Answer>>,
    rotations: Mutex<u32>,
}

pub struct IdpStub {
    /// The token endpoint (`…/oauth/token`).
    pub url: String,
    stub: Arc<Stub>,
}

impl IdpStub {
    pub async fn start() -> IdpStub {
        let stub = Arc::new(Stub::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(stub.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        IdpStub {
            url: format!("http://{addr}/oauth/token"),
            stub,
        }
    }

    pub async fn answer(&self, answer: Answer) {
        *self.stub.answer.lock().await = Some(answer);
    }

    /// Every request as (path, JSON body or the form/text as a string).
    pub async fn seen(&self) -> Vec<(String, Value)> {
        self.stub.seen.lock().await.clone()
    }

    /// The bodies of the refresh requests, in order.
    pub async fn refreshes(&self) -> Vec<Value> {
        self.seen()
            .await
            .into_iter()
            .filter(|(path, body)| path == "/oauth/token" && body["grant_type"] == "refresh_token")
            .map(|(_, body)| body)
            .collect()
    }

    /// Waits until `n` refreshes arrived (panics after `within`).
    pub async fn wait_for_refreshes(&self, n: usize, within: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.refreshes().await;
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected {n} refreshes, saw {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The refresh token the stub hands out on its `n`-th rotation.
pub fn rotated_refresh_token(n: u32) -> String {
    format!("rt_rotated_{n}_AbCdEfGhIjKlMnOpQrStUv")
}

async fn handle(State(stub): State<Arc<Stub>>, uri: Uri, body: String) -> axum::response::Response {
    let parsed = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let path = uri.path().to_string();
    stub.seen.lock().await.push((path.clone(), parsed));
    if path != "/oauth/token" {
        return axum::Json(json!({})).into_response();
    }
    let answer = stub.answer.lock().await.clone().unwrap_or(Answer::Rotate);
    match answer {
        Answer::Fail(status, body) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(body),
        )
            .into_response(),
        Answer::Slow(delay) => {
            tokio::time::sleep(delay).await;
            rotate(&stub).await
        }
        Answer::Rotate => rotate(&stub).await,
    }
}

async fn rotate(stub: &Stub) -> axum::response::Response {
    let n = {
        let mut count = stub.rotations.lock().await;
        *count += 1;
        *count
    };
    let exp = (Utc::now() + chrono::Duration::hours(1)).timestamp();
    let auth = json!({"chatgpt_account_id": "acct-7f3e9a2b1c", "chatgpt_plan_type": "pro"});
    axum::Json(json!({
        "id_token": jwt(json!({"email": "ops@example.com", "exp": exp, "n": n, "https://api.openai.com/auth": auth})),
        "access_token": jwt(json!({"exp": exp, "n": n, "https://api.openai.com/auth": auth})),
        "refresh_token": rotated_refresh_token(n),
        "expires_in": 3600,
        "token_type": "Bearer",
    }))
    .into_response()
}
