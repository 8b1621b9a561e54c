//! The sign-in pages in a real browser: Debian's Chromium (installed by `scripts/test`) driven
//! by playwright-core from tests/clients/pages_check.mjs, at 360 px and desktop width, with
//! screenshots: first-run setup, login (error shown, form submits), the account page (a token
//! created and shown once), and the closed-registration page.

use codex_central::config::Layer;

use crate::testkit::{Backend, Opts, browser_clients, run_browser_check, spawn};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_pages_work_in_chromium() {
    let Some(clients) = browser_clients("playwright-core") else {
        return;
    };
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
    run_browser_check(
        "pages_check.mjs",
        &clients,
        &srv.url,
        &[("CC_SHOTS", shots.path().as_os_str())],
        std::time::Duration::from_secs(120),
    )
    .await;
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
