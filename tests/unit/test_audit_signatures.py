"""The Ed25519 wrapper used for audit checkpoints (cryptography underneath) agrees with RFC 8032's test vectors."""

from __future__ import annotations

import pytest

from webapp.audit import signatures

pytestmark = pytest.mark.req("S-AUDIT")

# RFC 8032 section 7.1, TEST 1 and TEST 2: (secret key, public key, message, signature).
VECTORS = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), VECTORS)
def test_rfc_8032_vectors(secret, public, message, signature):
    seed, message = bytes.fromhex(secret), bytes.fromhex(message)
    assert signatures.public_key(seed).hex() == public
    assert signatures.sign(seed, message).hex() == signature
    assert signatures.verify(bytes.fromhex(public), message, bytes.fromhex(signature))


def test_a_changed_message_signature_or_key_does_not_verify():
    seed, other = bytes(range(32)), bytes(range(1, 33))
    public, signature = signatures.public_key(seed), signatures.sign(seed, b"record 5")
    assert signatures.verify(public, b"record 5", signature)
    assert not signatures.verify(public, b"record 6", signature)
    assert not signatures.verify(signatures.public_key(other), b"record 5", signature)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not signatures.verify(public, b"record 5", flipped)
    assert not signatures.verify(public, b"record 5", signature[:63])


def test_a_seed_must_be_32_bytes():
    with pytest.raises(ValueError):
        signatures.sign(b"short", b"x")
