//! The offline policy: when the server cannot be reached (network error, timeout, 5xx), Codex
//! still starts with the cached auth.json if the last successful sync is recent enough: 7 days
//! on secure hosts, 24 hours on insecure ones (`host.secure` from the last `/auth` answer; a
//! host never synced counts as insecure). A refusal (401/403) or the kill switch always stops.

use chrono::{DateTime, Duration, Utc};

use crate::api::ApiError;
use crate::error::CdxError;

pub const SECURE_WINDOW: Duration = Duration::days(7);
pub const INSECURE_WINDOW: Duration = Duration::hours(24);

/// What to do after a sync that failed with `err`.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Start Codex; print this one warning line.
    Continue(String),
    Stop(CdxError),
}

fn age_text(d: Duration) -> String {
    if d.num_days() >= 1 {
        format!("{} day(s)", d.num_days())
    } else if d.num_hours() >= 1 {
        format!("{} hour(s)", d.num_hours())
    } else {
        format!("{} minute(s)", d.num_minutes().max(0))
    }
}

pub fn judge(
    err: &ApiError,
    last_sync: Option<DateTime<Utc>>,
    secure: Option<bool>,
    have_auth: bool,
    now: DateTime<Utc>,
) -> Verdict {
    match err {
        ApiError::KillSwitch(m) => Verdict::Stop(CdxError::KillSwitch(format!(
            "cdx: the fleet's API is disabled by an administrator ({m}); Codex is not started"
        ))),
        ApiError::Denied(m) => Verdict::Stop(CdxError::Denied(format!(
            "cdx: the server refused this host ({m}); ask your fleet admin"
        ))),
        ApiError::Offline(m) | ApiError::Other(m) => {
            let window = if secure == Some(true) {
                SECURE_WINDOW
            } else {
                INSECURE_WINDOW
            };
            let Some(last) = last_sync else {
                return Verdict::Stop(CdxError::Offline(format!(
                    "cdx: cannot reach the server ({m}) and this host has never synced; Codex is not started"
                )));
            };
            if !have_auth {
                return Verdict::Stop(CdxError::Offline(format!(
                    "cdx: cannot reach the server ({m}) and there is no cached auth.json; Codex is not started"
                )));
            }
            let age = now - last;
            if age > window {
                Verdict::Stop(CdxError::Offline(format!(
                    "cdx: cannot reach the server ({m}); the last sync was {} ago, beyond the {} offline window; Codex is not started",
                    age_text(age),
                    age_text(window)
                )))
            } else {
                Verdict::Continue(format!(
                    "cdx: warning: cannot reach the server ({m}); using the cached auth.json from {} ago (offline for at most {})",
                    age_text(age),
                    age_text(window)
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;

    fn off() -> ApiError {
        ApiError::Offline("/auth: cannot connect".into())
    }

    #[test]
    fn windows() {
        let now = Utc::now();
        let ago = |h: i64| Some(now - Duration::hours(h));
        assert!(matches!(
            judge(&off(), ago(24 * 6), Some(true), true, now),
            Verdict::Continue(_)
        ));
        let Verdict::Stop(e) = judge(&off(), ago(24 * 8), Some(true), true, now) else {
            panic!("beyond the window")
        };
        assert_eq!(e.exit_code(), code::OFFLINE);
        assert!(e.to_string().contains("8 day(s)"), "{e}");
        assert!(matches!(
            judge(&off(), ago(23), Some(false), true, now),
            Verdict::Continue(_)
        ));
        assert!(matches!(
            judge(&off(), ago(25), Some(false), true, now),
            Verdict::Stop(_)
        ));
        assert!(matches!(
            judge(&off(), None, None, true, now),
            Verdict::Stop(_)
        ));
        assert!(matches!(
            judge(&off(), ago(1), Some(true), false, now),
            Verdict::Stop(_)
        ));
    }

    #[test]
    fn denial_and_kill_switch_always_stop() {
        let now = Utc::now();
        let Verdict::Stop(e) = judge(
            &ApiError::Denied("/auth: 401 Invalid API key".into()),
            Some(now),
            Some(true),
            true,
            now,
        ) else {
            panic!()
        };
        assert_eq!(e.exit_code(), code::DENIED);
        assert!(e.to_string().contains("Invalid API key"));
        let Verdict::Stop(e) = judge(
            &ApiError::KillSwitch("API disabled by administrator".into()),
            Some(now),
            Some(true),
            true,
            now,
        ) else {
            panic!()
        };
        assert_eq!(e.exit_code(), code::KILL_SWITCH);
    }
}
