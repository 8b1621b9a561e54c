//! The sign-in pages in a real browser: Debian's Chromium (installed by `scripts/test`) driven
//! by playwright-core from tests/clients/pages_check.mjs, at 360 px and desktop width, with
//! screenshots: first-run setup, login (error shown, form submits), the account page (a token
//! created and shown once), and the closed-registration page.

use std::path::PathBuf;

use codex_central::config::Layer;

use crate::testkit::{Backend, Opts, in_ci, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_pages_work_in_chromium() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let modules = root.join("target/node-clients/node_modules");
    let chromium = PathBuf::from("/usr/bin/chromium");
    if !modules.join("playwright-core").exists() || !chromium.exists() {
        assert!(
            !in_ci(),
            "playwright-core or {} is missing: scripts/test installs them",
            chromium.display()
        );
        eprintln!("skipping: Chromium or playwright-core is not installed (run scripts/test once)");
        return;
    }
    let srv = spawn(
        Backend::Sqlite,
        Opts {
            layer: Layer {
                auth_mode: Some(codex_central::config::AuthMode::On),
                ..Default::default()
            },
        },
    )
    .await
    .unwrap();
    let shots = tempfile::tempdir().unwrap();
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new("node")
            .arg(root.join("tests/clients/pages_check.mjs"))
            .env("CC_BASE", &srv.url)
            .env("CC_SHOTS", shots.path())
            .env("PW_NODE_MODULES", &modules)
            .env("CHROMIUM", &chromium)
            .output(),
    )
    .await
    .expect("the browser checks finish")
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("all ok"), "{stdout}");
    for name in [
        "setup-phone",
        "login-phone",
        "login-error-phone",
        "account-phone",
        "register-phone",
        "login-desktop",
        "account-desktop",
    ] {
        let png = std::fs::read(shots.path().join(format!("{name}.png"))).unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{name}: a real screenshot"
        );
    }
}
