//! Password hashing: Argon2id with a per-password random salt, stored as a PHC string.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use super::rng;
use super::secret::Secret;
use crate::{Error, Result};

/// Argon2id with 64 MiB and 3 passes: a sign-in costs about 140 ms on the 2-core machines this
/// runs on (`cargo bench -p codex-central-auth --bench credentials`), inside the 50-250 ms band
/// that keeps logins quick and guessing slow, and above OWASP's minimum (19 MiB, 2 passes).
/// Spelled out so a library default change cannot silently weaken new hashes. Verification
/// reads the parameters from each stored hash, so changing these keeps old hashes valid.
const M_COST_KIB: u32 = 65_536;
const T_COST: u32 = 3;
const P_COST: u32 = 1;
/// Salt length recommended by the PHC string format (16 bytes).
const SALT_LEN: usize = 16;

fn hasher() -> Result<Argon2<'static>> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| Error::internal(format!("invalid Argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password to a PHC string (`$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>`).
pub fn hash_password(password: &Secret<String>) -> Result<String> {
    let salt: [u8; SALT_LEN] = rng::array()?;
    let hash = hasher()?
        .hash_password_with_salt(password.expose().as_bytes(), &salt)
        .map_err(|e| Error::internal(format!("password hashing failed: {e}")))?;
    Ok(hash.to_string())
}

/// Checks a password against a stored PHC string: `Ok(false)` on mismatch, `Error::Internal`
/// when the stored hash is malformed or uses an unsupported algorithm (a data problem, not a
/// wrong password). The parameters come from the stored hash.
pub fn verify_password(password: &Secret<String>, phc: &str) -> Result<bool> {
    let parsed = PasswordHash::new(phc)
        .map_err(|e| Error::internal(format!("stored password hash is malformed: {e}")))?;
    // The argon2 verifier reports a hash without salt or output as a wrong password; that is
    // corrupt data, so catch it here (as well as non-Argon2 hashes) and report it as such.
    if !matches!(
        parsed.algorithm.as_str(),
        "argon2id" | "argon2i" | "argon2d"
    ) {
        return Err(Error::internal(
            "stored password hash is not an Argon2 hash",
        ));
    }
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err(Error::internal(
            "stored password hash is missing its salt or output",
        ));
    }
    match hasher()?.verify_password(password.expose().as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(e) => Err(Error::internal(format!(
            "stored password hash cannot be verified: {e}"
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    fn pw(s: &str) -> Secret<String> {
        Secret::new(s.to_string())
    }

    #[test]
    fn hash_and_verify() {
        let hash = hash_password(&pw("correct horse battery staple")).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains("correct horse"));
        assert!(verify_password(&pw("correct horse battery staple"), &hash).unwrap());
        assert!(!verify_password(&pw("correct horse battery stapler"), &hash).unwrap());
        assert!(!verify_password(&pw(""), &hash).unwrap());
    }

    #[test]
    fn salts_differ() {
        let a = hash_password(&pw("same")).unwrap();
        let b = hash_password(&pw("same")).unwrap();
        assert_ne!(a, b);
        assert!(verify_password(&pw("same"), &a).unwrap());
        assert!(verify_password(&pw("same"), &b).unwrap());
    }

    #[test]
    fn verifies_hash_with_other_parameters() {
        // A hash with cheaper parameters than ours proves they are read from the stored string.
        let cheap = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password_with_salt(b"pw", b"saltsaltsalt")
        .unwrap()
        .to_string();
        assert!(cheap.contains("m=8,t=1,p=1"));
        assert!(verify_password(&pw("pw"), &cheap).unwrap());
        assert!(!verify_password(&pw("pw2"), &cheap).unwrap());
    }

    #[test]
    fn malformed_hash_is_internal_error() {
        for bad in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456",
            "$bcrypt$xyz$abc",
        ] {
            let err = verify_password(&pw("x"), bad).unwrap_err();
            assert!(err.reason() == "internal", "{bad}: {err:?}");
        }
    }
}
