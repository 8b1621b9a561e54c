//! `MasterKey`: the 32-byte secretbox key that protects secrets at rest.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::rng;
use super::secret::Secret;
use super::secretbox::{BASE64_LENIENT, KEY_LEN};
use crate::{Error, Result};

/// Domain separation for key ids, so an id never equals some other hash of the key.
const KEY_ID_DOMAIN: &[u8] = b"codex-central master key id v1";

/// Length of [`MasterKey::key_id`] in hex characters.
pub(crate) const KEY_ID_HEX_LEN: usize = 8;

/// A 32-byte master key. Wiped on drop (through [`Secret`]); `Debug` shows only the key id.
#[derive(Clone)]
pub struct MasterKey {
    bytes: Secret<[u8; KEY_LEN]>,
}

impl MasterKey {
    /// A new key from the OS RNG.
    pub fn generate() -> Result<Self> {
        Ok(Self::from_bytes(rng::array()?))
    }

    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self {
            bytes: Secret::new(bytes),
        }
    }

    /// Parses standard base64 of exactly 32 bytes (surrounding whitespace ignored, `=` padding
    /// optional). Errors name the problem, never the input.
    pub fn from_base64(s: &str) -> Result<Self> {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(Error::master_key("master key is empty"));
        }
        let decoded = Zeroizing::new(
            BASE64_LENIENT
                .decode(trimmed)
                .map_err(|_| Error::master_key("master key is not valid standard base64"))?,
        );
        let bytes = <[u8; KEY_LEN]>::try_from(decoded.as_slice()).map_err(|_| {
            Error::master_key(format!(
                "master key decodes to {} bytes; it must be exactly {KEY_LEN} \
                 (generate one with `openssl rand -base64 32`)",
                decoded.len()
            ))
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// Standard base64 with padding, for writing the key file or showing it once to an operator.
    pub fn to_base64(&self) -> Secret<String> {
        Secret::new(STANDARD.encode(self.bytes.expose()))
    }

    /// 8 lowercase hex chars: the first 4 bytes of SHA-256(domain || key). Stored with every
    /// ciphertext so decryption can pick the right key after rotation; 32 bits reveal nothing
    /// useful about a 256-bit key.
    pub fn key_id(&self) -> String {
        let digest = Sha256::new()
            .chain_update(KEY_ID_DOMAIN)
            .chain_update(self.bytes.expose())
            .finalize();
        hex::encode(&digest[..KEY_ID_HEX_LEN / 2])
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_LEN] {
        self.bytes.expose()
    }

    /// Same key material, compared in constant time.
    pub(crate) fn same_key(&self, other: &MasterKey) -> bool {
        super::constant_time_eq(self.bytes(), other.bytes())
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("key_id", &self.key_id())
            .field("key", &self.bytes)
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip_and_key_id() {
        let k = MasterKey::generate().unwrap();
        let b64 = k.to_base64();
        let k2 = MasterKey::from_base64(&format!("  {}\n", b64.expose())).unwrap();
        assert_eq!(k.key_id(), k2.key_id());
        assert_eq!(k.bytes(), k2.bytes());
        let id = k.key_id();
        assert_eq!(id.len(), 8);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_ne!(id, MasterKey::generate().unwrap().key_id());
    }

    #[test]
    fn key_id_is_fixed_for_a_fixed_key() {
        // SHA-256("codex-central master key id v1" || 32 zero bytes), first 4 bytes; pinned so
        // the id of existing ciphertexts can never drift.
        let k = MasterKey::from_bytes([0u8; 32]);
        let mut h = Sha256::new();
        h.update(b"codex-central master key id v1");
        h.update([0u8; 32]);
        let expected = hex::encode(&h.finalize()[..4]);
        assert_eq!(k.key_id(), expected);
        assert_eq!(k.key_id(), "3d75d908");
    }

    #[test]
    fn rejects_bad_input_without_echoing_it() {
        let err = MasterKey::from_base64("").unwrap_err();
        assert!(err.reason() == "master_key");
        assert!(err.to_string().contains("empty"));

        let bad = "this-is-not-base64-#secretish";
        let err = MasterKey::from_base64(bad).unwrap_err();
        assert!(err.reason() == "master_key");
        assert!(err.to_string().contains("base64"));
        assert!(!err.to_string().contains("secretish"));

        let short = STANDARD.encode([5u8; 31]);
        let err = MasterKey::from_base64(&short).unwrap_err();
        assert!(err.to_string().contains("31 bytes"), "{err}");
        assert!(!err.to_string().contains(&short));

        let long = STANDARD.encode([5u8; 33]);
        assert!(MasterKey::from_base64(&long).is_err());
    }

    #[test]
    fn debug_never_shows_key_material() {
        let k = MasterKey::generate().unwrap();
        let b64 = k.to_base64();
        let dbg = format!("{k:?}");
        assert!(dbg.contains("<redacted>"));
        assert!(dbg.contains(&k.key_id()));
        assert!(!dbg.contains(b64.expose().as_str()));
        assert!(!dbg.contains(&hex::encode(k.bytes())));
        assert_eq!(format!("{b64}"), "<redacted>");
        assert_eq!(format!("{b64:?}"), "<redacted>");
    }
}
