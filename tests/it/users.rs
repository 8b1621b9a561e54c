//! People's accounts over REST on every backend: validation, pagination, audit, and the last
//! enabled admin protected even under concurrent changes.

use codex_central::config::Layer;
use serde_json::{Value, json};

use crate::on_all_backends;
use crate::testkit::{Backend, Opts, TestServer, admin_token, json, spawn};

async fn create(srv: &TestServer, admin: &str, body: Value) -> (u16, Value) {
    json(
        srv.post("/api/v1/users")
            .bearer_auth(admin)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn post(srv: &TestServer, admin: &str, path: &str, body: Value) -> (u16, Value) {
    json(
        srv.post(path)
            .bearer_auth(admin)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn users_over_rest(backend: Backend) {
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
    let (status, body) = create(
        &srv,
        &admin,
        json!({"username": "Alice", "password": "correct horse", "role": "admin"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let alice = body["data"]["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(body["data"]["user"]["username"], "alice");
    assert_eq!(body["data"]["user"]["role"], "admin");
    assert!(!body.to_string().contains("correct horse"));
    for (bad, field) in [
        (json!({"username": "bob", "password": "short"}), "password"),
        (
            json!({"username": "b b", "password": "long enough"}),
            "username",
        ),
        (
            json!({"username": "bob", "password": "long enough", "role": "root"}),
            "role",
        ),
    ] {
        let (status, body) = create(&srv, &admin, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["errors"][field].is_array(), "{bad}: {body}");
    }
    let (status, _) = create(
        &srv,
        &admin,
        json!({"username": "alice", "password": "long enough"}),
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = create(
        &srv,
        &admin,
        json!({"username": "x", "password": "long enough", "extra": 1}),
    )
    .await;
    assert_eq!(status, 422);

    // The last enabled admin can be neither demoted, disabled nor deleted.
    let role = format!("/api/v1/users/{alice}/role");
    let enabled = format!("/api/v1/users/{alice}/enabled");
    let (status, body) = post(&srv, &admin, &role, json!({"role": "member"})).await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = post(&srv, &admin, &enabled, json!({"enabled": false})).await;
    assert_eq!(status, 409);
    let (status, _) = json(
        srv.delete(&format!("/api/v1/users/{alice}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);

    // Two admins demoted at the same moment: exactly one change wins.
    let (_, body) = create(
        &srv,
        &admin,
        json!({"username": "bob", "password": "long enough", "role": "admin"}),
    )
    .await;
    let bob = body["data"]["user"]["id"].as_str().unwrap().to_string();
    let demote = |id: String| {
        let req = srv
            .post(&format!("/api/v1/users/{id}/role"))
            .bearer_auth(&admin)
            .json(&json!({"role": "member"}));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let (a, b) = tokio::join!(demote(alice.clone()), demote(bob.clone()));
    let mut statuses = [a, b];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "exactly one demotion succeeds");
    let (_, list) = json(
        srv.get("/api/v1/users")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let admins = list["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["role"] == "admin" && u["enabled"] == true)
        .count();
    assert_eq!(admins, 1);

    // Members: rename, disable, reset the password, delete.
    let (_, body) = create(
        &srv,
        &admin,
        json!({"username": "carol", "password": "long enough", "display_name": "Carol C"}),
    )
    .await;
    let carol = body["data"]["user"]["id"].as_str().unwrap().to_string();
    let (status, body) = json(
        srv.http
            .patch(format!("{}/api/v1/users/{carol}", srv.url))
            .bearer_auth(&admin)
            .json(&json!({"display_name": "Carol"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["user"]["display_name"], "Carol");
    let (status, body) = post(
        &srv,
        &admin,
        &format!("/api/v1/users/{carol}/enabled"),
        json!({"enabled": false}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["user"]["enabled"], false);
    let (status, _) = post(
        &srv,
        &admin,
        &format!("/api/v1/users/{carol}/password"),
        json!({"password": "short"}),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = post(
        &srv,
        &admin,
        &format!("/api/v1/users/{carol}/password"),
        json!({"password": "a better one"}),
    )
    .await;
    assert_eq!(status, 200);

    // Search and keyset pagination.
    let (_, page) = json(
        srv.get("/api/v1/users?page_size=2")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page["data"]["users"].as_array().unwrap().len(), 2);
    let token = page["data"]["next_page_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, next) = json(
        srv.get(&format!("/api/v1/users?page_size=2&page_token={token}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(next["data"]["users"].as_array().unwrap().len(), 1);
    assert!(next["data"]["next_page_token"].is_null());
    let (_, found) = json(
        srv.get("/api/v1/users?q=car")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(found["data"]["users"][0]["username"], "carol");

    let (status, _) = json(
        srv.delete(&format!("/api/v1/users/{carol}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = json(
        srv.get(&format!("/api/v1/users/{carol}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = json(srv.get("/api/v1/users").send().await.unwrap()).await;
    assert_eq!(status, 401);

    // Every change is audited.
    let (_, logs) = json(
        srv.get("/admin/logs?limit=100")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let actions: Vec<&str> = logs["data"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["action"].as_str())
        .collect();
    for want in [
        "user.create",
        "user.set_role",
        "user.disable",
        "user.reset_password",
        "user.update",
        "user.delete",
    ] {
        assert!(actions.contains(&want), "{want} missing from {actions:?}");
    }
}

on_all_backends!(users_over_rest);

/// A person reads and renames their own account over gRPC (the dashboard's My account), and
/// nobody else's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_renames_themselves_only() {
    use codex_central_proto::auth::v1::user_service_client::UserServiceClient;
    use codex_central_proto::auth::v1::{GetUserRequest, UpdateUserRequest};

    let Some(r) = crate::testkit::Ready::start(Backend::Sqlite, crate::testkit::auth_on()).await
    else {
        return;
    };
    let mine = crate::testkit::sign_in(&r.srv, &r.admin, "mia").await;
    let token = crate::testkit::new_token(&r.srv, &mine, json!({"name": "self"})).await;
    crate::testkit::sign_in(&r.srv, &r.admin, "noah").await;
    let (_, listed) = r.admin_get("/api/v1/users").await;
    let id_of = |name: &str| {
        listed["data"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (mia, noah) = (id_of("mia"), id_of("noah"));
    let mut users = UserServiceClient::new(r.srv.channel().await);
    let me = users
        .get_user(crate::testkit::authed(
            &token,
            GetUserRequest { id: mia.clone() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.user.unwrap().username, "mia");
    let renamed = users
        .update_user(crate::testkit::authed(
            &token,
            UpdateUserRequest {
                id: mia,
                display_name: Some("Mia M.".into()),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.user.unwrap().display_name, "Mia M.");
    let other = users
        .update_user(crate::testkit::authed(
            &token,
            UpdateUserRequest {
                id: noah.clone(),
                display_name: Some("not mine".into()),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), tonic::Code::PermissionDenied);
    let other = users
        .get_user(crate::testkit::authed(&token, GetUserRequest { id: noah }))
        .await
        .unwrap_err();
    assert_eq!(other.code(), tonic::Code::PermissionDenied);
}
