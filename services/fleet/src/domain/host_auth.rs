//! Host authentication (SPEC §4): key lookup, disabled hosts, the per-IP failure budget, IP
//! binding and roaming, insecure windows and grace, temporary-host expiry.
//!
//! The hot path reads hosts from a cache keyed by key digest and never writes per request: call
//! counts and last-seen times are coalesced in memory and flushed once a second, and
//! expiry/insecure-window extensions are written only when they would move by more than a
//! minute. Changes made through this process drop the cached entry at once; changes made by
//! other replicas reach every cache through the host change log, read once a second, so a
//! cached host is never more than about a second behind the database. Should that read stop
//! working, the cache stops answering after [`SYNC_STALE_AFTER`] rather than serve stale hosts.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codex_central_common::crypto::token_digest;
use codex_central_common::net::canonical;
use codex_central_common::ttl_cache::TtlCache;
use codex_central_store::auth_failures::{self, Budget};
use codex_central_store::entities::hosts::{Column, Model};
use codex_central_store::{Store, host_changes, hosts, now_ms};

use super::hosts::{TEMPORARY_TTL, millis};
use crate::{Error, Result};

/// How long the failure-budget "not blocked" answer is trusted per IP.
pub const CACHE_TTL: Duration = Duration::from_secs(1);
/// A safety net only: entries are dropped by the change log long before this.
const HOST_TTL: Duration = Duration::from_secs(300);
/// The change log is read back this far, so a change committed late (or with a clock a few
/// seconds off) is still seen.
const CHANGE_WINDOW_MS: i64 = 10_000;
/// A cached entry loaded this long after a change is known to include it.
const LOAD_AFTER_CHANGE_MS: i64 = 2_000;
/// Without a successful change-log read for this long, hosts are read from the database.
pub const SYNC_STALE_AFTER: Duration = Duration::from_secs(3);
/// How often coalesced call counts and last-seen times are written. Every host that called
/// since the last flush costs a row update, so at 100,000 busy hosts a longer interval means
/// far fewer writes; the cached host answers with live counts meanwhile.
pub const ACTIVITY_FLUSH: Duration = Duration::from_secs(5);
/// Change-log rows are deleted after an hour (they are read for seconds).
const CHANGE_RETENTION_MS: i64 = 3_600_000;
/// Extensions smaller than this are not written (the window is minutes or hours long).
const EXTENSION_SLACK_MS: i64 = 60_000;
/// The peer's defaults: 20 failures per 10 minutes, then blocked for 30 minutes.
pub const FAILURE_BUDGET: Budget = Budget {
    max_failures: 20,
    window_ms: 600_000,
    block_ms: 1_800_000,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    General,
    AuthRetrieve,
    AuthStore,
    Mcp,
}

#[derive(Debug, Clone)]
pub struct HostCall<'a> {
    pub api_key: &'a str,
    pub client_ip: Option<IpAddr>,
    pub kind: CallKind,
    pub force_ip_update: bool,
    /// The server installation id the wrapper was built for; empty when not sent.
    pub installation_id: &'a str,
    pub client_version: &'a str,
    pub wrapper_version: &'a str,
}

/// A cached host and the calls this process counted since it was loaded.
struct CachedHost {
    model: Model,
    loaded_at: i64,
    calls_since_load: AtomicI64,
}

/// When the change log was last read successfully.
struct SyncState {
    at: Instant,
    at_ms: i64,
}

#[derive(Clone)]
pub struct HostAuthenticator {
    store: Store,
    /// Key digest -> host.
    cache: TtlCache<String, Arc<CachedHost>>,
    synced: Arc<Mutex<SyncState>>,
    pending: Arc<Mutex<HashMap<i64, hosts::Activity>>>,
    /// IPs recently seen without a block: the failure budget is read from the database at
    /// most once a second per address (a block made elsewhere applies within that bound).
    unblocked: TtlCache<String, ()>,
    /// The kill switch, read at most once a second (changes through this process apply at once).
    api_enabled: TtlCache<(), bool>,
    installation_id: Arc<tokio::sync::OnceCell<String>>,
}

impl HostAuthenticator {
    /// Caches at most `capacity` hosts (and as many client addresses).
    pub fn new(store: Store, capacity: usize) -> Self {
        HostAuthenticator {
            store,
            cache: TtlCache::new(HOST_TTL, capacity),
            synced: Arc::new(Mutex::new(SyncState {
                at: Instant::now(),
                at_ms: now_ms(),
            })),
            pending: Arc::new(Mutex::new(HashMap::new())),
            unblocked: TtlCache::new(CACHE_TTL, capacity),
            api_enabled: TtlCache::new(CACHE_TTL, 1),
            installation_id: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    /// Once a second until the returned task is aborted: writes coalesced activity, and (in a
    /// task of its own, so a slow flush never holds the cache's freshness back) reads the host
    /// change log.
    pub fn spawn_flusher(&self) -> tokio::task::JoinHandle<()> {
        let syncer = self.clone();
        let sync = tokio::spawn(async move {
            let mut ticks: u64 = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Err(err) = syncer.sync_changes().await {
                    tracing::warn!(error = %err, "could not read the host change log");
                }
                ticks += 1;
                if ticks.is_multiple_of(600) {
                    let before = now_ms() - CHANGE_RETENTION_MS;
                    if let Err(err) = host_changes::prune(&syncer.store, before).await {
                        tracing::warn!(error = %err, "could not prune the host change log");
                    }
                }
            }
        });
        let this = self.clone();
        tokio::spawn(async move {
            // Aborting the flusher stops the change-log reader with it.
            struct AbortOnDrop(tokio::task::JoinHandle<()>);
            impl Drop for AbortOnDrop {
                fn drop(&mut self) {
                    self.0.abort();
                }
            }
            let _sync = AbortOnDrop(sync);
            loop {
                tokio::time::sleep(ACTIVITY_FLUSH).await;
                this.flush().await;
            }
        })
    }

    /// Drops cached hosts that changed (on any replica) since they were loaded.
    pub async fn sync_changes(&self) -> Result<()> {
        let started = Instant::now();
        let now = now_ms();
        let since = self.synced.lock().map_or(now, |s| s.at_ms) - CHANGE_WINDOW_MS;
        let changes = host_changes::since(&self.store, since, 10_000).await?;
        if changes.len() >= 10_000 {
            self.cache.clear();
        } else if !changes.is_empty() {
            let mut changed: HashMap<i64, i64> = HashMap::new();
            for (host_id, at) in changes {
                let latest = changed.entry(host_id).or_insert(at);
                *latest = (*latest).max(at);
            }
            self.cache.retain(|c| {
                changed
                    .get(&c.model.id)
                    .is_none_or(|&at| c.loaded_at > at + LOAD_AFTER_CHANGE_MS)
            });
        }
        if let Ok(mut s) = self.synced.lock() {
            *s = SyncState {
                at: started,
                at_ms: now,
            };
        }
        Ok(())
    }

    /// Whether the change log was read recently enough to trust the cache.
    fn cache_usable(&self) -> bool {
        self.synced
            .lock()
            .is_ok_and(|s| s.at.elapsed() < SYNC_STALE_AFTER)
    }

    /// Writes pending call counts and last-seen times now.
    pub async fn flush(&self) {
        let batch: Vec<hosts::Activity> = match self.pending.lock() {
            Ok(mut p) => p.drain().map(|(_, a)| a).collect(),
            Err(_) => return,
        };
        if let Err(err) = hosts::record_activity(&self.store, &batch).await {
            tracing::warn!(error = %err, hosts = batch.len(), "could not record host activity");
        }
    }

    /// Drops every cached host (after an admin change in this process).
    pub fn invalidate(&self) {
        self.cache.clear();
        self.api_enabled.clear();
    }

    /// The kill switch: every host call is refused while the API is disabled.
    async fn ensure_api_enabled(&self) -> Result<()> {
        let enabled = match self.api_enabled.get(&()) {
            Some(enabled) => enabled,
            None => {
                let enabled = super::policy::get(&self.store).await?.api_enabled;
                self.api_enabled.insert((), enabled);
                enabled
            }
        };
        if enabled {
            Ok(())
        } else {
            Err(Error::unavailable("API disabled by administrator"))
        }
    }

    pub async fn authenticate(&self, call: HostCall<'_>) -> Result<Model> {
        self.ensure_api_enabled().await?;
        let now = now_ms();
        let ip_text = call.client_ip.map(|ip| canonical(ip).to_string());
        if let Some(ip) = &ip_text {
            self.check_not_blocked(ip, now).await?;
        }
        let key = call.api_key.trim();
        if key.is_empty() {
            return Err(self.fail(ip_text.as_deref(), now, "API key missing").await);
        }
        let Some(mut host) = self.lookup(key).await? else {
            return Err(self.fail(ip_text.as_deref(), now, "Invalid API key").await);
        };
        if host.expires_at.is_some_and(|e| e < now) {
            // Expired temporary hosts are as good as deleted (the pruner removes them).
            return Err(self.fail(ip_text.as_deref(), now, "Invalid API key").await);
        }
        if host.status != "active" {
            return Err(Error::permission_denied("Host is disabled"));
        }
        let presented = call.installation_id.trim();
        if !presented.is_empty() && presented != self.installation_id().await? {
            return Err(Error::permission_denied("Installation ID mismatch"));
        }
        if let Some(ip) = &ip_text {
            self.check_ip(&mut host, ip, call.force_ip_update, now)
                .await?;
        }
        self.check_insecure(&mut host, call.kind, now).await?;
        if let Some(expires) = host.expires_at {
            let target = now + millis(TEMPORARY_TTL);
            if target - expires > EXTENSION_SLACK_MS {
                hosts::extend(&self.store, host.id, Column::ExpiresAt, target).await?;
                host.expires_at = Some(target);
                self.forget(&host.key_digest);
            }
        }
        self.note_activity(&mut host, now, call.client_version, call.wrapper_version);
        Ok(host)
    }

    /// This server's installation id (created once, then cached for the process lifetime).
    pub async fn installation_id(&self) -> Result<String> {
        let store = self.store.clone();
        Ok(self
            .installation_id
            .get_or_try_init(|| async move { super::policy::installation_id(&store).await })
            .await?
            .clone())
    }

    async fn check_not_blocked(&self, ip: &str, now: i64) -> Result<()> {
        if self.unblocked.get(ip).is_some() {
            return Ok(());
        }
        if let Some(until) = auth_failures::blocked_until(&self.store, ip, now).await? {
            return Err(too_many(until, now));
        }
        self.unblocked.insert(ip.to_string(), ());
        Ok(())
    }

    async fn lookup(&self, key: &str) -> Result<Option<Model>> {
        if !is_host_key_shape(key) {
            return Ok(None);
        }
        let digest = token_digest(key);
        let usable = self.cache_usable();
        if usable && let Some(cached) = self.cache.get(&digest) {
            let calls = cached.calls_since_load.fetch_add(1, Ordering::Relaxed);
            let mut host = cached.model.clone();
            host.api_calls += calls;
            return Ok(Some(host));
        }
        let loaded_at = now_ms();
        let host = hosts::find_by_key_digest(&self.store, &digest).await?;
        if let Some(h) = &host
            && usable
        {
            self.cache.insert(
                digest,
                Arc::new(CachedHost {
                    model: h.clone(),
                    loaded_at,
                    calls_since_load: AtomicI64::new(1),
                }),
            );
        }
        Ok(host)
    }

    fn forget(&self, digest: &str) {
        self.cache.remove(digest);
    }

    async fn fail(&self, ip: Option<&str>, now: i64, message: &str) -> Error {
        let Some(ip) = ip else {
            return Error::unauthenticated(message);
        };
        match auth_failures::record_failure(&self.store, ip, now, FAILURE_BUDGET).await {
            Ok(Some(until)) => {
                self.unblocked.remove(ip);
                too_many(until, now)
            }
            Ok(None) => Error::unauthenticated(message),
            Err(err) => err.into(),
        }
    }

    async fn check_ip(&self, host: &mut Model, ip: &str, force: bool, now: i64) -> Result<()> {
        match host.ip.as_deref() {
            None => {
                // First use binds; if another call bound first, re-read and judge against it.
                if !hosts::bind_ip(&self.store, host.id, ip, true, now).await? {
                    let fresh = hosts::get(self.store.db(), host.id).await?;
                    host.ip = fresh.ip;
                    self.forget(&host.key_digest);
                    if host.ip.as_deref() != Some(ip) && !(host.allow_roaming || force) {
                        return Err(ip_denied(host.ip.as_deref().unwrap_or(""), ip));
                    }
                }
                host.ip = Some(ip.to_string());
                self.forget(&host.key_digest);
                Ok(())
            }
            Some(bound) if bound == ip => Ok(()),
            Some(bound) => {
                if host.allow_roaming || force {
                    hosts::bind_ip(&self.store, host.id, ip, false, now).await?;
                    host.ip = Some(ip.to_string());
                    self.forget(&host.key_digest);
                    Ok(())
                } else {
                    Err(ip_denied(bound, ip))
                }
            }
        }
    }

    async fn check_insecure(&self, host: &mut Model, kind: CallKind, now: i64) -> Result<()> {
        if host.secure || kind == CallKind::General {
            return Ok(());
        }
        let open = host.insecure_enabled_until.is_some_and(|u| u >= now);
        let grace = host.insecure_grace_until.is_some_and(|u| u >= now);
        if !(open || (kind == CallKind::AuthStore && grace)) {
            return Err(Error::permission_denied(
                "Insecure host API access disabled",
            ));
        }
        if open {
            let target = now + i64::from(host.insecure_window_minutes.max(0)) * 60_000;
            if target - host.insecure_enabled_until.unwrap_or(0) > EXTENSION_SLACK_MS {
                hosts::extend(&self.store, host.id, Column::InsecureEnabledUntil, target).await?;
                host.insecure_enabled_until = Some(target);
                self.forget(&host.key_digest);
            }
        }
        Ok(())
    }

    fn note_activity(
        &self,
        host: &mut Model,
        now: i64,
        client_version: &str,
        wrapper_version: &str,
    ) {
        let client = (!client_version.is_empty()
            && host.client_version.as_deref() != Some(client_version))
        .then(|| clip(client_version));
        let wrapper = (!wrapper_version.is_empty()
            && host.wrapper_version.as_deref() != Some(wrapper_version))
        .then(|| clip(wrapper_version));
        if let Ok(mut pending) = self.pending.lock() {
            let entry = pending.entry(host.id).or_insert_with(|| hosts::Activity {
                id: host.id,
                first_use: host.provisioned_at.is_none(),
                ..Default::default()
            });
            entry.calls += 1;
            entry.last_seen = now;
            if client.is_some() {
                entry.client_version = client.clone();
            }
            if wrapper.is_some() {
                entry.wrapper_version = wrapper.clone();
            }
        }
        host.api_calls += 1;
        host.last_seen_at = Some(now);
        if let Some(v) = client {
            host.client_version = Some(v);
        }
        if let Some(v) = wrapper {
            host.wrapper_version = Some(v);
        }
    }
}

/// The principal a host acts as once authenticated.
pub fn principal_of(host: &Model) -> codex_central_common::Principal {
    codex_central_common::Principal {
        kind: codex_central_common::PrincipalKind::Host,
        id: host.id.to_string(),
        name: host.fqdn.clone(),
        role: codex_central_common::Role::Host,
    }
}

pub use codex_central_common::crypto::is_host_key_shape;

fn clip(v: &str) -> String {
    v.chars().take(64).collect()
}

fn ip_denied(expected: &str, received: &str) -> Error {
    Error::permission_denied("API key not allowed from this IP")
        .with_reason("ip_not_allowed")
        .with_metadata("expected_ip", expected)
        .with_metadata("received_ip", received)
}

fn too_many(until: i64, now: i64) -> Error {
    Error::rate_limited(
        "Too many failed authentication attempts",
        u64::try_from((until - now + 999) / 1000)
            .unwrap_or(1)
            .max(1),
    )
}

/// The binding rules on a real (temporary SQLite) store, without a server in front.
#[cfg(test)]
mod tests {
    use codex_central_common::Principal;
    use codex_central_common::error::Kind;

    use super::*;
    use crate::domain::host_settings::{self, HostChange};
    use crate::domain::hosts::{Actor, Registration, register};

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        (dir, Store::connect_and_migrate(&url).await.unwrap())
    }

    fn admin() -> Actor {
        Actor {
            principal: Principal::local_admin(),
            client_ip: String::new(),
        }
    }

    fn call<'a>(key: &'a str, ip: &str, kind: CallKind, force: bool) -> HostCall<'a> {
        HostCall {
            api_key: key,
            client_ip: Some(ip.parse().unwrap()),
            kind,
            force_ip_update: force,
            installation_id: "",
            client_version: "",
            wrapper_version: "",
        }
    }

    async fn host(store: &Store, fqdn: &str, secure: bool) -> (i64, String) {
        let r = register(
            store,
            &admin(),
            Registration {
                fqdn: fqdn.into(),
                secure,
                vip: false,
                temporary: false,
                curl_insecure: false,
                rotate: false,
            },
        )
        .await
        .unwrap();
        (r.host.id, r.api_key.expose().clone())
    }

    #[tokio::test]
    async fn first_use_binds_and_other_addresses_are_refused() {
        let (_dir, store) = store().await;
        let auth = HostAuthenticator::new(store.clone(), 1_000);
        let (id, key) = host(&store, "bound.example", true).await;
        let general = CallKind::General;
        assert!(
            auth.authenticate(call(&key, "10.0.0.1", general, false))
                .await
                .is_ok()
        );
        assert!(
            auth.authenticate(call(&key, "10.0.0.1", general, false))
                .await
                .is_ok()
        );
        let refused = auth
            .authenticate(call(&key, "10.0.0.2", general, false))
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), Kind::PermissionDenied);
        assert_eq!(refused.reason(), "ip_not_allowed");
        assert!(
            refused
                .metadata()
                .contains(&("expected_ip".into(), "10.0.0.1".into()))
        );
        // Forcing moves the binding; roaming hosts follow their caller.
        assert!(
            auth.authenticate(call(&key, "10.0.0.2", general, true))
                .await
                .is_ok()
        );
        assert!(
            auth.authenticate(call(&key, "10.0.0.1", general, false))
                .await
                .is_err()
        );
        host_settings::apply(&store, &admin(), id, HostChange::Roaming(true))
            .await
            .unwrap();
        auth.invalidate();
        assert!(
            auth.authenticate(call(&key, "10.0.0.3", general, false))
                .await
                .is_ok()
        );
        assert_eq!(
            auth.authenticate(call("cch_nope", "10.0.0.3", general, false))
                .await
                .unwrap_err()
                .kind(),
            Kind::Unauthenticated
        );
    }

    #[tokio::test]
    async fn insecure_hosts_sync_auth_only_inside_a_window() {
        let (_dir, store) = store().await;
        let auth = HostAuthenticator::new(store.clone(), 1_000);
        let (id, key) = host(&store, "kiosk.example", false).await;
        let retrieve = |ip| call(&key, ip, CallKind::AuthRetrieve, false);
        // Registration opens a first window, so the installer can sync.
        assert!(auth.authenticate(retrieve("10.1.0.1")).await.is_ok());
        host_settings::apply(&store, &admin(), id, HostChange::InsecureDisable)
            .await
            .unwrap();
        auth.invalidate();
        let closed = auth.authenticate(retrieve("10.1.0.1")).await.unwrap_err();
        assert_eq!(closed.kind(), Kind::PermissionDenied);
        assert!(
            auth.authenticate(call(&key, "10.1.0.1", CallKind::General, false))
                .await
                .is_ok()
        );
        host_settings::apply(&store, &admin(), id, HostChange::InsecureEnable(Some(5)))
            .await
            .unwrap();
        auth.invalidate();
        assert!(auth.authenticate(retrieve("10.1.0.1")).await.is_ok());
    }
}
