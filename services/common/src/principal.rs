//! Who is calling, and the one place where "may this caller do that" is decided.

use std::net::IpAddr;

use codex_central_proto::common::v1 as pb;

use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Member,
    ReadOnly,
    Host,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The implicit single user of auth mode `off`.
    LocalAdmin,
    ServiceToken,
    User,
    Host,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub id: String,
    pub name: String,
    pub role: Role,
}

impl Principal {
    pub fn local_admin() -> Self {
        Principal {
            kind: PrincipalKind::LocalAdmin,
            id: "local".into(),
            name: "local admin".into(),
            role: Role::Admin,
        }
    }

    /// The same principal without admin rights (admin access needs a client certificate this
    /// connection lacks).
    pub fn without_admin(mut self) -> Self {
        if self.role == Role::Admin {
            self.role = Role::Member;
        }
        self
    }

    /// How the principal appears in audit rows: `<kind>:<id>`.
    pub fn audit_actor(&self) -> String {
        format!("{}:{}", self.kind_name(), self.id)
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            PrincipalKind::LocalAdmin => "local",
            PrincipalKind::ServiceToken => "service_token",
            PrincipalKind::User => "user",
            PrincipalKind::Host => "host",
        }
    }

    pub fn to_proto(&self) -> pb::Principal {
        let kind = match self.kind {
            PrincipalKind::LocalAdmin => pb::PrincipalKind::LocalAdmin,
            PrincipalKind::ServiceToken => pb::PrincipalKind::ServiceToken,
            PrincipalKind::User => pb::PrincipalKind::User,
            PrincipalKind::Host => pb::PrincipalKind::Host,
        };
        let role = match self.role {
            Role::Admin => pb::Role::Admin,
            Role::Member => pb::Role::Member,
            Role::ReadOnly => pb::Role::ReadOnly,
            Role::Host => pb::Role::Host,
        };
        pb::Principal {
            kind: kind as i32,
            id: self.id.clone(),
            name: self.name.clone(),
            role: role as i32,
        }
    }

    pub fn from_proto(p: &pb::Principal) -> Result<Self> {
        let kind = match pb::PrincipalKind::try_from(p.kind) {
            Ok(pb::PrincipalKind::LocalAdmin) => PrincipalKind::LocalAdmin,
            Ok(pb::PrincipalKind::ServiceToken) => PrincipalKind::ServiceToken,
            Ok(pb::PrincipalKind::User) => PrincipalKind::User,
            Ok(pb::PrincipalKind::Host) => PrincipalKind::Host,
            Ok(pb::PrincipalKind::Unspecified) | Err(_) => {
                return Err(Error::InvalidArgument("principal kind is missing".into()));
            }
        };
        let role = match pb::Role::try_from(p.role) {
            Ok(pb::Role::Admin) => Role::Admin,
            Ok(pb::Role::Member) => Role::Member,
            Ok(pb::Role::ReadOnly) => Role::ReadOnly,
            Ok(pb::Role::Host) => Role::Host,
            Ok(pb::Role::Unspecified) | Err(_) => {
                return Err(Error::InvalidArgument("principal role is missing".into()));
            }
        };
        Ok(Principal {
            kind,
            id: p.id.clone(),
            name: p.name.clone(),
            role,
        })
    }
}

/// Everything a service knows about one call, put into the request extensions by the
/// authentication layer in front of the services.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    pub principal: Option<Principal>,
    pub client_ip: Option<IpAddr>,
    /// Set only when the call carried the gateway's internal credential.
    pub internal: bool,
}

impl CallContext {
    /// Reads the context the authentication layer attached. A request without one did not pass
    /// through that layer, which is a wiring bug: treat it as unauthenticated, never as trusted.
    pub fn of<T>(req: &tonic::Request<T>) -> CallContext {
        req.extensions()
            .get::<CallContext>()
            .cloned()
            .unwrap_or_default()
    }

    pub fn principal(&self) -> Result<&Principal> {
        self.principal
            .as_ref()
            .ok_or_else(|| Error::Unauthenticated("authentication required".into()))
    }

    pub fn require_admin(&self) -> Result<&Principal> {
        let p = self.principal()?;
        if p.role == Role::Admin {
            Ok(p)
        } else {
            Err(Error::PermissionDenied("admin access required".into()))
        }
    }

    /// Admin reads: admins and read-only service tokens.
    pub fn require_admin_read(&self) -> Result<&Principal> {
        let p = self.principal()?;
        match p.role {
            Role::Admin | Role::ReadOnly => Ok(p),
            Role::Member | Role::Host => {
                Err(Error::PermissionDenied("admin read access required".into()))
            }
        }
    }

    pub fn require_internal(&self) -> Result<()> {
        if self.internal {
            Ok(())
        } else {
            Err(Error::PermissionDenied(
                "this RPC is only available to the gateway".into(),
            ))
        }
    }

    /// The client IP as text for audit rows ("" when unknown).
    pub fn client_ip_text(&self) -> String {
        self.client_ip.map(|ip| ip.to_string()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_round_trip() {
        let p = Principal {
            kind: PrincipalKind::ServiceToken,
            id: "abc".into(),
            name: "ci".into(),
            role: Role::ReadOnly,
        };
        assert_eq!(Principal::from_proto(&p.to_proto()).unwrap(), p);
    }

    #[test]
    fn authorization_rules() {
        let none = CallContext::default();
        assert!(matches!(
            none.require_admin(),
            Err(Error::Unauthenticated(_))
        ));
        let reader = CallContext {
            principal: Some(Principal {
                kind: PrincipalKind::ServiceToken,
                id: "r".into(),
                name: "r".into(),
                role: Role::ReadOnly,
            }),
            ..Default::default()
        };
        assert!(reader.require_admin_read().is_ok());
        assert!(matches!(
            reader.require_admin(),
            Err(Error::PermissionDenied(_))
        ));
        let admin = CallContext {
            principal: Some(Principal::local_admin()),
            ..Default::default()
        };
        assert!(admin.require_admin().is_ok());
        assert!(admin.require_internal().is_err());
    }
}
