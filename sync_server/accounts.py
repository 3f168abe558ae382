"""What sign-up, login, invites and member changes share: password hashing, devices with their first tokens, and
the org's synced ``users`` row that mirrors each member.

The ``users`` row is how the desktop apps learn who is in the team (assignment lists, names on notes); it is
written through ``sync_engine.server_write`` so it gets an org version and reaches every device like any push.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from datetime import datetime
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.sync.protocol import OrgInfo, Role, Session, UserInfo
from sync_server import sync_engine, tokens
from sync_server.db import Conn
from sync_server.server_context import ServerContext

_hasher = PasswordHasher()  # Argon2id with argon2-cffi's defaults (docs/sync.md)


async def hash_password(password: str) -> str:
    # Argon2 takes tens of milliseconds of CPU on purpose: off the event loop so other requests keep flowing.
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


async def burn_verify(password: str) -> None:
    """Spend what a real check costs, so an unknown e-mail answers as slowly as a wrong password."""
    dummy = await asyncio.to_thread(_dummy_hash)
    await verify_password(dummy, password)


def ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def now_ms() -> int:
    return int(time.time() * 1000)


async def write_user_row(conn: Conn, org_id: str, member_id: str) -> None:
    """Mirror the member into the org's synced ``users`` row (inside ``ctx.db.org(org_id)``)."""
    cur = await conn.execute(
        "SELECT name, email, role, created_at, removed_at FROM members WHERE org_id = %s AND id = %s",
        (org_id, member_id),
    )
    row = await cur.fetchone()
    if row is None:
        raise LookupError(f"member {member_id} not found")
    name, email, role, created_at, removed_at = row
    data: dict[str, int | float | str | None] = {
        "name": name,
        "email": email,
        "role": role,
        "created_at": ms(created_at),
        "updated_at": now_ms(),
        "deleted_at": ms(removed_at),
    }
    await sync_engine.server_write(conn, org_id, "users", member_id, data)


async def write_org_row(conn: Conn, org_id: str, name: str) -> None:
    stamp = now_ms()
    data: dict[str, int | float | str | None] = {
        "name": name,
        "default_currency": "USD",
        "timezone": "UTC",
        "created_at": stamp,
        "updated_at": stamp,
        "deleted_at": None,
    }
    await sync_engine.server_write(conn, org_id, "orgs", org_id, data)


def make_session(
    ctx: ServerContext,
    *,
    org_id: str,
    org_name: str,
    member_id: str,
    name: str,
    email: str,
    role: Role,
    device_id: str,
    refresh_token: str,
) -> Session:
    seconds = ctx.settings.access_token_seconds
    claims = tokens.AccessClaims(
        org=org_id, sub=member_id, dev=device_id, role=role, exp=math.ceil(time.time()) + seconds
    )
    return Session(
        access_token=tokens.issue_access(ctx.settings.secret, claims),
        access_expires_in=seconds,
        refresh_token=refresh_token,
        device_id=device_id,
        user=UserInfo(id=member_id, org_id=org_id, name=name, email=email, role=role),
        org=OrgInfo(id=org_id, name=org_name),
    )


async def open_device(
    ctx: ServerContext,
    conn: Conn,
    *,
    org_id: str,
    org_name: str,
    member_id: str,
    name: str,
    email: str,
    role: Role,
    device_name: str,
) -> Session:
    """A new device for the member, signed in (inside ``ctx.db.org(org_id)``)."""
    device_id = tokens.new_id()
    refresh, refresh_hash = tokens.new_refresh(device_id)
    await conn.execute(
        "INSERT INTO devices (org_id, id, member_id, name, refresh_hash, refresh_expires_at, last_seen_at) "
        "VALUES (%s, %s, %s, %s, %s, now() + make_interval(days => %s), now())",
        (org_id, device_id, member_id, device_name, refresh_hash, ctx.settings.refresh_token_days),
    )
    return make_session(
        ctx,
        org_id=org_id,
        org_name=org_name,
        member_id=member_id,
        name=name,
        email=email,
        role=role,
        device_id=device_id,
        refresh_token=refresh,
    )
