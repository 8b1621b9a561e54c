//! Installer links: single use, expiry, previews and the script they serve.

use super::*;

async fn installer_links_are_single_use(Ready { srv, admin }: Ready) {
    let (status, body) = json(
        srv.post("/admin/hosts/register")
            .bearer_auth(&admin)
            .json(&json!({"fqdn": "new.example.com"}))
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
    let installer = &body["data"]["installer"];
    let url = installer["url"].as_str().unwrap().to_string();
    let token = installer["token"].as_str().unwrap().to_string();
    assert!(
        token.starts_with("cci_") && !url.contains(&key),
        "the key never travels in a URL"
    );
    assert_eq!(installer["command"], format!("curl -fsSL \"{url}\" | bash"));
    let path = format!("/install/{token}");

    // Link scanners: HEAD and HTML previews do not consume.
    let res = srv
        .http
        .head(format!("{}{path}", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = srv
        .get(&path)
        .header("accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("new.example.com") && page.contains("curl -fsSL") && !page.contains(&key),
        "{page}"
    );

    // 100 concurrent fetches: exactly one script, the rest 410.
    let srv = Arc::new(srv);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let srv = srv.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let res = srv.get(&path).send().await.unwrap();
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            (status, headers, res.text().await.unwrap())
        }));
    }
    let mut winners = 0;
    for t in tasks {
        let (status, headers, body) = t.await.unwrap();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/x-shellscript")
        );
        assert_eq!(headers["cache-control"], "no-store");
        match status {
            200 => {
                winners += 1;
                assert!(
                    body.contains(&key) && body.contains("new.example.com"),
                    "{body}"
                );
            }
            410 => assert!(
                body.contains("Installer already used") && body.contains("exit 1"),
                "{body}"
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(
        srv.http
            .head(format!("{}{path}", srv.url))
            .send()
            .await
            .unwrap()
            .status(),
        410
    );
    let res = srv
        .get(&format!("/install/cci_{}", "0".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("exit 1"));
    let res = srv.get("/install/garbage").send().await.unwrap();
    assert_eq!(res.status(), 404);

    // Rotating the key revokes the old installer and issues a new one.
    let id = body_id(&srv, &admin, "new.example.com").await;
    let (_, body) = json(
        srv.post(&format!("/admin/hosts/{id}/rotate"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let new_token = body["data"]["installer"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_token, token);
    let res = srv
        .get(&format!("/install/{new_token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(body["data"]["host"]["api_key"].as_str().unwrap())
    );
}

async fn body_id(srv: &TestServer, admin: &str, fqdn: &str) -> i64 {
    let (_, body) = json(
        srv.get(&format!("/admin/hosts?q={fqdn}"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    body["data"]["hosts"][0]["id"].as_i64().unwrap()
}

on_all_backends!(ready(auth_on()) => installer_links_are_single_use);
