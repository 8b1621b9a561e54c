//! The canonical auth.json through `POST /auth`: the retrieve/store truth table, racing stores, admin uploads and seed links.

use super::*;

async fn canonical_auth_truth_table(ready: Ready) {
    // The peer's semantics: hosts receive the document as stored.
    shared_custody(&ready).await;
    let Ready { srv, admin } = ready;
    let (_, key) = register(&srv, &admin, "sync.example.com").await;
    let doc = document(60, "A");
    let (compact, digest) = python_digest(&doc);

    let (status, body) = store(&srv, &key, &doc).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "updated");
    assert_eq!(body["data"]["runner_applied"], false);
    assert!(body["data"]["validation"].is_null() && body["data"].get("validation").is_some());
    assert!(body["data"].get("action").is_none(), "{body}");
    assert_eq!(body["data"]["versions"]["wrapper_url"], "/wrapper/download");
    assert_eq!(
        body["data"]["canonical_digest"],
        digest.as_str(),
        "digest = sha256 of Python's compact form"
    );
    let last_refresh = body["data"]["canonical_last_refresh"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(doc.contains(&last_refresh), "last_refresh echoed verbatim");

    // The canonical text reaches clients byte for byte (key order, {} and 1.0 kept).
    let raw = srv.post("/auth").header("x-api-key", &key)
        .json(&json!({"command": "retrieve", "digest": "f".repeat(64), "last_refresh": (Utc::now() - Duration::days(3)).to_rfc3339()}))
        .send().await.unwrap().text().await.unwrap();
    assert!(
        raw.contains(&format!("\"auth\":{compact}")),
        "{raw}\n{compact}"
    );
    let body: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["data"]["status"], "outdated");

    let retrieve = |digest: String, at: String| json!({"command": "retrieve", "digest": digest, "last_refresh": at});
    let (_, body) = auth_call(
        &srv,
        &key,
        retrieve(digest.to_uppercase(), last_refresh.clone()),
    )
    .await;
    assert_eq!(body["data"]["status"], "valid");
    assert!(body["data"].get("auth").is_none());
    let (_, body) = auth_call(
        &srv,
        &key,
        retrieve("e".repeat(64), Utc::now().to_rfc3339()),
    )
    .await;
    assert_eq!(
        (
            body["data"]["status"].as_str(),
            body["data"]["action"].as_str()
        ),
        (Some("upload_required"), Some("store"))
    );
    // Equal instants written differently still compare as instants.
    let same_instant = chrono::DateTime::parse_from_rfc3339(&last_refresh)
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(7200).unwrap())
        .to_rfc3339();
    let (_, body) = auth_call(&srv, &key, retrieve("e".repeat(64), same_instant)).await;
    assert_eq!(body["data"]["status"], "upload_required");

    // Store: identical, older, same instant with a different digest, newer.
    let (_, body) = store(&srv, &key, &doc).await;
    assert_eq!(body["data"]["status"], "unchanged");
    let (_, body) = store(&srv, &key, &document(120, "B")).await;
    assert_eq!(body["data"]["status"], "outdated");
    assert_eq!(
        body["data"]["auth"]["tokens"]["refresh_token"],
        "rt_AbCdEfGhIjKlMnOpQrStUvWxA"
    );
    let same_time_other = doc.replace("WxA", "WxC");
    let (_, body) = store(&srv, &key, &same_time_other).await;
    assert_eq!(body["data"]["status"], "updated");
    let (_, body) = store(&srv, &key, &document(1, "D")).await;
    assert_eq!(body["data"]["status"], "updated");

    // Validation runs before any comparison and names the field.
    let future = document(-30, "E");
    let (status, body) = store(&srv, &key, &future).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"].get("auth.last_refresh").is_some(), "{body}");
    let (status, body) = store(
        &srv,
        &key,
        &document(5, "F").replace("rt_AbCdEfGhIjKlMnOpQrStUvWxF", "changeme"),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"].get("auth.tokens.refresh_token").is_some(),
        "{body}"
    );
    let (status, body) = auth_call(&srv, &key, retrieve("e".repeat(64), "yesterday".into())).await;
    assert_eq!(status, 422);
    assert!(body["errors"].get("last_refresh").is_some(), "{body}");
    let (status, body) =
        auth_call(&srv, &key, retrieve("xyz".into(), Utc::now().to_rfc3339())).await;
    assert_eq!(status, 422);
    assert!(body["errors"].get("digest").is_some(), "{body}");
    let (status, body) = json(
        srv.post("/auth")
            .header("x-api-key", &key)
            .header("content-type", "application/json")
            .body("{\"command\":")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Invalid JSON payload"))
    );
    let (status, _) = auth_call(&srv, &key, json!({"command": "dance"})).await;
    assert_eq!(status, 422);

    // Admin audit shows each change of the canonical document.
    let (_, body) = json(
        srv.get("/api/v1/audit?action=codex_auth.store")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["events"].as_array().unwrap().len(), 3);
    assert!(
        !body.to_string().contains("rt_AbCd"),
        "tokens never reach the audit log"
    );
    srv.stop().await;
}

async fn concurrent_stores_newest_wins(ready: Ready) {
    // The peer's semantics: hosts receive the document as stored.
    shared_custody(&ready).await;
    let Ready { srv, admin } = ready;
    let (_, key) = register(&srv, &admin, "race.example.com").await;
    let srv = Arc::new(srv);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let srv = srv.clone();
        let key = key.clone();
        // Minutes ago: 50 (oldest) .. 1 (newest), in shuffled submission order.
        let age = 1 + (i * 37) % 50;
        tasks.push(tokio::spawn(async move {
            let (status, body) = store(&srv, &key, &document(age, &format!("n{age}"))).await;
            (age, status, body)
        }));
    }
    for t in tasks {
        let (age, status, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        let outcome = body["data"]["status"].as_str().unwrap();
        assert!(matches!(outcome, "updated" | "outdated"), "{outcome}");
        if outcome == "outdated" {
            // The answer carries a document at least as new as the upload.
            let theirs = body["data"]["auth"]["tokens"]["refresh_token"]
                .as_str()
                .unwrap()
                .to_string();
            let their_age: i64 = theirs.rsplit('n').next().unwrap().parse().unwrap();
            assert!(
                their_age <= age,
                "answered {their_age} to an upload of age {age}"
            );
        }
    }
    let (_, body) = auth_call(&srv, &key, json!({"command": "retrieve", "digest": "0".repeat(64), "last_refresh": (Utc::now() - Duration::days(1)).to_rfc3339()})).await;
    assert_eq!(
        body["data"]["auth"]["tokens"]["refresh_token"], "rt_AbCdEfGhIjKlMnOpQrStUvWxn1",
        "the newest upload won"
    );
}

async fn admin_upload_seed_links_and_host_view(Ready { srv, admin }: Ready) {
    // Direct upload: JSON (object or text) and multipart.
    let doc = document(90, "U");
    let body = format!("{{\"auth\":{doc}}}");
    let (status, res) = json(
        srv.post("/admin/auth/upload")
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, res["data"]["status"].as_str()),
        (200, Some("updated")),
        "{res}"
    );
    let text_doc = document(80, "T");
    let (_, res) = json(
        srv.post("/admin/auth/upload")
            .bearer_auth(&admin)
            .json(&json!({"auth": text_doc}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(res["data"]["status"], "updated", "{res}");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::text(document(70, "M")).file_name("auth.json"),
    );
    let (status, res) = json(
        srv.post("/admin/auth/upload")
            .bearer_auth(&admin)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, res["data"]["status"].as_str()),
        (200, Some("updated")),
        "{res}"
    );
    let (status, res) = json(
        srv.post("/admin/auth/upload")
            .json(&json!({"auth": doc}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "{res}");

    // Seed link: the script does not burn it, an invalid upload does not burn it, one valid
    // upload does, and only one of many concurrent uploads wins.
    let (status, res) = json(
        srv.post("/admin/auth/seed-command")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    let url = res["data"]["url"].as_str().unwrap().to_string();
    assert_eq!(
        res["data"]["command"],
        format!("curl -fsSL \"{url}\" | bash")
    );
    let path = format!("/seed/{}", url.split("/seed/").nth(1).unwrap());
    let script = srv.get(&path).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("--data-binary"));
    let (status, res) = json(srv.post(&path).header("content-type", "application/json").body("{\"last_refresh\": \"not a time\", \"OPENAI_API_KEY\": \"sk-abcdefghijklmnopqrstuvwxyz\"}").send().await.unwrap()).await;
    assert_eq!(status, 422, "{res}");
    let srv = Arc::new(srv);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let srv = srv.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let doc = document(10 + i, &format!("S{i}"));
            srv.post(&path)
                .header("content-type", "application/json")
                .body(doc)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 410),
        "{statuses:?}"
    );
    assert_eq!(srv.get(&path).send().await.unwrap().status(), 410);

    // The admin view masks tokens unless revealed, and revealing is audited.
    let (id, key) = register(&srv, &admin, "viewed.example.com").await;
    auth_call(
        &srv,
        &key,
        json!({"digest": "0".repeat(64), "last_refresh": Utc::now().to_rfc3339()}),
    )
    .await;
    let (status, res) = json(
        srv.get(&format!("/admin/hosts/{id}/auth"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    let shown = res["data"]["auth"]["tokens"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        shown.contains('…') && !shown.contains("AbCdEfGhIjKlMnOpQr"),
        "{shown}"
    );
    assert_eq!(res["data"]["seen_digest"], "0".repeat(64));
    assert_eq!(res["data"]["in_sync"], false);
    let (_, res) = json(
        srv.get(&format!(
            "/admin/hosts/{id}/auth?reveal=1&reason=incident-42"
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert!(
        res["data"]["auth"]["tokens"]["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("rt_AbCdEfGhIjKlMnOpQrStUvWx")
    );
    let (_, res) = json(
        srv.get("/api/v1/audit?action=codex_auth.reveal")
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(res["data"]["events"][0]["details"]["reason"], "incident-42");
}

on_all_backends!(ready(auth_on()) => canonical_auth_truth_table, concurrent_stores_newest_wins, admin_upload_seed_links_and_host_view);
