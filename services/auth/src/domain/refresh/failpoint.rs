//! Test hooks at the points of a refresh where a crash matters (after the claim, after the
//! answer is kept). Debug builds only: `CODEX_CENTRAL_FAILPOINTS=name=pause:MS,name=abort`.
//! Release builds compile every hook to nothing.

pub async fn hit(name: &str) {
    #[cfg(debug_assertions)]
    {
        let Ok(spec) = std::env::var("CODEX_CENTRAL_FAILPOINTS") else {
            return;
        };
        for item in spec.split(',') {
            let Some((point, action)) = item.trim().split_once('=') else {
                continue;
            };
            if point != name {
                continue;
            }
            tracing::warn!(failpoint = name, action, "failpoint hit");
            if action == "abort" {
                std::process::abort();
            }
            if let Some(ms) = action.strip_prefix("pause:").and_then(|ms| ms.parse().ok()) {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            }
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
