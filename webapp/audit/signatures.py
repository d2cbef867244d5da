"""Ed25519 signatures for audit checkpoints, through ``cryptography``.

A thin wrapper so that the checkpoint code deals in raw bytes only: the key
files hold the 32-byte seed and the 32-byte public key in hex (RFC 8032's raw
encodings), which an auditor can check with any Ed25519 implementation.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SEED_BYTES = 32
PUBLIC_BYTES = 32
SIGNATURE_BYTES = 64


def _private(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != SEED_BYTES:
        raise ValueError(f"an Ed25519 seed is {SEED_BYTES} bytes, not {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key(seed: bytes) -> bytes:
    return _private(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(seed: bytes, message: bytes) -> bytes:
    return _private(seed).sign(message)


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """True only for a valid signature; a malformed key or signature is simply not valid."""
    if len(public) != PUBLIC_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
