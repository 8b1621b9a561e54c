//! The codex-central gRPC contract: generated messages, tonic clients and servers for
//! `codexcentral.{common,auth,fleet,usage,config,memory}.v1`, and the file descriptor set used
//! by the reflection service.
//!
//! The `.proto` files under `proto/codexcentral/` are the source of truth; every capability is
//! first an RPC there (see `docs/adr/0001-service-boundaries.md`).

/// Shared types: principals, roles, pagination.
pub mod common {
    /// `codexcentral.common.v1`
    pub mod v1 {
        tonic::include_proto!("codexcentral.common.v1");
    }
}

/// People and credentials, one service per capability: `IdentityService`, `UserService`,
/// `SessionService`, `TokenService`, `SignInProviderService`, `ByokService`, `CodexAuthService`.
pub mod auth {
    /// `codexcentral.auth.v1`
    pub mod v1 {
        tonic::include_proto!("codexcentral.auth.v1");
    }
}

/// `FleetService`: hosts, enrollment, versions, wrapper releases, fleet policy, audit log.
pub mod fleet {
    /// `codexcentral.fleet.v1`
    pub mod v1 {
        tonic::include_proto!("codexcentral.fleet.v1");
    }
}

/// `UsageService`: usage ingest and queries, pricing, quota, proxy request logs.
pub mod usage {
    /// `codexcentral.usage.v1`
    pub mod v1 {
        tonic::include_proto!("codexcentral.usage.v1");
    }
}

/// `ConfigService`: config.toml template, profiles, prompts, skills, AGENTS.md, upstreams,
/// runtime overrides, client config bundles.
pub mod config {
    /// `codexcentral.config.v1`
    pub mod v1 {
        tonic::include_proto!("codexcentral.config.v1");
    }
}

/// `MemoryService`: memories and the sandboxed MCP workspace.
pub mod memory {
    /// The largest MemoryService message: a workspace file at the 16 MiB per-file ceiling and
    /// its envelope. The server and its clients take it as their decoding limit (tonic's
    /// default, 4 MiB, is below what a file may have).
    pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024 + 64 * 1024;

    /// `codexcentral.memory.v1`
    pub mod v1 {
        tonic::include_proto!("codexcentral.memory.v1");
    }
}

/// Encoded `FileDescriptorSet` of every codex-central proto file plus its imports
/// (`google/protobuf/timestamp.proto`), with source info; feed it to `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    tonic::include_file_descriptor_set!("codexcentral_descriptor");

#[cfg(test)]
mod tests {
    use prost::Message as _;

    #[test]
    fn descriptor_set_holds_every_service_and_its_imports() -> Result<(), prost::DecodeError> {
        let fds = prost_types::FileDescriptorSet::decode(super::FILE_DESCRIPTOR_SET)?;
        let names: Vec<&str> = fds.file.iter().map(|f| f.name()).collect();
        assert!(
            names.contains(&"google/protobuf/timestamp.proto"),
            "{names:?}"
        );

        let services: Vec<String> = fds
            .file
            .iter()
            .flat_map(|f| {
                f.service
                    .iter()
                    .map(move |s| format!("{}.{}", f.package(), s.name()))
            })
            .collect();
        for expected in [
            "codexcentral.auth.v1.IdentityService",
            "codexcentral.auth.v1.UserService",
            "codexcentral.auth.v1.SessionService",
            "codexcentral.auth.v1.TokenService",
            "codexcentral.auth.v1.SignInProviderService",
            "codexcentral.auth.v1.ByokService",
            "codexcentral.auth.v1.CodexAuthService",
            "codexcentral.fleet.v1.FleetService",
            "codexcentral.usage.v1.UsageService",
            "codexcentral.config.v1.ConfigService",
            "codexcentral.memory.v1.MemoryService",
        ] {
            assert!(
                services.iter().any(|s| s == expected),
                "{expected} missing: {services:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn generated_service_names_match_the_contract() {
        use super::auth::v1 as auth;
        for (generated, expected) in [
            (
                auth::identity_service_server::SERVICE_NAME,
                "codexcentral.auth.v1.IdentityService",
            ),
            (
                auth::user_service_server::SERVICE_NAME,
                "codexcentral.auth.v1.UserService",
            ),
            (
                auth::session_service_server::SERVICE_NAME,
                "codexcentral.auth.v1.SessionService",
            ),
            (
                auth::token_service_server::SERVICE_NAME,
                "codexcentral.auth.v1.TokenService",
            ),
            (
                auth::sign_in_provider_service_server::SERVICE_NAME,
                "codexcentral.auth.v1.SignInProviderService",
            ),
            (
                auth::byok_service_server::SERVICE_NAME,
                "codexcentral.auth.v1.ByokService",
            ),
            (
                auth::codex_auth_service_server::SERVICE_NAME,
                "codexcentral.auth.v1.CodexAuthService",
            ),
        ] {
            assert_eq!(generated, expected);
        }
        assert_eq!(
            super::fleet::v1::fleet_service_server::SERVICE_NAME,
            "codexcentral.fleet.v1.FleetService"
        );
        assert_eq!(
            super::usage::v1::usage_service_server::SERVICE_NAME,
            "codexcentral.usage.v1.UsageService"
        );
        assert_eq!(
            super::config::v1::config_service_server::SERVICE_NAME,
            "codexcentral.config.v1.ConfigService"
        );
        assert_eq!(
            super::memory::v1::memory_service_server::SERVICE_NAME,
            "codexcentral.memory.v1.MemoryService"
        );
    }

    /// The auth package splits its RPCs by capability; none is lost or served twice.
    #[test]
    fn auth_package_serves_each_rpc_once() -> Result<(), prost::DecodeError> {
        let fds = prost_types::FileDescriptorSet::decode(super::FILE_DESCRIPTOR_SET)?;
        let methods: Vec<&str> = fds
            .file
            .iter()
            .filter(|f| f.package() == "codexcentral.auth.v1")
            .flat_map(|f| f.service.iter())
            .flat_map(|s| s.method.iter().map(|m| m.name()))
            .collect();
        let unique: std::collections::HashSet<&str> = methods.iter().copied().collect();
        assert_eq!(methods.len(), 55, "{methods:?}");
        assert_eq!(unique.len(), methods.len(), "{methods:?}");
        Ok(())
    }

    /// Struct literals without `..` fail to compile if a pinned message gains or loses a field;
    /// other crates are written against exactly these shapes.
    #[test]
    fn pinned_messages_keep_their_exact_fields() {
        use super::{auth::v1 as auth, common::v1 as common, fleet::v1 as fleet};
        use super::{config::v1 as config, memory::v1 as memory, usage::v1 as usage};

        let roles = [
            common::Role::Unspecified,
            common::Role::Admin,
            common::Role::Member,
            common::Role::ReadOnly,
            common::Role::Host,
        ];
        assert_eq!(roles.map(|r| r as i32), [0, 1, 2, 3, 4]);
        let kinds = [
            common::PrincipalKind::Unspecified,
            common::PrincipalKind::LocalAdmin,
            common::PrincipalKind::ServiceToken,
            common::PrincipalKind::User,
            common::PrincipalKind::Host,
        ];
        assert_eq!(kinds.map(|k| k as i32), [0, 1, 2, 3, 4]);
        let scopes = [
            auth::ServiceTokenScope::Unspecified,
            auth::ServiceTokenScope::Read,
            auth::ServiceTokenScope::Admin,
        ];
        assert_eq!(scopes.map(|s| s as i32), [0, 1, 2]);
        let pushes = [
            config::HostContentPush::Unspecified,
            config::HostContentPush::On,
            config::HostContentPush::Review,
            config::HostContentPush::Off,
        ];
        assert_eq!(pushes.map(|p| p as i32), [0, 1, 2, 3]);

        let principal = common::Principal {
            kind: common::PrincipalKind::Host as i32,
            id: String::new(),
            name: String::new(),
            role: common::Role::Host as i32,
        };
        let page = common::PageRequest {
            page_size: 0,
            page_token: String::new(),
        };
        let _ = auth::WhoAmIRequest {};
        let _ = auth::WhoAmIResponse {
            principal: Some(principal.clone()),
            client_ip: String::new(),
            auth_mode: String::new(),
        };
        let _ = auth::AuthenticateRequest {
            credential: String::new(),
        };
        let _ = auth::AuthenticateResponse {
            principal: Some(principal),
        };
        let _ = auth::CreateServiceTokenRequest {
            name: String::new(),
            scope: auth::ServiceTokenScope::Admin as i32,
            expires_in_seconds: None,
        };
        let token = auth::ServiceToken {
            id: String::new(),
            name: String::new(),
            scope: auth::ServiceTokenScope::Read as i32,
            prefix: String::new(),
            created_at: None,
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
            created_by: String::new(),
        };
        let _ = auth::CreateServiceTokenResponse {
            token: Some(token.clone()),
            secret: String::new(),
        };
        let _ = auth::ListServiceTokensRequest {
            page: Some(page.clone()),
            include_revoked: false,
        };
        let _ = auth::ListServiceTokensResponse {
            tokens: vec![token.clone()],
            next_page_token: String::new(),
        };
        let _ = auth::RevokeServiceTokenRequest { id: String::new() };
        let _ = auth::RevokeServiceTokenResponse { token: Some(token) };

        let _ = fleet::GetFleetPolicyRequest {};
        let _ = fleet::GetFleetPolicyResponse {
            policy: Some(fleet::FleetPolicy {
                api_enabled: true,
                silent_mode: false,
                prune_inactive_days: 30,
                codex_version: Some(fleet::CodexVersionPolicy {
                    pinned: false,
                    version: String::new(),
                }),
            }),
        };
        let _ = fleet::ListAuditEventsRequest {
            page: Some(page),
            actor: String::new(),
            action: String::new(),
            target: String::new(),
        };
        let _ = fleet::ListAuditEventsResponse {
            events: vec![fleet::AuditEvent {
                id: String::new(),
                at: None,
                actor: String::new(),
                action: String::new(),
                target: String::new(),
                client_ip: String::new(),
                details_json: String::new(),
            }],
            next_page_token: String::new(),
        };

        let _ = usage::GetQuotaPolicyRequest {};
        let _ = usage::GetQuotaPolicyResponse {
            policy: Some(usage::QuotaPolicy {
                hard_fail: true,
                limit_percent: 100,
                week_partition_days: 0,
            }),
        };
        let _ = config::GetConfigSettingsRequest {};
        let _ = config::GetConfigSettingsResponse {
            settings: Some(config::ConfigSettings {
                managed_mcp_enabled: true,
                default_profile: String::new(),
                host_content_push: config::HostContentPush::On as i32,
            }),
        };
        let _ = memory::GetMemorySettingsRequest {};
        let _ = memory::GetMemorySettingsResponse {
            settings: Some(memory::MemorySettings {
                max_content_bytes: 65_536,
                workspace_quota_bytes: 0,
                workspace_enabled: Some(false),
                workspace_max_file_bytes: 0,
            }),
        };
    }
}

pub mod callers;
pub mod context;
pub mod conversions;
pub mod live;
mod macros;
pub mod paging;
pub mod status;

pub use context::CallContext;
pub use conversions::{ms_to_timestamp, timestamp_to_ms};
