"""The org's provider keys at rest: AES-256-GCM under a key derived from the server secret.

The database alone (a dump, a backup, a replica) must not give away the org's provider keys, so each key is
encrypted with a key that only the server processes hold (HKDF of ``PARLEY_SYNC_SECRET`` with an info label of its
own, so it is independent of the token-signing key). The org id is the associated data: a ciphertext copied into
another org's row fails to decrypt instead of lending that org someone else's key.
"""

from __future__ import annotations

import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"parley-sync ai provider keys v1"
_NONCE = 12
_VERSION = b"\x01"  # leading byte: a later scheme can be told apart from this one


class KeyUnreadable(Exception):
    """A stored key does not decrypt: another secret, another org's row, or a damaged value. Never says more."""


@functools.lru_cache(maxsize=4)
def _aead(secret: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
    return AESGCM(key)


def seal(secret: bytes, org_id: str, api_key: str) -> bytes:
    nonce = os.urandom(_NONCE)
    return _VERSION + nonce + _aead(secret).encrypt(nonce, api_key.encode(), org_id.encode())


def open_key(secret: bytes, org_id: str, blob: bytes) -> str:
    if len(blob) <= 1 + _NONCE or blob[:1] != _VERSION:
        raise KeyUnreadable("stored key has an unknown format")
    nonce, sealed = blob[1 : 1 + _NONCE], blob[1 + _NONCE :]
    try:
        return _aead(secret).decrypt(nonce, sealed, org_id.encode()).decode()
    except (InvalidTag, UnicodeDecodeError):
        raise KeyUnreadable("stored key does not decrypt with this server's secret for this org") from None
