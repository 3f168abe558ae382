"""Workspace keys: random keys for the keyring, Argon2id-derived keys for passphrases, and key verifiers.

The header file next to the database records how the key is protected (never the key itself): the mode, the
keyring backend that holds it, or the Argon2id salt and parameters. A verifier (HMAC of a fixed label under the
key) lets Parley tell "wrong passphrase" from "damaged file" – SQLCipher reports both as "file is not a database".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from typing import Literal

from argon2.low_level import Type, hash_secret_raw
from pydantic import BaseModel, ConfigDict

from app.core.errors import PassphraseTooWeak
from app.store.sqlcipher import KEY_BYTES

MIN_PASSPHRASE = 8
_VERIFIER_LABEL = b"parley key verifier v1"


class KdfParams(BaseModel):
    """Argon2id parameters; defaults follow RFC 9106's second recommendation (64 MiB, t=3)."""

    model_config = ConfigDict(frozen=True)

    algorithm: Literal["argon2id"] = "argon2id"
    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 2
    salt: str = ""

    def with_new_salt(self) -> KdfParams:
        return self.model_copy(update={"salt": base64.b64encode(os.urandom(16)).decode("ascii")})


DEFAULT_KDF = KdfParams()


class KeyProtection(BaseModel):
    """How one key is protected. Stored in the workspace header; contains no secret."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["keyring", "passphrase"]
    verifier: str
    keyring_backend: str | None = None
    keyring_entry: str | None = None
    kdf: KdfParams | None = None


def random_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def check_passphrase_strength(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise PassphraseTooWeak(f"The passphrase must be at least {MIN_PASSPHRASE} characters long.")


def derive_key(passphrase: str, params: KdfParams) -> bytes:
    if not params.salt:
        raise ValueError("KDF parameters without a salt")
    return hash_secret_raw(
        secret=passphrase.encode("utf-8"),
        salt=base64.b64decode(params.salt),
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=KEY_BYTES,
        type=Type.ID,
    )


def verifier(key: bytes) -> str:
    return hmac.new(key, _VERIFIER_LABEL, hashlib.sha256).hexdigest()


def matches(key: bytes, protection: KeyProtection) -> bool:
    return hmac.compare_digest(verifier(key), protection.verifier)


def passphrase_protection(passphrase: str, kdf: KdfParams) -> tuple[bytes, KeyProtection]:
    """A new key derived from ``passphrase`` under a fresh salt, and its protection record."""
    check_passphrase_strength(passphrase)
    params = kdf.with_new_salt()
    key = derive_key(passphrase, params)
    return key, KeyProtection(mode="passphrase", verifier=verifier(key), kdf=params)


def keyring_protection(key: bytes, backend: str, entry: str) -> KeyProtection:
    return KeyProtection(mode="keyring", verifier=verifier(key), keyring_backend=backend, keyring_entry=entry)
