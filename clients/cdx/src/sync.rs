//! The pre-run sync: `/auth`, `/config/retrieve` and `/versions` in parallel over one client,
//! within a total budget. The outcome is judged by `offline` (continue, warn or stop).

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use crate::api::{Api, ApiError};
use crate::auth_sync::{self, AuthOutcome};
use crate::config::Paths;
use crate::config_sync::{self, ConfigOutcome};
use crate::content_sync::{self, ContentOutcome, Owned};
use crate::digest::auth_digest;
use crate::files;
use crate::skills_sync::{self, SkillsOutcome};
use crate::state::State;

/// The whole sync must finish within this; past it the run counts as offline.
pub const BUDGET: Duration = Duration::from_secs(8);

#[derive(Debug)]
pub struct SyncReport {
    pub auth: Result<AuthOutcome, ApiError>,
    pub config: Result<ConfigOutcome, ApiError>,
    pub versions: Result<Value, ApiError>,
    pub content: Result<ContentOutcome, ApiError>,
    pub skills: Result<SkillsOutcome, ApiError>,
}

impl SyncReport {
    /// The first failure that decides the run: kill switch, then denial, then offline.
    pub fn blocking_error(&self) -> Option<ApiError> {
        let errs: Vec<&ApiError> = [
            self.auth.as_ref().err(),
            self.versions.as_ref().err(),
            self.config.as_ref().err(),
            self.content.as_ref().err(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let find = |f: fn(&ApiError) -> bool| errs.iter().find(|e| f(e)).map(|e| (*e).clone());
        find(|e| matches!(e, ApiError::KillSwitch(_)))
            .or_else(|| find(|e| matches!(e, ApiError::Denied(_))))
            .or_else(|| {
                // Only auth decides offline-ness: config and versions are optional extras.
                match &self.auth {
                    Err(e @ ApiError::Offline(_)) | Err(e @ ApiError::Other(_)) => Some(e.clone()),
                    _ => None,
                }
            })
    }

    /// The fleet's `cdx_silent` (from `/versions`, else the `/auth` answer's copy).
    pub fn silent(&self) -> bool {
        let flag = |v: &Value| {
            v.get("cdx_silent").is_some_and(|f| {
                f.as_bool().unwrap_or(false)
                    || f.as_i64() == Some(1)
                    || f.as_str()
                        .is_some_and(|s| matches!(s, "1" | "true" | "yes" | "on"))
            })
        };
        match (&self.versions, &self.auth) {
            (Ok(v), _) => flag(v),
            (Err(_), Ok(a)) => a.versions.as_ref().is_some_and(flag),
            _ => false,
        }
    }

    /// Whether `/versions` says the fleet's API is off.
    pub fn api_disabled(&self) -> bool {
        self.versions
            .as_ref()
            .ok()
            .and_then(|v| v.get("api_disabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

fn timeout<T>(r: Result<Result<T, ApiError>, tokio::time::error::Elapsed>) -> Result<T, ApiError> {
    r.unwrap_or_else(|_| {
        Err(ApiError::Offline(format!(
            "the server did not answer within {}s",
            BUDGET.as_secs()
        )))
    })
}

/// Runs the three exchanges in parallel and records what they settled in `state`.
pub async fn run(api: &Api, paths: &Paths, state: &mut State) -> SyncReport {
    let auth_path = paths.auth_json();
    let snapshot = state.clone();
    let owned = Owned {
        agents_sha256: state.agents_sha256.clone(),
        prompts: state.prompts.clone(),
    };
    let skills_before = state.skills.clone();
    let (auth, config, versions, content, skills) = tokio::join!(
        tokio::time::timeout(BUDGET, auth_sync::sync(api, &auth_path)),
        tokio::time::timeout(BUDGET, config_sync::fetch(api, paths, &snapshot)),
        tokio::time::timeout(BUDGET, api.call(reqwest::Method::GET, "/versions", None)),
        tokio::time::timeout(BUDGET, content_sync::run(api, &paths.codex_home, &owned)),
        tokio::time::timeout(
            BUDGET,
            skills_sync::run(api, &paths.codex_home, &skills_before)
        ),
    );
    let skills = timeout(skills);
    if let Ok(s) = &skills {
        state.skills = s.owned.clone();
    }
    let content = timeout(content);
    if let Ok(c) = &content {
        state.agents_sha256 = c.owned.agents_sha256.clone();
        state.prompts = c.owned.prompts.clone();
    }
    let auth = timeout(auth);
    let versions = timeout(versions);
    let config = timeout(config)
        .and_then(|data| config_sync::apply(&data, paths, state).map_err(ApiError::Other));
    if let Ok(v) = &versions {
        state.versions = Some(v.clone());
    }
    if let Ok(a) = &auth {
        state.last_sync = Some(Utc::now());
        if a.host_secure.is_some() {
            state.host_secure = a.host_secure;
        }
        state.codex_pin = a.codex_pin.clone().filter(|v| !v.is_empty());
        state.quota = a.quota.clone();
        state.canonical_digest = a.canonical_digest.clone();
        state.canonical_last_refresh = a.canonical_last_refresh.clone();
        state.auth_digest = files::read_optional(&auth_path)
            .ok()
            .flatten()
            .and_then(|t| auth_digest(&t));
        if state.versions.is_none() {
            state.versions = a.versions.clone();
        }
        state.last_outcome = Some(format!("auth {}", a.status));
    }
    SyncReport {
        auth,
        config,
        versions,
        content,
        skills,
    }
}
