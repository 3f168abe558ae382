"""Server settings from the environment (pydantic), declared once with their defaults.

``DATABASE_URL`` names the PostgreSQL database; without it ``parley-sync --dev`` starts a private cluster in the
data folder. ``PARLEY_SYNC_SECRET`` (32+ random bytes, base64) signs access tokens and encrypts the org's AI
provider keys; every process behind one load balancer must share it. ``--dev`` makes one and keeps it in the data
folder (mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from platformdirs import user_data_path
from pydantic import BaseModel, ConfigDict

from app.sync.protocol import ACCESS_TOKEN_SECONDS, REFRESH_TOKEN_DAYS


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class ServerConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    database_url: str
    secret: bytes
    access_token_seconds: int = ACCESS_TOKEN_SECONDS
    refresh_token_days: int = REFRESH_TOKEN_DAYS
    invite_days: int = 7
    # Login limits (docs/sync.md, "Login limits"): failures in 15 minutes per (e-mail, address) and per address, then
    # refused; past the e-mail's own count from all addresses, a back-off of 1, 2, 4 ... up to the maximum seconds.
    login_attempts_per_15min: int = 10
    login_address_attempts_per_15min: int = 30
    login_email_backoff_after: int = 20
    login_backoff_max_seconds: int = 60
    pool_min: int = 2
    pool_max: int = 20
    tombstone_days: int = 90
    # AI gateway calls go to the provider's own address unless a test or a proxy overrides it per entry.
    ai_timeout_seconds: float = 60.0
    # How long an AI call's reservation of its largest possible cost holds the budget when the call never settles
    # (its process died): longer than any call runs (a fallback chain of 10 entries at 60 s is 600 s).
    ai_reservation_seconds: float = 900.0
    # Media shared through the server (docs/sync.md, "Media"): the largest one blob may be, and the most one org may
    # keep (plaintext bytes). Over either, an upload is refused (413 ``too_large`` / ``media_quota``).
    media_max_bytes: int = 100 * 1024 * 1024
    media_quota_bytes: int = 5 * 1024 * 1024 * 1024


def decode_secret(value: str) -> bytes:
    try:
        secret = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("PARLEY_SYNC_SECRET must be base64 (e.g. from `openssl rand -base64 32`).") from None
    if len(secret) < 32:
        raise ConfigError("PARLEY_SYNC_SECRET must hold at least 32 random bytes.")
    return secret


def dev_secret(data_dir: Path) -> bytes:
    """The --dev secret: made once, kept beside the dev cluster, readable by its owner only."""
    path = data_dir / "secret.b64"
    if path.exists():
        return decode_secret(path.read_text().strip())
    data_dir.mkdir(parents=True, exist_ok=True)
    value = base64.b64encode(secrets.token_bytes(32)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return decode_secret(value)


def default_data_dir() -> Path:
    return Path(os.environ.get("PARLEY_SYNC_DATA") or user_data_path("parley-sync", appauthor=False))


def from_env(env: dict[str, str] | None = None, **overrides: object) -> ServerConfig:
    env = dict(os.environ if env is None else env)
    url = env.get("DATABASE_URL")
    raw_secret = env.get("PARLEY_SYNC_SECRET")
    if not url:
        raise ConfigError("DATABASE_URL is not set (or run `parley-sync --dev` for a local throwaway database).")
    if not raw_secret:
        raise ConfigError("PARLEY_SYNC_SECRET is not set: 32 random bytes in base64, shared by every process.")
    fields: dict[str, object] = {"database_url": url, "secret": decode_secret(raw_secret)}
    for name, var in (
        ("pool_max", "PARLEY_SYNC_POOL_MAX"),
        ("access_token_seconds", "PARLEY_SYNC_ACCESS_SECONDS"),
        ("ai_reservation_seconds", "PARLEY_SYNC_AI_RESERVATION_SECONDS"),
        ("media_max_bytes", "PARLEY_SYNC_MEDIA_MAX_BYTES"),
        ("media_quota_bytes", "PARLEY_SYNC_MEDIA_QUOTA_BYTES"),
    ):
        if env.get(var):
            try:
                fields[name] = int(env[var])
            except ValueError:
                raise ConfigError(f"{var} must be a whole number.") from None
    fields.update(overrides)
    return ServerConfig.model_validate(fields)
