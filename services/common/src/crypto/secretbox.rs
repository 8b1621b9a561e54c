//! The XSalsa20-Poly1305 secretbox primitive and codex-orchestrator's `sbox:v1:` format.
//!
//! RustCrypto's `crypto_secretbox` emits the 16-byte Poly1305 tag first, then the ciphertext:
//! byte-identical to libsodium's `crypto_secretbox_easy` (checked against PyNaCl vectors below).

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use zeroize::Zeroizing;

use super::rng;
use crate::{Error, Result};

pub(crate) const KEY_LEN: usize = 32;
pub(crate) const NONCE_LEN: usize = 24;
pub(crate) const MAC_LEN: usize = 16;

/// codex-orchestrator's stored-value prefix (src/Security/SecretBox.php).
pub const PEER_SBOX_PREFIX: &str = "sbox:v1:";

/// Standard-alphabet base64 that accepts input with or without `=` padding: keys and stored
/// values are typed or pasted by operators, and a missing `=` should not be fatal.
pub(crate) const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `crypto_secretbox_easy(plaintext, nonce, key)`: MAC (16) || ciphertext.
/// Only tests need to pick the nonce; production code goes through [`seal`].
pub(crate) fn seal_with_nonce(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    XSalsa20Poly1305::new(Key::from_slice(key))
        .encrypt(Nonce::from_slice(nonce), plaintext)
        // secretbox only fails on associated data or absurd lengths; neither comes from here.
        .map_err(|_| Error::internal("secretbox encryption failed"))
}

/// Seals under a fresh random nonce and returns nonce (24) || MAC (16) || ciphertext, the
/// payload layout shared by our `cc1:` form and the peer's `sbox:v1:` form.
pub(crate) fn seal(key: &[u8; KEY_LEN], plaintext: &[u8]) -> Result<Vec<u8>> {
    // 24-byte random nonces are safe to pick at random (XSalsa20's extended nonce exists for this).
    let nonce: [u8; NONCE_LEN] = rng::array()?;
    let sealed = seal_with_nonce(key, &nonce, plaintext)?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens nonce (24) || MAC (16) || ciphertext. `what` names the value's format in messages.
pub(crate) fn open(key: &[u8; KEY_LEN], payload: &[u8], what: &str) -> Result<Vec<u8>> {
    if payload.len() < NONCE_LEN + MAC_LEN {
        return Err(Error::decrypt(format!(
            "{what} value is too short ({} bytes; at least {} needed for nonce and MAC)",
            payload.len(),
            NONCE_LEN + MAC_LEN
        )));
    }
    let (nonce, sealed) = payload.split_at(NONCE_LEN);
    XSalsa20Poly1305::new(Key::from_slice(key))
        .decrypt(Nonce::from_slice(nonce), sealed)
        .map_err(|_| {
            Error::decrypt(format!(
                "{what} value failed authentication: wrong key or tampered ciphertext"
            ))
        })
}

/// Decodes the base64 part of a stored value; the value itself never reaches the message.
pub(crate) fn decode_payload(b64: &str, what: &str) -> Result<Vec<u8>> {
    BASE64_LENIENT
        .decode(b64)
        .map_err(|_| Error::decrypt(format!("{what} value is not valid base64")))
}

/// Decrypts a codex-orchestrator value: `sbox:v1:` + base64(nonce (24) || secretbox_easy output),
/// under the peer's 32-byte `AUTH_ENCRYPTION_KEY` (see [`peer_key_from_str`]).
///
/// Unlike the peer, a value without the prefix is an error, not "legacy plaintext": the importer
/// decides what to do with unprefixed values.
pub fn decrypt_peer_sbox(key: &[u8; KEY_LEN], stored: &str) -> Result<Vec<u8>> {
    // The peer trims before parsing, so do the same (values come out of MySQL text columns).
    let Some(b64) = stored.trim().strip_prefix(PEER_SBOX_PREFIX) else {
        return Err(Error::decrypt(format!(
            "not a codex-orchestrator encrypted value (expected prefix {PEER_SBOX_PREFIX})"
        )));
    };
    let payload = decode_payload(b64, "codex-orchestrator sbox:v1")?;
    open(key, &payload, "codex-orchestrator sbox:v1")
}

/// Parses the peer's `AUTH_ENCRYPTION_KEY`.
///
/// codex-orchestrator (src/Security/EncryptionKeyManager.php) generates it with
/// `sodium_crypto_secretbox_keygen()` and stores `sodium_bin2base64(.., ORIGINAL)`, i.e. standard
/// base64 of 32 bytes, in its `.env`; it only ever decodes base64. 64 hex characters are accepted
/// too because operators often re-export keys as hex. Surrounding quotes (as `.env` files allow)
/// and whitespace are ignored.
pub fn peer_key_from_str(s: &str) -> Result<[u8; KEY_LEN]> {
    let trimmed = s.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| {
            trimmed
                .strip_prefix(*q)
                .and_then(|rest| rest.strip_suffix(*q))
        })
        .unwrap_or(trimmed)
        .trim();
    if unquoted.is_empty() {
        return Err(Error::invalid_argument(
            "codex-orchestrator AUTH_ENCRYPTION_KEY is empty",
        ));
    }
    let bytes: Zeroizing<Vec<u8>> =
        if unquoted.len() == 2 * KEY_LEN && unquoted.bytes().all(|b| b.is_ascii_hexdigit()) {
            Zeroizing::new(hex::decode(unquoted).map_err(|_| {
                Error::invalid_argument("codex-orchestrator AUTH_ENCRYPTION_KEY is not valid hex")
            })?)
        } else {
            Zeroizing::new(BASE64_LENIENT.decode(unquoted).map_err(|_| {
            Error::invalid_argument(
                "codex-orchestrator AUTH_ENCRYPTION_KEY is neither base64 nor 64 hex characters",
            )
        })?)
        };
    <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| {
        Error::invalid_argument(format!(
            "codex-orchestrator AUTH_ENCRYPTION_KEY decodes to {} bytes; a secretbox key is {KEY_LEN}",
            bytes.len()
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;
    use serde::Deserialize;

    /// Made by testdata/gen_secretbox_vectors.py with libsodium (PyNaCl); no Python at test time.
    const VECTORS_JSON: &str = include_str!("../../testdata/secretbox_vectors.json");

    #[derive(Deserialize)]
    struct Vectors {
        vectors: Vec<Vector>,
        peer_sbox_v1: Vec<PeerVector>,
    }

    #[derive(Deserialize)]
    struct Vector {
        name: String,
        key_hex: String,
        nonce_hex: String,
        plaintext_hex: String,
        box_hex: String,
    }

    #[derive(Deserialize)]
    struct PeerVector {
        name: String,
        key_base64: String,
        key_hex: String,
        plaintext_hex: String,
        stored: String,
    }

    fn vectors() -> Vectors {
        serde_json::from_str(VECTORS_JSON).unwrap()
    }

    fn arr<const N: usize>(h: &str) -> [u8; N] {
        hex::decode(h).unwrap().try_into().unwrap()
    }

    #[test]
    fn seal_matches_libsodium_byte_for_byte() {
        let v = vectors();
        assert!(v.vectors.len() >= 8);
        for t in &v.vectors {
            let ours = seal_with_nonce(
                &arr(&t.key_hex),
                &arr(&t.nonce_hex),
                &hex::decode(&t.plaintext_hex).unwrap(),
            )
            .unwrap();
            assert_eq!(hex::encode(ours), t.box_hex, "vector {}", t.name);
        }
    }

    #[test]
    fn opens_libsodium_output() {
        for t in &vectors().vectors {
            let mut payload = hex::decode(&t.nonce_hex).unwrap();
            payload.extend(hex::decode(&t.box_hex).unwrap());
            let plain = open(&arr(&t.key_hex), &payload, "test").unwrap();
            assert_eq!(hex::encode(plain), t.plaintext_hex, "vector {}", t.name);
        }
    }

    #[test]
    fn tampered_libsodium_output_is_rejected() {
        for t in &vectors().vectors {
            let mut payload = hex::decode(&t.nonce_hex).unwrap();
            payload.extend(hex::decode(&t.box_hex).unwrap());
            let last = payload.len() - 1;
            payload[last] ^= 0x01;
            let err = open(&arr(&t.key_hex), &payload, "test").unwrap_err();
            assert!(err.reason() == "decrypt_failed", "vector {}", t.name);
        }
    }

    #[test]
    fn decrypts_peer_sbox_values() {
        for t in &vectors().peer_sbox_v1 {
            let key = peer_key_from_str(&t.key_base64).unwrap();
            assert_eq!(key, peer_key_from_str(&t.key_hex).unwrap());
            let plain = decrypt_peer_sbox(&key, &t.stored).unwrap();
            assert_eq!(
                hex::encode(plain),
                t.plaintext_hex,
                "peer vector {}",
                t.name
            );
            // The peer trims; so do we.
            let padded = format!("  {}\n", t.stored);
            assert!(decrypt_peer_sbox(&key, &padded).is_ok());
        }
    }

    #[test]
    fn peer_errors_are_clear_and_do_not_echo() {
        let v = vectors();
        let t = &v.peer_sbox_v1[0];
        let key = peer_key_from_str(&t.key_base64).unwrap();

        let err = decrypt_peer_sbox(&key, "plaintext-legacy-secret").unwrap_err();
        assert!(err.reason() == "decrypt_failed");
        assert!(err.to_string().contains("sbox:v1:"));
        assert!(!err.to_string().contains("legacy-secret"));

        let err = decrypt_peer_sbox(&key, "sbox:v1:!!!not-base64").unwrap_err();
        assert!(err.to_string().contains("base64"), "{err}");

        let err = decrypt_peer_sbox(&key, "sbox:v1:AAAA").unwrap_err();
        assert!(err.to_string().contains("too short"), "{err}");

        let wrong = [9u8; 32];
        let err = decrypt_peer_sbox(&wrong, &t.stored).unwrap_err();
        assert!(err.to_string().contains("authentication"), "{err}");
    }

    #[test]
    fn our_payload_is_readable_as_peer_form() {
        let key = [3u8; 32];
        let payload = seal(&key, b"round trip").unwrap();
        let stored = format!(
            "{PEER_SBOX_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(&payload)
        );
        assert_eq!(decrypt_peer_sbox(&key, &stored).unwrap(), b"round trip");
    }

    #[test]
    fn peer_key_formats() {
        let raw: [u8; 32] = core::array::from_fn(|i| i as u8);
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        assert_eq!(peer_key_from_str(&b64).unwrap(), raw);
        assert_eq!(peer_key_from_str(&format!("\"{b64}\"\n")).unwrap(), raw);
        assert_eq!(peer_key_from_str(b64.trim_end_matches('=')).unwrap(), raw);
        assert_eq!(peer_key_from_str(&hex::encode(raw)).unwrap(), raw);
        assert_eq!(
            peer_key_from_str(&hex::encode_upper(raw)).unwrap(),
            raw,
            "upper-case hex"
        );

        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        let err = peer_key_from_str(&short).unwrap_err();
        assert!(err.reason() == "invalid_argument");
        assert!(err.to_string().contains("16 bytes"), "{err}");
        assert!(!err.to_string().contains(&short));
        assert!(peer_key_from_str("  ").is_err());
        assert!(peer_key_from_str("not base64 at all!").is_err());
    }
}
