#!/usr/bin/env python3
"""Generate libsodium-made secretbox test vectors for codex-central-common.

The Rust crypto module uses RustCrypto's pure-Rust `crypto_secretbox`; these vectors come from
libsodium itself (bundled in PyNaCl) so the tests prove byte compatibility with
`crypto_secretbox_easy` and with codex-orchestrator's `sbox:v1:` stored form.

Run once and commit the output; the Rust tests read the JSON and never need Python:

    python3 -m venv /tmp/nacl && /tmp/nacl/bin/pip install pynacl
    /tmp/nacl/bin/python services/common/testdata/gen_secretbox_vectors.py

Everything is deterministic (fixed keys, nonces and messages), so re-running the script must
reproduce the committed file byte for byte.
"""

import base64
import json
import pathlib

import nacl
import nacl.bindings as sodium

# Fixed, obviously-not-secret test material.
KEY = bytes(range(0x00, 0x20))
NONCE = bytes(range(0x80, 0x98))
PEER_KEY = bytes((7 * i + 1) % 256 for i in range(32))
PEER_NONCES = [bytes((3 * i + 5) % 256 for i in range(24)), bytes((11 * i) % 256 for i in range(24))]


def pattern(n: int) -> bytes:
    """A deterministic, non-repeating-looking byte pattern."""
    return bytes((i * 31 + 7) % 251 for i in range(n))


MESSAGES = [
    ("empty", b""),
    ("one_byte", b"\x00"),
    ("ascii", b"hello, codex-central"),
    ("utf8_multibyte", "Grüße, 世界 🔐 — ključ".encode("utf-8")),
    ("block_32", pattern(32)),
    ("block_64_plus_1", pattern(65)),
    ("auth_json", b'{"OPENAI_API_KEY":null,"tokens":{"access_token":"a","refresh_token":"r"}}'),
    ("pattern_1000", pattern(1000)),
]

PEER_MESSAGES = [
    ("peer_auth_json", b'{"auth_mode":"chatgpt","tokens":{"id_token":"x","access_token":"y"}}'),
    ("peer_token", b"sk-test-0123456789abcdef"),
]


def seal(message: bytes, nonce: bytes, key: bytes) -> bytes:
    easy = sodium.crypto_secretbox_easy(message, nonce, key)
    # The classic API (zero-padded, then BOXZEROBYTES stripped) must agree with the easy form.
    assert easy == sodium.crypto_secretbox(message, nonce, key)
    assert sodium.crypto_secretbox_open_easy(easy, nonce, key) == message
    assert len(easy) == len(message) + sodium.crypto_secretbox_MACBYTES
    return easy


def main() -> None:
    vectors = []
    for name, message in MESSAGES:
        vectors.append(
            {
                "name": name,
                "key_hex": KEY.hex(),
                "nonce_hex": NONCE.hex(),
                "plaintext_hex": message.hex(),
                # crypto_secretbox_easy output: 16-byte Poly1305 MAC, then the ciphertext.
                "box_hex": seal(message, NONCE, KEY).hex(),
            }
        )

    peer = []
    for (name, message), nonce in zip(PEER_MESSAGES, PEER_NONCES):
        sealed = seal(message, nonce, PEER_KEY)
        peer.append(
            {
                "name": name,
                # The peer keeps AUTH_ENCRYPTION_KEY as standard base64 of the 32 raw bytes.
                "key_base64": base64.b64encode(PEER_KEY).decode("ascii"),
                "key_hex": PEER_KEY.hex(),
                "plaintext_hex": message.hex(),
                "stored": "sbox:v1:" + base64.b64encode(nonce + sealed).decode("ascii"),
            }
        )

    doc = {
        "generator": "services/common/testdata/gen_secretbox_vectors.py",
        "pynacl_version": nacl.__version__,
        # PyNaCl does not expose the bundled libsodium version; its wheel pins one per release.
        "vectors": vectors,
        "peer_sbox_v1": peer,
    }
    out = pathlib.Path(__file__).with_name("secretbox_vectors.json")
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(vectors)} vectors and {len(peer)} peer vectors to {out}")


if __name__ == "__main__":
    main()
