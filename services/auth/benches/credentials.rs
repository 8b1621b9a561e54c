//! What authentication costs: resolving a personal (`m2c_`) or service (`cct_`) token on a
//! request, the steady state being the one-second cache, and a password sign-in (Argon2id).
//!
//! `cargo bench -p codex-central-auth --bench credentials` (SQLite in a temporary directory).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use codex_central_auth::Authenticator;
use codex_central_auth::domain::accounts::{self, Client};
use codex_central_auth::domain::personal_tokens::{self, Policy};
use codex_central_auth::domain::service_tokens::{self, Actor, Scope};
use codex_central_auth::domain::users::{self, UserRole};
use codex_central_common::Principal;
use codex_central_common::crypto::Secret;
use codex_central_store::Store;
use criterion::{Criterion, criterion_group, criterion_main};

struct Fixture {
    store: Store,
    personal: String,
    service: String,
    _dir: tempfile::TempDir,
}

fn fixture(rt: &tokio::runtime::Runtime) -> Fixture {
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        let store = Store::connect_and_migrate(&url).await.unwrap();
        let admin = Actor {
            principal: Principal::local_admin(),
            client_ip: String::new(),
        };
        let password = Secret::new("bench password 123".to_string());
        let user = users::create(&store, &admin, "bench", "", &password, UserRole::Member)
            .await
            .unwrap();
        let me = Actor {
            principal: codex_central_auth::domain::sessions::principal_of(&user),
            client_ip: String::new(),
        };
        let personal =
            personal_tokens::create(&store, &me, &user.id, "bench", None, Policy::default())
                .await
                .unwrap()
                .secret
                .expose()
                .clone();
        let service = service_tokens::create(&store, &admin, "bench", Scope::Read, None)
            .await
            .unwrap()
            .secret
            .expose()
            .clone();
        Fixture {
            store,
            personal,
            service,
            _dir: dir,
        }
    })
}

fn credentials(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let f = fixture(&rt);
    let auth = Authenticator::new(f.store.clone());
    let mut g = c.benchmark_group("token_auth");
    g.bench_function("personal_token_cached", |b| {
        b.iter(|| rt.block_on(auth.authenticate(&f.personal)).unwrap())
    });
    g.bench_function("service_token_cached", |b| {
        b.iter(|| rt.block_on(auth.authenticate(&f.service)).unwrap())
    });
    // Once a second per token (the cache lifetime) a request pays the database lookup.
    g.bench_function("personal_token_uncached", |b| {
        b.iter(|| {
            let fresh = Authenticator::new(f.store.clone());
            rt.block_on(fresh.authenticate(&f.personal)).unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("login");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    let client = Client {
        ip: "203.0.113.9".into(),
        user_agent: "bench".into(),
    };
    let password = Secret::new("bench password 123".to_string());
    g.bench_function("password_argon2id", |b| {
        b.iter(|| {
            rt.block_on(accounts::login(&f.store, "bench", &password, &client))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, credentials);
criterion_main!(benches);
