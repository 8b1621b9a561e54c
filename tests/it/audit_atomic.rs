//! An audited change and its audit row commit together: when the database refuses the audit
//! row (a trigger here), the change is rolled back and the caller gets an error, on every
//! backend. The same requests succeed once the trigger is gone.

use codex_central::config::Layer;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::on_all_backends;
use crate::testkit::{Backend, Opts, TestServer, admin_token, spawn};

/// The actions whose audit rows the trigger refuses.
const REFUSED: &str = "('user.create', 'host.register', 'upstream.update')";

fn install_trigger(backend: Backend) -> Vec<String> {
    match backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log \
             WHEN NEW.action IN {REFUSED} BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        )],
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION audit_refused() RETURNS trigger AS $$ BEGIN \
                 IF NEW.action IN {REFUSED} THEN RAISE EXCEPTION 'audit refused'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION audit_refused()"
                .into(),
        ],
        Backend::MySql => vec![format!(
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log FOR EACH ROW BEGIN \
             IF NEW.action IN {REFUSED} THEN \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit refused'; END IF; END"
        )],
    }
}

fn drop_trigger(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite | Backend::MySql => "DROP TRIGGER audit_refused",
        Backend::Postgres => "DROP TRIGGER audit_refused ON audit_log",
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json::<Value>().await.unwrap_or(Value::Null))
}

/// The three audited changes: a user creation, a host registration and a provider update.
async fn changes(srv: &TestServer, admin: &str) -> [(&'static str, u16, Value); 3] {
    let (user, user_body) = send(
        srv.post("/api/v1/users")
            .bearer_auth(admin)
            .json(&json!({"username": "refused", "password": "long enough"})),
    )
    .await;
    let (host, host_body) = send(
        srv.post("/admin/hosts/register")
            .bearer_auth(admin)
            .json(&json!({"fqdn": "refused.example.com"})),
    )
    .await;
    let (provider, provider_body) = send(
        srv.http
            .put(format!("{}/api/v1/providers/deepseek", srv.url))
            .bearer_auth(admin)
            .json(&json!({
                "kind": "deepseek",
                "base_url": "https://refused.example.com/v1",
                "models": [{"name": "deepseek-chat"}],
                "api_key": "sk-refused-abcd",
            })),
    )
    .await;
    [
        ("user creation", user, user_body),
        ("host registration", host, host_body),
        ("provider update", provider, provider_body),
    ]
}

async fn deepseek(srv: &TestServer, admin: &str) -> Value {
    let (status, body) = send(srv.get("/api/v1/providers/deepseek").bearer_auth(admin)).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["provider"].clone()
}

async fn a_refused_audit_row_rolls_the_change_back(backend: Backend) {
    let Some(srv) = spawn(
        backend,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                ..Default::default()
            },
        },
    )
    .await
    else {
        return;
    };
    let admin = admin_token(&srv).await;
    let db = Database::connect(srv.db.as_ref().unwrap().url.as_str())
        .await
        .unwrap();
    for sql in install_trigger(backend) {
        db.execute_unprepared(&sql).await.unwrap();
    }
    let provider_before = deepseek(&srv, &admin).await;

    for (what, status, body) in changes(&srv, &admin).await {
        assert!(status >= 500, "{what} must fail: {status} {body}");
    }
    let users = "SELECT COUNT(*) AS n FROM users WHERE username = 'refused'";
    let hosts = "SELECT COUNT(*) AS n FROM hosts WHERE fqdn = 'refused.example.com'";
    let audited = format!("SELECT COUNT(*) AS n FROM audit_log WHERE action IN {REFUSED}");
    assert_eq!(count(&db, users).await, 0, "the user was not created");
    assert_eq!(count(&db, hosts).await, 0, "the host was not registered");
    assert_eq!(
        deepseek(&srv, &admin).await,
        provider_before,
        "the provider is unchanged, its key included"
    );
    assert_eq!(count(&db, &audited).await, 0);

    // The same requests were valid: without the trigger they succeed, with their rows.
    db.execute_unprepared(drop_trigger(backend)).await.unwrap();
    for (what, status, body) in changes(&srv, &admin).await {
        assert!((200..300).contains(&status), "{what}: {status} {body}");
    }
    assert_eq!(count(&db, users).await, 1);
    assert_eq!(count(&db, hosts).await, 1);
    let provider_after = deepseek(&srv, &admin).await;
    assert_eq!(provider_after["base_url"], "https://refused.example.com/v1");
    assert_eq!(provider_after["api_key_suffix"], "…abcd");
    assert_eq!(count(&db, &audited).await, 3);

    db.close().await.unwrap();
    srv.stop().await;
}

on_all_backends!(a_refused_audit_row_rolls_the_change_back);
