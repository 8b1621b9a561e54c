//! The real Codex CLI with the fleet's ChatGPT auth.json: the server refreshes before Codex
//! would (the token endpoint sees exactly one refresh, from the server), Codex runs on the
//! custody document it synced, and `codex logout` on a host never carries the real refresh
//! token anywhere; the next sync gives the host a working auth.json again.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::codex_cli::{codex, completed, sse};
use crate::codex_refresh::{refreshing_at, retrieve};
use crate::idp_stub::{IdpStub, chatgpt_document, rotated_refresh_token};
use crate::testkit::{Backend, Ready};

const ORIGINAL_RT: &str = "rt_original_CliAbCdEfGhIjKlMnOpQr";

/// A ChatGPT-style Responses endpoint that records the bearer token of every call.
async fn chatgpt_backend(
    State(seen): State<Arc<Mutex<Vec<String>>>>,
    headers: HeaderMap,
) -> axum::response::Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    seen.lock().await.push(bearer);
    let message = json!({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                         "content": [{"type": "output_text", "text": "hello from the stub", "annotations": []}]});
    sse(&[
        json!({"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1", "status": "in_progress", "output": []}}),
        json!({"type": "response.output_item.done", "sequence_number": 1, "output_index": 0, "item": message}),
        completed("resp_1", json!([message])),
    ])
}

/// What `cdx` does before running Codex: retrieve and write the served auth.json.
async fn sync(r: &Ready, key: &str, home: &Path) -> Value {
    let digest = std::fs::read(home.join("auth.json"))
        .map(|b| {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&b))
        })
        .unwrap_or_else(|_| "0".repeat(64));
    let (answer, auth) = retrieve(r, key, &digest, "2020-01-01T00:00:00Z").await;
    if let Some(auth) = auth {
        std::fs::write(home.join("auth.json"), auth).unwrap();
    }
    answer
}

async fn codex_run(
    codex: &Path,
    home: &Path,
    idp: &IdpStub,
    args: &[&str],
) -> std::process::Output {
    let work = tempfile::tempdir().unwrap();
    tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(codex)
            .args(args)
            .current_dir(work.path())
            .env("CODEX_HOME", home)
            .env("CODEX_REFRESH_TOKEN_URL_OVERRIDE", &idp.url)
            .env_remove("OPENAI_API_KEY")
            .env_remove("CODEX_API_KEY")
            .output(),
    )
    .await
    .expect("codex finishes")
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_runs_on_the_server_refreshed_custody_document() {
    let Some(codex) = codex() else {
        return;
    };
    let idp = IdpStub::start().await;
    let bearers = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route(
            "/backend-api/codex/responses",
            axum::routing::post(chatgpt_backend),
        )
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .with_state(bearers.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend_url = format!(
        "http://{}/backend-api/codex",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let Some(r) = Ready::start(Backend::Sqlite, refreshing_at(&idp)).await else {
        return;
    };
    let key = r.host_key("codex-cli.example.com").await;
    // The access token expires in 20 minutes: the server (margin 30) acts, Codex (5) would not.
    let (code, body) = r
        .admin_post(
            "/admin/auth/upload",
            json!({"auth": chatgpt_document(20, 60, ORIGINAL_RT)}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let seen = idp.wait_for_refreshes(1, Duration::from_secs(15)).await;
    assert_eq!(seen[0]["refresh_token"], ORIGINAL_RT);
    // Once the refreshed document is committed, sync as the wrapper would.
    for _ in 0..50 {
        let (_, status) = r.admin_get("/api/v1/codex-auth").await;
        if !status["data"]["refresh"]["last_success_at"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let home = tempfile::tempdir().unwrap();
    let answer = sync(&r, &key, home.path()).await;
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join("auth.json")).unwrap())
            .unwrap();
    let access = written["tokens"]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(
        written["tokens"]["refresh_token"],
        rotated_refresh_token(1),
        "custody: {answer}"
    );
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "model = \"gpt-5.1-codex\"\nmodel_provider = \"chatgpt-stub\"\ncli_auth_credentials_store = \"file\"\n\n[model_providers.chatgpt-stub]\nname = \"ChatGPT stub\"\nbase_url = \"{backend_url}\"\nwire_api = \"responses\"\nrequires_openai_auth = true\nrequest_max_retries = 0\nstream_max_retries = 0\n"
        ),
    )
    .unwrap();

    let run = ["exec", "--skip-git-repo-check", "say hello"];
    let out = codex_run(&codex, home.path(), &idp, &run).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "codex exec failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("hello from the stub"), "{stdout}\n{stderr}");
    assert!(
        bearers
            .lock()
            .await
            .iter()
            .all(|b| *b == format!("Bearer {access}")),
        "Codex used the server-refreshed access token: {:?} vs {access}",
        bearers.lock().await
    );
    assert_eq!(
        idp.refreshes().await.len(),
        1,
        "Codex did not refresh by itself"
    );

    // `codex logout` on the host: whatever it sends, the fleet's refresh token is not in it.
    let out = codex_run(&codex, home.path(), &idp, &["logout"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !home.path().join("auth.json").exists(),
        "logout removed auth.json"
    );
    let everything = format!("{:?}", idp.seen().await);
    eprintln!("IDP-SEEN {everything}");
    assert!(
        !everything.contains(&rotated_refresh_token(1)),
        "{everything}"
    );

    // The next sync restores a working auth.json, and Codex runs again.
    sync(&r, &key, home.path()).await;
    assert!(home.path().join("auth.json").exists());
    let out = codex_run(&codex, home.path(), &idp, &run).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(idp.refreshes().await.len(), 1);
    let (code, status) = r.admin_get("/api/v1/codex-auth").await;
    assert_eq!(code, 200);
    assert_eq!(
        status["data"]["refresh"]["needs_new_auth_json"], false,
        "{status}"
    );
}
