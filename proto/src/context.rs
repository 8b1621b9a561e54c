//! Who is calling an RPC, as the authentication layer in front of the services attached it,
//! and the one place where "may this caller do that" is decided.

use std::net::IpAddr;

use codex_central_common::{Error, Principal, Role};
use tonic::Status;

use crate::status::encode;

/// Everything a service knows about one call, put into the request extensions by the
/// authentication layer (or by the gateway's in-process facade, which is the internal caller
/// by construction).
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

    pub fn principal(&self) -> Result<&Principal, Status> {
        self.principal
            .as_ref()
            .ok_or_else(|| encode(&Error::unauthenticated("authentication required")))
    }

    pub fn require_admin(&self) -> Result<&Principal, Status> {
        let p = self.principal()?;
        if p.role == Role::Admin {
            Ok(p)
        } else {
            Err(encode(&Error::permission_denied("admin access required")))
        }
    }

    /// Admin reads: admins and read-only service tokens.
    pub fn require_admin_read(&self) -> Result<&Principal, Status> {
        let p = self.principal()?;
        match p.role {
            Role::Admin | Role::ReadOnly => Ok(p),
            Role::Member | Role::Host => Err(encode(&Error::permission_denied(
                "admin read access required",
            ))),
        }
    }

    pub fn require_internal(&self) -> Result<(), Status> {
        if self.internal {
            Ok(())
        } else {
            Err(encode(&Error::permission_denied(
                "this RPC is only available to the gateway",
            )))
        }
    }

    /// The client IP as text for audit rows ("" when unknown).
    pub fn client_ip_text(&self) -> String {
        self.client_ip.map(|ip| ip.to_string()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use codex_central_common::PrincipalKind;
    use tonic::Code;

    use super::*;

    #[test]
    fn authorization_rules() {
        let none = CallContext::default();
        assert_eq!(
            none.require_admin().map(|_| ()).unwrap_err().code(),
            Code::Unauthenticated
        );
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
        assert_eq!(
            reader.require_admin().map(|_| ()).unwrap_err().code(),
            Code::PermissionDenied
        );
        let admin = CallContext {
            principal: Some(Principal::local_admin()),
            ..Default::default()
        };
        assert!(admin.require_admin().is_ok());
        assert!(admin.require_internal().is_err());
    }
}
