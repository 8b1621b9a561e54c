//! A database outage, made by cutting a TCP proxy between the server and PostgreSQL: host
//! syncs fail fast with 503 and `Retry-After` (never a queue of minute-long waits), `/readyz`
//! turns 503, and everything recovers by itself when the database returns.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use codex_central::config::{AuthMode, Layer};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::AbortHandle;

use crate::testkit::{Backend, TestDb, admin_token, json, spawn_with};

/// Forwards to PostgreSQL until cut; while cut, the open connections are dropped and new ones
/// are accepted but never answered (a database host that went silent: the worst case for a
/// client, which learns nothing until its own timeout).
struct CutProxy {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<AbortHandle>>>,
}

impl CutProxy {
    async fn start(upstream: &'static str) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (c, o) = (cut.clone(), open.clone());
        tokio::spawn(async move {
            let mut silent = Vec::new();
            while let Ok((mut client, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    silent.push(client);
                    continue;
                }
                silent.clear();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                o.lock().await.push(task.abort_handle());
            }
        });
        CutProxy { addr, cut, open }
    }

    async fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for task in self.open.lock().await.drain(..) {
            task.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn host_sync_fails_fast_while_the_database_is_down() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let proxy = CutProxy::start("127.0.0.1:5432").await;
    let url = db.url.replace("127.0.0.1:5432", &proxy.addr.to_string());
    let srv = spawn_with(
        Layer {
            auth_mode: Some(AuthMode::On),
            database_url: Some(url),
            database_timeout_secs: Some(2),
            ..Layer::default()
        },
        Some(db),
    )
    .await;
    let admin = admin_token(&srv).await;
    let (status, body) = json(
        srv.post("/admin/hosts/register")
            .bearer_auth(&admin)
            .json(&json!({"fqdn": "outage.example"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let key = body["data"]["host"]["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let retrieve = || {
        srv.post("/auth")
            .header("x-api-key", &key)
            .json(&json!({"digest": "0".repeat(64), "last_refresh": "2026-01-01T00:00:00Z"}))
            .send()
    };
    assert_eq!(retrieve().await.unwrap().status(), 200);

    proxy.cut().await;
    // Past the one-second caches of hosts and fleet flags.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let started = Instant::now();
    let calls = (0..32).map(|_| async {
        let at = Instant::now();
        let res = retrieve().await.unwrap();
        let retry_after = res.headers().get("retry-after").is_some();
        (res.status().as_u16(), retry_after, at.elapsed())
    });
    let answers = futures::future::join_all(calls).await;
    let slowest = answers.iter().map(|(_, _, d)| *d).max().unwrap();
    let unavailable = answers.iter().filter(|(s, _, _)| *s == 503).count();
    for (status, retry_after, _) in &answers {
        assert!(
            *status == 503 || *status == 200,
            "unexpected {status} during the outage"
        );
        if *status == 503 {
            assert!(retry_after, "503 without Retry-After");
        }
    }
    assert!(unavailable > 0, "no call noticed the outage: {answers:?}");
    assert!(
        slowest < Duration::from_secs(7),
        "a host sync waited {slowest:?} for a database that is down"
    );
    eprintln!(
        "outage: {unavailable}/32 answered 503, slowest {slowest:?}, all within {:?}",
        started.elapsed()
    );
    // The fleet flags every host answer carries are refreshed one caller at a time: callers
    // queued behind a failing refresh must not each wait out the database in turn.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let versions = (0..32).map(|_| async {
        let at = Instant::now();
        let status = srv.get("/versions").send().await.unwrap().status().as_u16();
        (status, at.elapsed())
    });
    let answers = futures::future::join_all(versions).await;
    let slowest = answers.iter().map(|(_, d)| *d).max().unwrap();
    assert!(answers.iter().all(|(s, _)| *s == 503), "{answers:?}");
    assert!(
        slowest < Duration::from_secs(7),
        "GET /versions waited {slowest:?} for a database that is down"
    );
    eprintln!("outage: /versions x32 all 503, slowest {slowest:?}");
    let at = Instant::now();
    let ready = srv.get("/readyz").send().await.unwrap().status();
    assert_eq!(ready, 503);
    assert!(at.elapsed() < Duration::from_secs(7));

    proxy.restore();
    let back = Instant::now();
    loop {
        if retrieve().await.unwrap().status() == 200 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(15), "no recovery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("recovered {:?} after the database returned", back.elapsed());
    srv.stop().await;
}
