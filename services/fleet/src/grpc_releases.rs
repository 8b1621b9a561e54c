//! The versions and wrapper-release RPCs (delegated to from the `FleetService` impl).

use codex_central_common::PrincipalKind;
use codex_central_proto::CallContext;
use codex_central_proto::fleet::v1::*;
use codex_central_proto::ms_to_timestamp;
use codex_central_store::{hosts as host_rows, now_ms};
use futures::StreamExt;
use tonic::{Request, Response, Status};

use crate::conversions::policy_to_proto;
use crate::domain::releases::{self, normalize_version};
use crate::domain::wrappers::{self, Bake, Kind, Release, platform_of};
use crate::domain::{hosts, policy};
use crate::grpc::{FleetGrpc, admin_actor};

/// Download chunk size (well under gRPC's 4 MiB default message limit).
const CHUNK: usize = 256 * 1024;

fn release_to_proto(r: &Release, sha256: String, size: u64) -> WrapperRelease {
    WrapperRelease {
        version: r.version.clone(),
        platform: r.platform.clone(),
        kind: match r.kind {
            Kind::Binary => WrapperKind::Binary,
            Kind::Script => WrapperKind::LegacyScript,
        } as i32,
        sha256,
        size_bytes: size,
        updated_at: Some(ms_to_timestamp(r.updated_at)),
        url: "/wrapper/download".into(),
    }
}

/// `linux-x86_64` as sent, or built from `os`/`arch` style `"Linux x86_64"`; empty = none.
fn requested_platform(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.split_once(' ') {
        Some((os, arch)) => platform_of(os, arch),
        None => Some(raw.to_ascii_lowercase()),
    }
}

impl FleetGrpc {
    pub(crate) async fn versions(&self, p: &policy::FleetPolicy) -> Result<FleetVersions, Status> {
        let release = releases::state(&self.store).await?;
        let advertised = self.wrappers.advertised().await?;
        let now = now_ms();
        let (client_version, source) = if p.codex_version.pinned {
            (p.codex_version.version.clone(), "locked")
        } else {
            (
                release.version.clone(),
                release.freshness(self.releases.interval(), now),
            )
        };
        Ok(FleetVersions {
            client_version,
            client_version_checked_at: (release.checked_at > 0)
                .then(|| ms_to_timestamp(release.checked_at)),
            client_version_source: source.into(),
            available_client_version: release.version,
            reported_client_version: String::new(),
            wrapper_version: advertised
                .as_ref()
                .map(|r| r.version.clone())
                .unwrap_or_default(),
            wrapper_sha256: advertised.map(|r| r.sha256).unwrap_or_default(),
            wrapper_url: "/wrapper/download".into(),
            silent_mode: p.silent_mode,
            installation_id: self.host_auth.installation_id().await?,
        })
    }

    pub(crate) async fn do_check_codex_versions(
        &self,
        request: Request<CheckCodexVersionsRequest>,
    ) -> Result<Response<CheckCodexVersionsResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let state = releases::request_check(&self.store, &actor.principal.audit_actor()).await?;
        self.releases.wake();
        let p = policy::get(&self.store).await?;
        Ok(Response::new(CheckCodexVersionsResponse {
            available_version: state.version.clone(),
            checked_at: (state.checked_at > 0).then(|| ms_to_timestamp(state.checked_at)),
            source: state
                .freshness(self.releases.interval(), now_ms())
                .to_string(),
            versions: Some(self.versions(&p).await?),
        }))
    }

    pub(crate) async fn do_set_codex_version_policy(
        &self,
        request: Request<SetCodexVersionPolicyRequest>,
    ) -> Result<Response<SetCodexVersionPolicyResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let selection = request.into_inner().selection;
        let trimmed = selection.trim().to_ascii_lowercase();
        let pinned = if matches!(trimmed.as_str(), "latest" | "auto") {
            None
        } else {
            Some(normalize_version(&selection).ok_or_else(|| {
                crate::Error::invalid(
                    "selection",
                    "expected \"latest\", \"auto\" or a Codex version such as 0.169.0",
                )
            })?)
        };
        let p = policy::update(&self.store, &actor, "fleet.codex_version.set", |p| {
            p.codex_version = policy::CodexVersionPolicy {
                pinned: pinned.is_some(),
                version: pinned.clone().unwrap_or_default(),
            };
            Ok(())
        })
        .await?;
        Ok(Response::new(SetCodexVersionPolicyResponse {
            policy: Some(policy_to_proto(p)),
        }))
    }

    /// The release for the caller and, for a host and the legacy script, the baked bytes.
    async fn resolve_release(
        &self,
        ctx: &CallContext,
        platform: &str,
        api_key: &str,
        with_content: bool,
    ) -> Result<(Release, Option<Vec<u8>>, String, u64), Status> {
        let principal = ctx.principal()?;
        let host_id = match principal.kind {
            PrincipalKind::Host => Some(hosts::parse_id(&principal.id)?),
            _ => {
                ctx.require_admin_read()?;
                None
            }
        };
        let release = self
            .wrappers
            .pick(requested_platform(platform).as_deref())
            .await?
            .ok_or_else(|| tonic::Status::from(crate::Error::not_found("Wrapper not available")))?;
        let baked_for_host = release.kind == Kind::Script && host_id.is_some();
        if !(with_content || baked_for_host) {
            let (sha, size) = (release.sha256.clone(), release.size_bytes);
            return Ok((release, None, sha, size));
        }
        let mut content = self.wrappers.content(&release).await?;
        if let Some(id) = host_id.filter(|_| baked_for_host) {
            let host = host_rows::get(self.store.db(), id)
                .await
                .map_err(crate::Error::from)?;
            if !codex_central_common::crypto::token_matches_digest(api_key.trim(), &host.key_digest)
            {
                return Err(tonic::Status::from(crate::Error::invalid(
                    "api_key",
                    "api_key must be the key this host authenticated with",
                )));
            }
            let p = policy::get(&self.store).await?;
            content = wrappers::bake(
                &content,
                &Bake {
                    base_url: self.enrollment.public_url(),
                    api_key: api_key.trim(),
                    host: &host,
                    installation_id: &self.host_auth.installation_id().await?,
                    version: &release.version,
                    silent: p.silent_mode,
                },
            );
        }
        let sha = wrappers::sha256_hex(&content);
        let size = content.len() as u64;
        Ok((release, Some(content), sha, size))
    }

    pub(crate) async fn do_get_wrapper_release(
        &self,
        request: Request<GetWrapperReleaseRequest>,
    ) -> Result<Response<GetWrapperReleaseResponse>, Status> {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let (release, _, sha, size) = self
            .resolve_release(&ctx, &req.platform, &req.api_key, false)
            .await?;
        Ok(Response::new(GetWrapperReleaseResponse {
            release: Some(release_to_proto(&release, sha, size)),
        }))
    }

    pub(crate) async fn do_download_wrapper(
        &self,
        request: Request<DownloadWrapperRequest>,
    ) -> Result<
        Response<futures::stream::BoxStream<'static, Result<DownloadWrapperResponse, Status>>>,
        Status,
    > {
        let ctx = CallContext::of(&request);
        let req = request.into_inner();
        let (release, content, sha, size) = self
            .resolve_release(&ctx, &req.platform, &req.api_key, true)
            .await?;
        let content = content.unwrap_or_default();
        let head = DownloadWrapperResponse {
            item: Some(download_wrapper_response::Item::Release(release_to_proto(
                &release, sha, size,
            ))),
        };
        let chunks: Vec<Result<DownloadWrapperResponse, Status>> = content
            .chunks(CHUNK)
            .map(|c| {
                Ok(DownloadWrapperResponse {
                    item: Some(download_wrapper_response::Item::Chunk(c.to_vec())),
                })
            })
            .collect();
        let stream = futures::stream::iter(std::iter::once(Ok(head)).chain(chunks));
        Ok(Response::new(stream.boxed()))
    }

    pub(crate) async fn do_list_wrapper_releases(
        &self,
        request: Request<ListWrapperReleasesRequest>,
    ) -> Result<Response<ListWrapperReleasesResponse>, Status> {
        CallContext::of(&request).require_admin_read()?;
        let releases = self
            .wrappers
            .releases()
            .await?
            .iter()
            .map(|r| release_to_proto(r, r.sha256.clone(), r.size_bytes))
            .collect();
        Ok(Response::new(ListWrapperReleasesResponse { releases }))
    }

    pub(crate) async fn do_publish_wrapper_release(
        &self,
        request: Request<PublishWrapperReleaseRequest>,
    ) -> Result<Response<PublishWrapperReleaseResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let req = request.into_inner();
        let kind = match req.kind() {
            WrapperKind::LegacyScript => Kind::Script,
            WrapperKind::Binary => Kind::Binary,
            WrapperKind::Unspecified if req.platform == wrappers::SCRIPT_PLATFORM => Kind::Script,
            WrapperKind::Unspecified => Kind::Binary,
        };
        let release = self
            .wrappers
            .publish(
                req.version.trim(),
                req.platform.trim(),
                kind,
                req.content,
                req.sha256.trim(),
                &actor,
            )
            .await?;
        let sha = release.sha256.clone();
        let size = release.size_bytes;
        Ok(Response::new(PublishWrapperReleaseResponse {
            release: Some(release_to_proto(&release, sha, size)),
        }))
    }

    pub(crate) async fn do_delete_wrapper_release(
        &self,
        request: Request<DeleteWrapperReleaseRequest>,
    ) -> Result<Response<DeleteWrapperReleaseResponse>, Status> {
        let actor = admin_actor(&CallContext::of(&request))?;
        let req = request.into_inner();
        self.wrappers
            .delete(&actor, req.version.trim(), req.platform.trim())
            .await?;
        Ok(Response::new(DeleteWrapperReleaseResponse {}))
    }
}
