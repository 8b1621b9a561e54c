//! A spinner on stderr for waits a person would otherwise stare at (a slow sync, a download, an
//! npm install): only on a terminal, only after 300 ms (a quick sync shows nothing), never when
//! the fleet asks for silence.

use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::ProgressBar;

const DELAY: Duration = Duration::from_millis(300);

/// Whether spinners may be drawn: stderr is a terminal and the fleet is not silent.
pub fn allowed(silent: bool) -> bool {
    !silent && std::io::stderr().is_terminal()
}

/// Awaits `fut`, showing `message` with a spinner once it has taken longer than 300 ms.
pub async fn spin<F: Future>(message: &str, enabled: bool, fut: F) -> F::Output {
    if !enabled {
        return fut.await;
    }
    let mut fut = std::pin::pin!(fut);
    tokio::select! {
        out = &mut fut => return out,
        () = tokio::time::sleep(DELAY) => {}
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message(format!("cdx: {message}"));
    bar.enable_steady_tick(Duration::from_millis(100));
    let out = fut.await;
    bar.finish_and_clear();
    out
}
