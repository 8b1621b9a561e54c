//! `Keyring`: the current master key plus previous ones, and the `cc1:` stored form.
//!
//! Stored form: `cc1:<key_id>:<base64 std of nonce (24) || MAC (16) || ciphertext>`.
//! The key id lets old values stay readable after rotation until `keys rotate` re-encrypts them.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::key::{KEY_ID_HEX_LEN, MasterKey};
use super::secretbox;
use crate::{Error, Result};

/// Version tag of the stored form; bump it (and keep reading the old one) if the layout changes.
pub const STORED_PREFIX: &str = "cc1";

/// What decryption messages call a `cc1:` value.
const WHAT: &str = "encrypted";

/// The current key (encrypts) and previous keys (still decrypt).
#[derive(Clone)]
pub struct Keyring {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

/// A parsed `cc1:` value; borrows from the stored string.
struct Stored<'a> {
    key_id: &'a str,
    payload_b64: &'a str,
}

impl<'a> Stored<'a> {
    fn parse(stored: &'a str) -> Result<Self> {
        let mut parts = stored.trim().splitn(3, ':');
        let (Some(version), Some(key_id), Some(payload_b64)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::decrypt(format!(
                "value is not in the encrypted format (expected {STORED_PREFIX}:<key id>:<data>)"
            )));
        };
        if version != STORED_PREFIX {
            // The version token is not echoed: an unencrypted secret could sit in its place.
            let hint = if stored.trim_start().starts_with(secretbox::PEER_SBOX_PREFIX) {
                "; this is a codex-orchestrator sbox:v1 value, import it with the peer's key"
            } else {
                ""
            };
            return Err(Error::decrypt(format!(
                "unknown encrypted value version (expected {STORED_PREFIX}){hint}"
            )));
        }
        let id_ok = key_id.len() == KEY_ID_HEX_LEN
            && key_id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !id_ok {
            return Err(Error::decrypt(format!(
                "encrypted value has a malformed key id (expected {KEY_ID_HEX_LEN} lowercase hex characters)"
            )));
        }
        Ok(Self {
            key_id,
            payload_b64,
        })
    }
}

impl Keyring {
    /// Builds a keyring; previous keys equal to the current one or to each other are dropped.
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Self {
        let mut kept: Vec<MasterKey> = Vec::with_capacity(previous.len());
        for key in previous {
            if !key.same_key(&current) && !kept.iter().any(|k| k.same_key(&key)) {
                kept.push(key);
            }
        }
        Self {
            current,
            previous: kept,
        }
    }

    /// The key that encrypts new values.
    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// Keys that only decrypt, newest first.
    pub fn previous(&self) -> &[MasterKey] {
        &self.previous
    }

    pub fn current_key_id(&self) -> String {
        self.current.key_id()
    }

    /// Ids of all configured keys, current first.
    pub fn key_ids(&self) -> Vec<String> {
        self.keys().map(MasterKey::key_id).collect()
    }

    /// Whether a key with this id is configured (current or previous).
    pub fn contains(&self, key_id: &str) -> bool {
        self.keys().any(|k| k.key_id() == key_id)
    }

    /// A keyring for rotation: `new_current` encrypts, and the old current key joins the front
    /// of the previous keys so existing values stay readable until they are re-encrypted.
    pub fn rotated(&self, new_current: MasterKey) -> Self {
        let mut previous = Vec::with_capacity(self.previous.len() + 1);
        previous.push(self.current.clone());
        previous.extend(self.previous.iter().cloned());
        Self::new(new_current, previous)
    }

    fn keys(&self) -> impl Iterator<Item = &MasterKey> {
        std::iter::once(&self.current).chain(self.previous.iter())
    }

    /// Encrypts under the current key with a fresh random nonce.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String> {
        let payload = secretbox::seal(self.current.bytes(), plaintext)?;
        Ok(format!(
            "{STORED_PREFIX}:{}:{}",
            self.current.key_id(),
            STANDARD.encode(payload)
        ))
    }

    /// Decrypts a `cc1:` value with whichever configured key its id names.
    pub fn decrypt(&self, stored: &str) -> Result<Vec<u8>> {
        let parsed = Stored::parse(stored)?;
        let payload = secretbox::decode_payload(parsed.payload_b64, WHAT)?;
        // Ids are 32 bits, so two configured keys could in theory share one: try each match.
        let mut last_err = None;
        for key in self.keys().filter(|k| k.key_id() == parsed.key_id) {
            match secretbox::open(key.bytes(), &payload, WHAT) {
                Ok(plain) => return Ok(plain),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            Error::decrypt(format!(
                "value was encrypted with master key id {} which is not configured \
                 (configured: {})",
                parsed.key_id,
                self.key_ids().join(", ")
            ))
        }))
    }

    /// Encrypts UTF-8 text.
    pub fn encrypt_str(&self, plaintext: &str) -> Result<String> {
        self.encrypt(plaintext.as_bytes())
    }

    /// Decrypts to UTF-8 text.
    pub fn decrypt_string(&self, stored: &str) -> Result<String> {
        String::from_utf8(self.decrypt(stored)?).map_err(|e| {
            // Wipe the rejected bytes: they are decrypted secret material.
            drop(Zeroizing::new(e.into_bytes()));
            Error::decrypt("decrypted value is not valid UTF-8")
        })
    }

    /// True unless the value is a well-formed `cc1:` value under the current key. Malformed
    /// values count as needing rotation so that `keys rotate` reports them (via `reencrypt`'s
    /// error) instead of skipping them silently.
    pub fn needs_rotation(&self, stored: &str) -> bool {
        Stored::parse(stored).map_or(true, |p| p.key_id != self.current.key_id())
    }

    /// Re-encrypts under the current key; `None` when the value already uses it.
    pub fn reencrypt(&self, stored: &str) -> Result<Option<String>> {
        if !self.needs_rotation(stored) {
            return Ok(None);
        }
        let plain = Zeroizing::new(self.decrypt(stored)?);
        self.encrypt(&plain).map(Some)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.key_id())
            .field(
                "previous",
                &self
                    .previous
                    .iter()
                    .map(MasterKey::key_id)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring::new(MasterKey::generate().unwrap(), vec![])
    }

    #[test]
    fn round_trip_and_format() {
        let kr = ring();
        for msg in [&b""[..], b"x", "Grüße 🔐".as_bytes(), &[0u8; 5000][..]] {
            let stored = kr.encrypt(msg).unwrap();
            let parts: Vec<&str> = stored.splitn(3, ':').collect();
            assert_eq!(parts[0], "cc1");
            assert_eq!(parts[1], kr.current_key_id());
            let payload = STANDARD.decode(parts[2]).unwrap();
            assert_eq!(payload.len(), 24 + 16 + msg.len());
            assert_eq!(kr.decrypt(&stored).unwrap(), msg);
        }
        let s = kr.encrypt_str("auth.json body").unwrap();
        assert_eq!(kr.decrypt_string(&s).unwrap(), "auth.json body");
    }

    #[test]
    fn nonces_are_fresh() {
        let kr = ring();
        assert_ne!(kr.encrypt(b"same").unwrap(), kr.encrypt(b"same").unwrap());
    }

    #[test]
    fn ciphertext_does_not_contain_plaintext() {
        let kr = ring();
        let stored = kr.encrypt_str("sk-very-secret-api-key").unwrap();
        assert!(!stored.contains("sk-very-secret"));
    }

    #[test]
    fn wrong_key_fails_with_decrypt() {
        let a = ring();
        let b = ring();
        let stored = a.encrypt(b"secret").unwrap();
        let err = b.decrypt(&stored).unwrap_err();
        assert!(err.reason() == "decrypt_failed");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!(
                "master key id {} which is not configured",
                a.current_key_id()
            )),
            "{msg}"
        );

        // Same id (forged) but a different key: authentication failure.
        let forged = stored.replacen(&a.current_key_id(), &b.current_key_id(), 1);
        let err = b.decrypt(&forged).unwrap_err();
        assert!(err.reason() == "decrypt_failed");
        assert!(err.to_string().contains("authentication"), "{err}");
    }

    #[test]
    fn tampered_ciphertext_fails() {
        let kr = ring();
        let stored = kr.encrypt(b"important secret value").unwrap();
        let (head, b64) = stored.rsplit_once(':').unwrap();
        let mut payload = STANDARD.decode(b64).unwrap();
        for idx in [0, 24, 40, payload.len() - 1] {
            payload[idx] ^= 0x80;
            let bad = format!("{head}:{}", STANDARD.encode(&payload));
            let err = kr.decrypt(&bad).unwrap_err();
            assert!(err.reason() == "decrypt_failed", "byte {idx}");
            payload[idx] ^= 0x80;
        }
        // Truncation.
        let bad = format!("{head}:{}", STANDARD.encode(&payload[..30]));
        assert!(
            kr.decrypt(&bad)
                .unwrap_err()
                .to_string()
                .contains("too short")
        );
    }

    #[test]
    fn malformed_values_have_clear_errors() {
        let kr = ring();
        let id = kr.current_key_id();
        let cases = [
            ("plain-secret-token", "not in the encrypted format"),
            ("cc2:abcdef01:AAAA", "unknown encrypted value version"),
            ("sbox:v1:AAAA", "codex-orchestrator"),
            ("cc1:XYZ:AAAA", "malformed key id"),
            (&*format!("cc1:{id}:***"), "not valid base64"),
        ];
        for (input, want) in cases {
            let err = kr.decrypt(input).unwrap_err();
            assert!(err.reason() == "decrypt_failed", "{input}");
            assert!(err.to_string().contains(want), "{input}: {err}");
            assert!(!err.to_string().contains("plain-secret"));
        }
    }

    #[test]
    fn rotation_reencrypts_and_previous_stays_readable() {
        let old = ring();
        let stored_old = old.encrypt_str("canonical auth.json").unwrap();
        assert!(!old.needs_rotation(&stored_old));
        assert_eq!(old.reencrypt(&stored_old).unwrap(), None);

        let new = old.rotated(MasterKey::generate().unwrap());
        assert_ne!(new.current_key_id(), old.current_key_id());
        assert!(new.contains(&old.current_key_id()));
        assert!(new.contains(&new.current_key_id()));
        assert!(!new.contains("00000000"));
        assert_eq!(new.previous().len(), 1);

        // Old values still decrypt via the previous key.
        assert_eq!(
            new.decrypt_string(&stored_old).unwrap(),
            "canonical auth.json"
        );
        assert!(new.needs_rotation(&stored_old));

        let rotated = new.reencrypt(&stored_old).unwrap().unwrap();
        assert!(rotated.starts_with(&format!("cc1:{}:", new.current_key_id())));
        assert!(!new.needs_rotation(&rotated));
        assert_eq!(new.reencrypt(&rotated).unwrap(), None);
        assert_eq!(new.decrypt_string(&rotated).unwrap(), "canonical auth.json");

        // Once the old key is dropped, only re-encrypted values remain readable.
        let only_new = Keyring::new(new.current().clone(), vec![]);
        assert!(only_new.decrypt(&stored_old).is_err());
        assert!(only_new.decrypt(&rotated).is_ok());

        // Malformed input is reported by reencrypt rather than skipped.
        assert!(new.needs_rotation("garbage"));
        assert!(new.reencrypt("garbage").is_err());
    }

    #[test]
    fn new_drops_duplicate_keys() {
        let a = MasterKey::generate().unwrap();
        let b = MasterKey::generate().unwrap();
        let kr = Keyring::new(a.clone(), vec![a.clone(), b.clone(), b.clone()]);
        assert_eq!(kr.previous().len(), 1);
        assert_eq!(kr.key_ids(), vec![a.key_id(), b.key_id()]);
    }

    #[test]
    fn debug_shows_ids_only() {
        let kr = ring().rotated(MasterKey::generate().unwrap());
        let dbg = format!("{kr:?}");
        for key in std::iter::once(kr.current()).chain(kr.previous()) {
            assert!(dbg.contains(&key.key_id()));
            assert!(!dbg.contains(key.to_base64().expose().as_str()));
        }
    }
}
