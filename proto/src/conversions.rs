//! Conversions between core types (in `codex_central_common`) and their wire messages.

use codex_central_common::{Error, Principal, PrincipalKind, Role};

use crate::common::v1 as pb;

/// A protobuf timestamp for a stored Unix-millisecond value.
pub fn ms_to_timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: (ms.rem_euclid(1000) * 1_000_000) as i32,
    }
}

/// The stored Unix-millisecond value of a protobuf timestamp (saturating: a timestamp from the
/// network may be any value).
pub fn timestamp_to_ms(t: &prost_types::Timestamp) -> i64 {
    t.seconds
        .saturating_mul(1000)
        .saturating_add(i64::from(t.nanos / 1_000_000))
}

impl From<&Principal> for pb::Principal {
    fn from(p: &Principal) -> Self {
        let kind = match p.kind {
            PrincipalKind::LocalAdmin => pb::PrincipalKind::LocalAdmin,
            PrincipalKind::ServiceToken => pb::PrincipalKind::ServiceToken,
            PrincipalKind::User => pb::PrincipalKind::User,
            PrincipalKind::Host => pb::PrincipalKind::Host,
        };
        let role = match p.role {
            Role::Admin => pb::Role::Admin,
            Role::Member => pb::Role::Member,
            Role::ReadOnly => pb::Role::ReadOnly,
            Role::Host => pb::Role::Host,
        };
        pb::Principal {
            kind: kind as i32,
            id: p.id.clone(),
            name: p.name.clone(),
            role: role as i32,
        }
    }
}

impl TryFrom<&pb::Principal> for Principal {
    type Error = Error;

    fn try_from(p: &pb::Principal) -> Result<Self, Error> {
        let kind = match pb::PrincipalKind::try_from(p.kind) {
            Ok(pb::PrincipalKind::LocalAdmin) => PrincipalKind::LocalAdmin,
            Ok(pb::PrincipalKind::ServiceToken) => PrincipalKind::ServiceToken,
            Ok(pb::PrincipalKind::User) => PrincipalKind::User,
            Ok(pb::PrincipalKind::Host) => PrincipalKind::Host,
            Ok(pb::PrincipalKind::Unspecified) | Err(_) => {
                return Err(Error::invalid_field(
                    "principal.kind",
                    "principal kind is missing",
                ));
            }
        };
        let role = match pb::Role::try_from(p.role) {
            Ok(pb::Role::Admin) => Role::Admin,
            Ok(pb::Role::Member) => Role::Member,
            Ok(pb::Role::ReadOnly) => Role::ReadOnly,
            Ok(pb::Role::Host) => Role::Host,
            Ok(pb::Role::Unspecified) | Err(_) => {
                return Err(Error::invalid_field(
                    "principal.role",
                    "principal role is missing",
                ));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_round_trip() {
        let p = Principal {
            kind: PrincipalKind::ServiceToken,
            id: "abc".into(),
            name: "ci".into(),
            role: Role::ReadOnly,
        };
        let wire = pb::Principal::from(&p);
        assert_eq!(Principal::try_from(&wire).unwrap(), p);
    }

    #[test]
    fn timestamps() {
        let ts = ms_to_timestamp(1_700_000_000_123);
        assert_eq!((ts.seconds, ts.nanos), (1_700_000_000, 123_000_000));
    }
}
