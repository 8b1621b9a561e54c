//! Who is calling. Authorization ("may this caller do that") is decided on the RPC's call
//! context, in `codex_central_proto::context`.

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

    /// The gateway itself reading the fleet flags it caches for host answers (kill switch,
    /// versions, quota policy): a read-only principal only the gateway's internal credential
    /// can assert, so the services authorize these reads like any other.
    pub fn gateway_reader() -> Self {
        Principal {
            kind: PrincipalKind::ServiceToken,
            id: "gateway".into(),
            name: "gateway".into(),
            role: Role::ReadOnly,
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
}
