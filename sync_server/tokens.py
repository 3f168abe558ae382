"""Access and refresh tokens, and the one-way hashes the database keeps of secrets.

Access tokens are stateless (an HMAC over a small JSON payload) so a request costs no token look-up; the database
still vouches for the device on every call (``access.authenticate``). Refresh tokens are random and only their
SHA-256 is stored. A refresh token is ``<device id>.<32 random bytes, base64url>``: the device part finds the
device in one look-up. The server keeps the hash of the token before the last rotation too: that one coming back
means it was copied, and the device is revoked; any other wrong token is only refused, so knowing a device id is
not enough to sign someone's device out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache

import uuid_utils
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.sync.protocol import Role

_ACCESS_INFO = b"parley access token"
_ROLES: frozenset[str] = frozenset({"owner", "admin", "staff"})


class TokenInvalid(ValueError):
    """Malformed, or not signed with this server's secret."""


class TokenExpired(ValueError):
    """Well signed but past its ``exp``: the client should refresh."""


@dataclass(frozen=True)
class AccessClaims:
    org: str
    sub: str  # member id
    dev: str  # device id
    role: Role
    exp: int  # unix seconds


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenInvalid("not base64url") from None


@lru_cache(maxsize=8)
def access_key(secret: bytes) -> bytes:
    """The signing key, derived so the raw secret (also used for provider keys) never signs anything itself."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_ACCESS_INFO).derive(secret)


def issue_access(secret: bytes, claims: AccessClaims) -> str:
    payload = {"org": claims.org, "sub": claims.sub, "dev": claims.dev, "role": claims.role, "exp": claims.exp}
    body = b64url(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    sig = hmac.new(access_key(secret), body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{b64url(sig)}"


def verify_access(secret: bytes, token: str, *, now: float | None = None) -> AccessClaims:
    body, dot, sig = token.partition(".")
    if not dot or not body or not sig or len(token) > 4096 or not token.isascii():
        raise TokenInvalid("malformed")
    expected = hmac.new(access_key(secret), body.encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _unb64url(sig)):
        raise TokenInvalid("bad signature")
    try:
        payload = json.loads(_unb64url(body))
        claims = AccessClaims(
            org=str(payload["org"]),
            sub=str(payload["sub"]),
            dev=str(payload["dev"]),
            role=payload["role"],
            exp=int(payload["exp"]),
        )
    except (ValueError, KeyError, TypeError):
        raise TokenInvalid("bad payload") from None
    if claims.role not in _ROLES:
        raise TokenInvalid("bad role")
    if claims.exp <= (time.time() if now is None else now):
        raise TokenExpired("expired")
    return claims


def hash_secret(token: str) -> bytes:
    """What the database keeps of a refresh or invite token (high-entropy, so a plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_refresh(device_id: str) -> tuple[str, bytes]:
    """A fresh refresh token for the device and the hash to store."""
    token = f"{device_id}.{b64url(secrets.token_bytes(32))}"
    return token, hash_secret(token)


def refresh_device(token: str) -> str | None:
    """The device a refresh token names, or None when it is not shaped like one of ours."""
    device_id, dot, rest = token.rpartition(".")
    return device_id if dot and device_id and len(rest) == 43 else None


def new_invite_token() -> tuple[str, bytes]:
    token = b64url(secrets.token_bytes(32))
    return token, hash_secret(token)


def new_id() -> str:
    """Time-ordered ids (UUIDv7) like the app's own, so server-made members and devices sort by creation."""
    return str(uuid_utils.uuid7())
