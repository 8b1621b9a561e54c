//! Who may call each RPC, as the contract states it: the `Caller:` clause that ends every RPC's
//! comment in `proto/` (for example `Caller: admin, read-only; member (own).`). The clauses are
//! read from the descriptor set compiled into this crate, so the table is declared once, in the
//! contract, and the authentication layer turns any caller it does not name away before the
//! service runs, whatever the service itself checks (and for RPCs not built yet as well).
//!
//! The clause names kinds of callers; qualifiers such as "(own)" are the services' business:
//! - `anyone`: no credential needed;
//! - `any authenticated principal`;
//! - `admin`: the admin role (an admin user, an admin service token, local mode);
//! - `admin, read-only`: also read-only service tokens;
//! - `member`: any signed-in person (admins included: they are people too);
//! - `host`: a fleet host key;
//! - `internal`: the gateway's own credential, whoever it acts for.

use std::collections::HashMap;
use std::sync::OnceLock;

use codex_central_common::{Error, Role};
use prost::Message as _;
use tonic::Status;

use crate::CallContext;
use crate::status::encode;

/// The callers one RPC admits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Callers {
    pub anyone: bool,
    pub authenticated: bool,
    pub admin: bool,
    pub read_only: bool,
    pub member: bool,
    pub host: bool,
    pub internal: bool,
}

impl Callers {
    /// Parses the text after `Caller:` (segments separated by `;`).
    pub fn parse(clause: &str) -> Result<Callers, String> {
        let mut callers = Callers::default();
        for segment in clause.trim().trim_end_matches('.').split(';') {
            let segment = segment.trim();
            let starts = |word: &str| {
                segment == word
                    || segment
                        .strip_prefix(word)
                        .is_some_and(|rest| rest.starts_with([' ', ',', '(']))
            };
            if starts("anyone") {
                callers.anyone = true;
            } else if segment == "any authenticated principal" {
                callers.authenticated = true;
            } else if starts("admin, read-only") {
                callers.admin = true;
                callers.read_only = true;
            } else if starts("admin") {
                callers.admin = true;
            } else if starts("member") {
                callers.member = true;
            } else if starts("host") {
                callers.host = true;
            } else if starts("internal") {
                callers.internal = true;
            } else {
                return Err(format!("unknown caller {segment:?} in {clause:?}"));
            }
        }
        Ok(callers)
    }

    /// Whether this call's caller is one the contract names: `UNAUTHENTICATED` without a
    /// principal, `PERMISSION_DENIED` for a principal of another kind.
    pub fn admit(&self, ctx: &CallContext) -> Result<(), Status> {
        if self.anyone || (self.internal && ctx.internal) {
            return Ok(());
        }
        let principal = ctx.principal()?;
        let admitted = self.authenticated
            || match principal.role {
                Role::Admin => self.admin || self.member,
                Role::ReadOnly => self.read_only,
                Role::Member => self.member,
                Role::Host => self.host,
            };
        if admitted {
            Ok(())
        } else {
            Err(encode(&Error::permission_denied(format!(
                "this RPC is not open to {}",
                match principal.role {
                    Role::Admin => "admins",
                    Role::ReadOnly => "read-only tokens",
                    Role::Member => "members",
                    Role::Host => "hosts",
                }
            ))))
        }
    }
}

/// Every RPC's callers by request path (`/package.Service/Method`).
pub fn table() -> &'static HashMap<String, Callers> {
    static TABLE: OnceLock<HashMap<String, Callers>> = OnceLock::new();
    // Checked by this module's tests: every RPC has a clause that parses. Were one not to, its
    // RPC would be missing here and the services' own checks would be all that stands.
    TABLE.get_or_init(|| read_table().unwrap_or_default())
}

/// The callers of the RPC at `path`; `None` for a path that is not a codex-central RPC.
pub fn of(path: &str) -> Option<Callers> {
    table().get(path).copied()
}

/// One RPC of the contract as the descriptor set describes it.
#[derive(Debug, Clone)]
pub struct Rpc {
    /// `/package.Service/Method`.
    pub path: String,
    /// The text after `Caller:`, whitespace collapsed.
    pub clause: String,
    pub server_streaming: bool,
}

/// Field numbers of the descriptor messages, for source-info paths.
const FILE_SERVICE: i32 = 6;
const SERVICE_METHOD: i32 = 2;

/// Every RPC of every codex-central service, in declaration order.
pub fn rpcs() -> Result<Vec<Rpc>, String> {
    let set = prost_types::FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET)
        .map_err(|e| e.to_string())?;
    let mut rpcs = Vec::new();
    for file in &set.file {
        let comments: HashMap<&[i32], &str> = file
            .source_code_info
            .iter()
            .flat_map(|info| &info.location)
            .filter_map(|l| Some((l.path.as_slice(), l.leading_comments.as_deref()?)))
            .collect();
        for (s, service) in file.service.iter().enumerate() {
            for (m, method) in service.method.iter().enumerate() {
                let path = format!("/{}.{}/{}", file.package(), service.name(), method.name());
                let at = [FILE_SERVICE, s as i32, SERVICE_METHOD, m as i32];
                let comment = comments.get(&at[..]).copied().unwrap_or_default();
                let clause = comment
                    .split_once("Caller:")
                    .map(|(_, clause)| clause.split_whitespace().collect::<Vec<_>>().join(" "))
                    .ok_or_else(|| format!("{path} has no `Caller:` clause"))?;
                rpcs.push(Rpc {
                    path,
                    clause,
                    server_streaming: method.server_streaming(),
                });
            }
        }
    }
    Ok(rpcs)
}

fn read_table() -> Result<HashMap<String, Callers>, String> {
    rpcs()?
        .into_iter()
        .map(|rpc| {
            let callers = Callers::parse(&rpc.clause).map_err(|e| format!("{}: {e}", rpc.path))?;
            Ok((rpc.path, callers))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use codex_central_common::{Principal, PrincipalKind};
    use tonic::Code;

    use super::*;

    #[test]
    fn every_rpc_names_its_callers() {
        let table = read_table().expect("every clause parses");
        assert!(table.len() > 150, "{} RPCs", table.len());
        assert_eq!(table, *super::table());
        let policy = of("/codexcentral.fleet.v1.FleetService/GetFleetPolicy").expect("known");
        assert!(policy.admin && policy.read_only && !policy.member);
    }

    #[test]
    fn clauses_parse_to_kinds_of_callers() {
        let c = Callers::parse(" admin, read-only; member (own); host (own); internal.").unwrap();
        assert_eq!(
            c,
            Callers {
                admin: true,
                read_only: true,
                member: true,
                host: true,
                internal: true,
                ..Callers::default()
            }
        );
        assert!(Callers::parse("anyone; member to link.").unwrap().anyone);
        assert!(Callers::parse("administrators").is_err());
        assert!(Callers::parse("everyone").is_err());
    }

    fn ctx(role: Option<Role>, internal: bool) -> CallContext {
        CallContext {
            principal: role.map(|role| Principal {
                kind: PrincipalKind::User,
                id: "u".into(),
                name: "u".into(),
                role,
            }),
            client_ip: None,
            internal,
        }
    }

    #[test]
    fn only_named_callers_are_admitted() {
        let admin_read = Callers::parse("admin, read-only").unwrap();
        let code = |c: &Callers, ctx: CallContext| c.admit(&ctx).err().map(|s| s.code());
        assert_eq!(
            code(&admin_read, ctx(None, false)),
            Some(Code::Unauthenticated)
        );
        assert_eq!(
            code(&admin_read, ctx(Some(Role::Member), false)),
            Some(Code::PermissionDenied)
        );
        assert_eq!(
            code(&admin_read, ctx(Some(Role::Host), false)),
            Some(Code::PermissionDenied)
        );
        assert_eq!(code(&admin_read, ctx(Some(Role::ReadOnly), false)), None);
        // The gateway acting for a member gets no more than the member would.
        assert_eq!(
            code(&admin_read, ctx(Some(Role::Member), true)),
            Some(Code::PermissionDenied)
        );
        let internal = Callers::parse("internal").unwrap();
        assert_eq!(code(&internal, ctx(None, true)), None);
        assert_eq!(
            code(&internal, ctx(Some(Role::Admin), false)),
            Some(Code::PermissionDenied)
        );
        let member = Callers::parse("member").unwrap();
        assert_eq!(code(&member, ctx(Some(Role::Admin), false)), None);
        assert_eq!(
            code(&member, ctx(Some(Role::ReadOnly), false)),
            Some(Code::PermissionDenied)
        );
        let anyone = Callers::parse("anyone").unwrap();
        assert_eq!(code(&anyone, ctx(None, false)), None);
    }
}
