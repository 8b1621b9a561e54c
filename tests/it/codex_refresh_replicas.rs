//! Three `codex-central` processes on one PostgreSQL database with a near-expiry canonical
//! auth.json: the token endpoint sees exactly one refresh. The replica that made it is killed
//! after the endpoint's answer was kept and before the new document was written: another
//! replica finishes with that answer, never spending a refresh token twice. A replica killed
//! while the endpoint is still answering leaves a token that may be spent: the others block it
//! and raise the alert instead of sending it again.

use std::time::{Duration, Instant};

use codex_central_store::Store;
use codex_central_store::codex_auth_lifecycle as lifecycle;
use serde_json::{Value, json};

use crate::idp_stub::{Answer, IdpStub, chatgpt_document};
use crate::testkit::{Backend, REPLICA_KEY, ServerProcess, TestDb, admin_token_in};

type Replica = ServerProcess;

async fn start_replica(database_url: &str, idp: &IdpStub) -> Replica {
    ServerProcess::start(
        &["--database-url", database_url],
        &[
            ("CODEX_CENTRAL_MASTER_KEY", REPLICA_KEY),
            ("CODEX_CENTRAL_CODEX_TOKEN_URL", &idp.url),
            ("CODEX_CENTRAL_CODEX_REFRESH_CHECK_SECS", "1"),
            ("CODEX_CENTRAL_CODEX_RELEASE_URL", ""),
            // Whoever gets the answer first stops before writing the document, long enough
            // for the test to kill it there (debug builds only).
            (
                "CODEX_CENTRAL_FAILPOINTS",
                "codex_refresh.answer_kept=pause:60000",
            ),
        ],
    )
    .await
}

/// Polls the lifecycle row until `ready` holds for it, and returns it.
async fn wait_lifecycle(
    store: &Store,
    what: &str,
    within: Duration,
    ready: impl Fn(&codex_central_store::entities::codex_auth_lifecycle::Model) -> bool,
) -> codex_central_store::entities::codex_auth_lifecycle::Model {
    let deadline = Instant::now() + within;
    loop {
        let row = lifecycle::get(store.db()).await.unwrap();
        if ready(&row) {
            return row;
        }
        assert!(Instant::now() < deadline, "{what}: {row:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kills the replica whose process id is the lease holder `holder` (`<pid>:<suffix>`).
fn kill_holder(replicas: &mut Vec<Replica>, holder: &str) {
    let pid: u32 = holder.split(':').next().unwrap().parse().unwrap();
    let at = replicas
        .iter()
        .position(|r| r.child.id() == pid)
        .unwrap_or_else(|| panic!("holder {holder} is not one of the replicas"));
    let mut gone = replicas.remove(at);
    gone.child.kill().unwrap();
    gone.child.wait().unwrap();
}

async fn status(http: &reqwest::Client, replica: &Replica, admin: &str) -> Value {
    let body: Value = http
        .get(format!("{}/api/v1/codex-auth", replica.url))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"].clone()
}

async fn upload(http: &reqwest::Client, replica: &Replica, admin: &str, doc: &str) {
    let res = http
        .post(format!("{}/admin/auth/upload", replica.url))
        .bearer_auth(admin)
        .json(&json!({ "auth": doc }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_across_replicas_and_a_killed_holder() {
    codex_central::listener::install_crypto_provider();
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let idp = IdpStub::start().await;
    // The first replica migrates the database; the others start on it.
    let mut replicas = vec![start_replica(&db.url, &idp).await];
    replicas.push(start_replica(&db.url, &idp).await);
    replicas.push(start_replica(&db.url, &idp).await);
    let admin = admin_token_in(&db.url).await;
    let store = Store::connect(&db.url).await.unwrap();
    let http = reqwest::Client::new();

    // Near expiry: every replica's job finds it due; one claims the token, the endpoint
    // answers, and that replica stops right after keeping the answer.
    upload(
        &http,
        &replicas[0],
        &admin,
        &chatgpt_document(20, 60, "rt_first_AbCdEfGhIjKlMnOpQr"),
    )
    .await;
    let kept = wait_lifecycle(&store, "the answer is kept", Duration::from_secs(20), |r| {
        !r.pending_answer_enc.is_empty()
    })
    .await;
    kill_holder(&mut replicas, &kept.in_flight_holder);

    // Another replica takes the lease over and writes the document from the kept answer.
    let done = wait_lifecycle(
        &store,
        "another replica finishes",
        Duration::from_secs(20),
        |r| r.pending_answer_enc.is_empty() && r.last_success_at.is_some(),
    )
    .await;
    assert!(done.in_flight_token_sha.is_empty());
    let s = status(&http, &replicas[0], &admin).await;
    assert_eq!(s["refresh"]["needs_new_auth_json"], false, "{s}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = idp.refreshes().await;
    assert_eq!(seen.len(), 1, "exactly one refresh: {seen:?}");
    assert_eq!(seen[0]["refresh_token"], "rt_first_AbCdEfGhIjKlMnOpQr");
    let canonical = codex_central_store::canonical_auth::get(&store)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(canonical.source, "server:refresh");

    // Now the endpoint is slow, and the replica waiting on it is killed: nobody can know
    // whether the token was spent, so the survivors block it once the attempt is stale.
    idp.answer(Answer::Slow(Duration::from_secs(10))).await;
    upload(
        &http,
        &replicas[0],
        &admin,
        &chatgpt_document(20, 0, "rt_second_AbCdEfGhIjKlMnOpQr"),
    )
    .await;
    let claimed = wait_lifecycle(&store, "a new attempt", Duration::from_secs(20), |r| {
        !r.in_flight_token_sha.is_empty()
    })
    .await;
    idp.wait_for_refreshes(2, Duration::from_secs(10)).await;
    kill_holder(&mut replicas, &claimed.in_flight_holder);
    let blocked = wait_lifecycle(
        &store,
        "the token is blocked",
        Duration::from_secs(60),
        |r| r.last_error_code == "refresh_interrupted",
    )
    .await;
    assert_eq!(blocked.blocked_token_sha, claimed.in_flight_token_sha);
    let s = status(&http, &replicas[0], &admin).await;
    assert_eq!(s["refresh"]["needs_new_auth_json"], true, "{s}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = idp.refreshes().await;
    assert_eq!(
        seen.len(),
        2,
        "the possibly spent token was not sent again: {seen:?}"
    );
    assert_eq!(seen[1]["refresh_token"], "rt_second_AbCdEfGhIjKlMnOpQr");
    store.close().await.unwrap();
}
