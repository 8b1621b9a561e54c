//! Per-user Codex client config: export bundles (files, zip, a minted token that works on
//! `/v1`), `apply.sh` run for real, `apply.ps1` checked for its structure, imports (encrypted
//! at rest) and the history's retention, on every backend.

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

use crate::on_all_backends;
use crate::testkit::{Ready, auth_on, json, sign_in};

struct Session {
    cookie: String,
    csrf: String,
}

impl Session {
    async fn post(&self, r: &Ready, path: &str, body: Value) -> reqwest::Response {
        r.srv
            .post(path)
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, r: &Ready, path: &str) -> (u16, Value) {
        json(
            r.srv
                .get(path)
                .header("cookie", &self.cookie)
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

async fn export(s: &Session, r: &Ready, body: Value) -> Value {
    let (status, body) = json(s.post(r, "/api/v1/account/codex-config/export", body).await).await;
    assert_eq!(status, 201, "{body}");
    body["data"].clone()
}

/// The zip's entries and their unix modes, as Python's zipfile reads them.
fn zip_listing(bytes: &[u8]) -> Vec<(String, u32)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bundle.zip");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps([[i.filename, (i.external_attr >> 16) & 0o777] for i in z.infolist()]))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn client_config(r: Ready) {
    let (status, body) = r
        .admin_post(
            "/api/v1/providers",
            json!({"name": "up", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1",
                   "wire_api": "responses", "models": [{"name": "fleet-model", "upstream": "up-model"}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (cookie, csrf) = sign_in(&r.srv, &r.admin, "dora").await;
    let s = Session { cookie, csrf };

    let (status, body) = s.get(&r, "/api/v1/account/codex-config").await;
    assert_eq!(status, 200, "{body}");
    let state = &body["data"];
    assert_eq!(state["model"], "fleet-model");
    assert_eq!(state["provider_id"], "up");
    assert_eq!(state["base_url"], format!("{}/v1", r.srv.url));
    assert!(state["latest_entry"].is_null());
    // Admins' service tokens are not people: no client config of their own.
    let (status, _) = r.admin_get("/api/v1/account/codex-config").await;
    assert_eq!(status, 409);

    // An export with a minted token: auth.json carries it, and it works on /v1.
    let data = export(&s, &r, json!({"mint_token": true, "token_name": "laptop"})).await;
    let auth: Value = serde_json::from_str(data["files"]["auth.json"].as_str().unwrap()).unwrap();
    let key = auth["OPENAI_API_KEY"].as_str().unwrap().to_string();
    assert!(key.starts_with("m2c_"), "{auth}");
    assert_eq!(data["token"]["name"], "laptop");
    assert_eq!(data["placeholder"], false);
    assert_eq!(data["entry"]["kind"], "apply");
    let config = data["files"]["config.toml"].as_str().unwrap();
    let doc: toml::Table = toml::from_str(config).unwrap();
    assert_eq!(doc["model"].as_str(), Some("fleet-model"));
    let provider = &doc["model_providers"]["codex-central"];
    assert_eq!(
        provider["base_url"].as_str(),
        Some(format!("{}/v1", r.srv.url).as_str())
    );
    assert_eq!(provider["wire_api"].as_str(), Some("responses"));
    assert_eq!(provider["requires_openai_auth"].as_bool(), Some(true));
    let res = r
        .srv
        .get("/v1/models")
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the minted token is usable");

    // The zip holds the four files with their modes; one file can be downloaded alone.
    let res = s
        .post(
            &r,
            "/api/v1/account/codex-config/export",
            json!({"format": "zip"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let listing = zip_listing(&res.bytes().await.unwrap());
    assert_eq!(
        listing,
        vec![
            ("auth.json".to_string(), 0o600),
            ("config.toml".to_string(), 0o600),
            ("apply.sh".to_string(), 0o755),
            ("apply.ps1".to_string(), 0o644),
        ]
    );
    let res = s
        .post(
            &r,
            "/api/v1/account/codex-config/export",
            json!({"format": "apply.sh"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("apply.sh")
    );
    let res = s
        .post(
            &r,
            "/api/v1/account/codex-config/export",
            json!({"format": "tar"}),
        )
        .await;
    assert_eq!(res.status(), 422);

    // apply.sh, run for real: backs up what is there, writes 0600 files, says so.
    let bundle = tempfile::tempdir().unwrap();
    for name in ["auth.json", "config.toml", "apply.sh", "apply.ps1"] {
        std::fs::write(
            bundle.path().join(name),
            data["files"][name].as_str().unwrap(),
        )
        .unwrap();
    }
    let home = tempfile::tempdir().unwrap();
    let codex_home = home.path().join(".codex");
    std::fs::create_dir(&codex_home).unwrap();
    std::fs::write(codex_home.join("config.toml"), "model = \"old\"\n").unwrap();
    let out = std::process::Command::new("bash")
        .arg(bundle.path().join("apply.sh"))
        .env("HOME", home.path())
        .env_remove("CODEX_HOME")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    for name in ["auth.json", "config.toml"] {
        let path = codex_home.join(name);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            data["files"][name].as_str().unwrap()
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
        assert!(
            said.contains(&format!("wrote {}", path.display())),
            "{said}"
        );
    }
    let backups: Vec<String> = std::fs::read_dir(&codex_home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".bak."))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(backups[0].starts_with("config.toml.bak."), "{backups:?}");
    assert_eq!(
        std::fs::read_to_string(codex_home.join(&backups[0])).unwrap(),
        "model = \"old\"\n"
    );
    // Without its companions it refuses instead of writing half a config.
    std::fs::remove_file(bundle.path().join("auth.json")).unwrap();
    let out = std::process::Command::new("bash")
        .arg(bundle.path().join("apply.sh"))
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(!out.status.success());

    // apply.ps1 (no pwsh here): its structure.
    let ps1 = data["files"]["apply.ps1"].as_str().unwrap();
    assert_eq!(ps1.matches('{').count(), ps1.matches('}').count(), "{ps1}");
    assert_eq!(ps1.matches('(').count(), ps1.matches(')').count(), "{ps1}");
    for needle in [
        "$ErrorActionPreference = 'Stop'",
        "$env:CODEX_HOME",
        "Join-Path $HOME '.codex'",
        "Copy-Item -LiteralPath $target -Destination \"$target.bak.$stamp\"",
        "icacls $target /inheritance:r",
        "chmod 600 $target",
        "foreach ($f in $files)",
    ] {
        assert!(ps1.contains(needle), "apply.ps1 lacks {needle}:\n{ps1}");
    }

    // Imports: checked, archived encrypted, the first one kept forever as `initial`.
    let (status, body) = json(
        s.post(
            &r,
            "/api/v1/account/codex-config/import",
            json!({"auth_json": "{}", "config_toml": "model = \n"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["errors"]["config_toml"][0]
            .as_str()
            .unwrap()
            .starts_with("line 1, column 9"),
        "{body}"
    );
    let secret = "sk-my-own-secret-0123456789";
    let (status, body) = json(
        s.post(
            &r,
            "/api/v1/account/codex-config/import",
            json!({"auth_json": {"OPENAI_API_KEY": secret}, "config_toml": "model = \"mine\"\n",
                   "provider_id": "openai", "model": "mine", "note": "before codex-central"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["kind"], "initial");
    assert_eq!(body["data"]["has_auth_json"], true);
    let initial = body["data"]["id"].as_str().unwrap().to_string();
    let db = Database::connect(&r.srv.db.as_ref().unwrap().url)
        .await
        .unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT auth_json_enc FROM client_config_entries WHERE auth_json_enc <> ''",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].try_get("", "auth_json_enc").unwrap();
    assert!(!stored.contains(secret) && !stored.is_empty());

    // Bundling the initial entry again gives back exactly what was imported.
    let data = export(&s, &r, json!({"history_entry_id": initial})).await;
    assert_eq!(data["entry"]["kind"], "restore");
    assert_eq!(data["files"]["config.toml"], "model = \"mine\"\n");
    let auth: Value = serde_json::from_str(data["files"]["auth.json"].as_str().unwrap()).unwrap();
    assert_eq!(auth["OPENAI_API_KEY"], secret);
    // So does bundling that restore again.
    let again = export(&s, &r, json!({"history_entry_id": data["entry"]["id"]})).await;
    assert_eq!(again["files"]["auth.json"], data["files"]["auth.json"]);
    // A new export goes back to a model the gateway serves; an unknown one is refused.
    let fresh = export(&s, &r, json!({})).await;
    assert!(
        fresh["files"]["config.toml"]
            .as_str()
            .unwrap()
            .contains("model = \"fleet-model\""),
        "{fresh}"
    );
    let (status, body) = json(
        s.post(
            &r,
            "/api/v1/account/codex-config/export",
            json!({"model": "nope"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["errors"]["model"].is_array(), "{body}");

    // Retention: initial plus the 10 newest; the 11th evicts the oldest non-initial.
    let (_, body) = s.get(&r, "/api/v1/account/codex-config/history").await;
    let before: Vec<Value> = body["data"]["entries"].as_array().unwrap().clone();
    // Three exports (token, zip, one file), the import, two restores, one more export.
    assert_eq!(before.len(), 7, "{body}");
    let oldest_other = before
        .iter()
        .rev()
        .find(|e| e["kind"] != "initial")
        .unwrap()["id"]
        .clone();
    for _ in 0..4 {
        export(&s, &r, json!({})).await;
    }
    let (_, body) = s.get(&r, "/api/v1/account/codex-config/history").await;
    let entries = body["data"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 11, "{body}");
    assert!(
        entries.iter().any(|e| e["id"] == oldest_other),
        "ten others are kept"
    );
    let (status, body) = json(
        s.post(
            &r,
            "/api/v1/account/codex-config/import",
            json!({"config_toml": "model = \"x\"\n"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["data"]["kind"].as_str()),
        (201, Some("import")),
        "{body}"
    );
    let (_, body) = s.get(&r, "/api/v1/account/codex-config/history").await;
    let entries = body["data"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 11);
    assert_eq!(entries.iter().filter(|e| e["kind"] == "initial").count(), 1);
    assert!(entries.iter().all(|e| e["id"] != oldest_other), "{body}");
    assert!(
        entries.iter().any(|e| e["id"] == initial.as_str()),
        "initial is kept forever"
    );
    // Another user's history: admins only.
    let user = r.admin_get("/api/v1/users").await.1["data"]["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "dora")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = r
        .admin_get(&format!(
            "/api/v1/account/codex-config/history?user_id={user}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["entries"].as_array().unwrap().len(), 11);
}

on_all_backends!(ready(auth_on()) => client_config);

/// Auth mode off: `/v1` takes any key, so the export writes a placeholder and mints nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_mode_off_exports_a_placeholder() {
    let Some(srv) = crate::testkit::spawn(
        crate::testkit::Backend::Sqlite,
        crate::testkit::Opts::default(),
    )
    .await
    else {
        return;
    };
    let res = srv
        .post("/api/v1/providers")
        .json(&json!({"name": "up", "kind": "openai-compatible", "base_url": "http://127.0.0.1:9/v1",
                      "wire_api": "responses", "models": [{"name": "fleet-model", "upstream": "up-model"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (status, body) = json(
        srv.post("/api/v1/account/codex-config/export")
            .json(&json!({"mint_token": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["data"]["placeholder"], true);
    assert!(body["data"]["token"].is_null());
    let auth: Value =
        serde_json::from_str(body["data"]["files"]["auth.json"].as_str().unwrap()).unwrap();
    assert_eq!(auth["OPENAI_API_KEY"], "codex-central-placeholder");
}
