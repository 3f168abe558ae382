"""Who is calling: the access token's claims, confirmed against the database on every request.

The token alone would keep a revoked device or a removed member working until it expires; one primary-key look-up
per request makes a revocation bite at once. The role comes from the database too, so a demotion does as well.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncCursor
from starlette.requests import HTTPConnection

from app.sync.protocol import Role
from sync_server import tokens
from sync_server.db import Conn
from sync_server.errors import ApiError
from sync_server.principal import Principal
from sync_server.server_context import ServerContext, context

REVOKED_MESSAGE = "This device was signed out of the team (revoked or member removed). Sign in again."

# One statement: the device and member states, and last_seen_at moved at most once a minute (the data-modifying
# CTE runs whether or not the outer SELECT reads it).
_CHECK = """
WITH hit AS (
    SELECT d.revoked_at IS NOT NULL AS revoked, m.removed_at IS NOT NULL AS removed, m.role
    FROM devices d JOIN members m ON m.org_id = d.org_id AND m.id = d.member_id
    WHERE d.org_id = %(org)s AND d.id = %(dev)s AND d.member_id = %(sub)s
), touch AS (
    UPDATE devices SET last_seen_at = now()
    WHERE org_id = %(org)s AND id = %(dev)s AND revoked_at IS NULL
      AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute')
    RETURNING 1
)
SELECT revoked, removed, role FROM hit
"""


def unauthorized(message: str = "Sign in: the access token is missing or not valid.") -> ApiError:
    return ApiError(401, "unauthorized", message)


def device_revoked() -> ApiError:
    return ApiError(403, "device_revoked", REVOKED_MESSAGE)


async def authenticate(conn: HTTPConnection) -> Principal:
    return await principal_for_token(context(conn), _bearer(conn))


def bearer_claims(conn: HTTPConnection) -> tokens.AccessClaims:
    """The bearer token's claims, checked by signature and expiry only (no database): callers that open the org's
    transaction anyway confirm them there with ``confirm``, so a request costs one transaction, not two."""
    return _claims(context(conn), _bearer(conn))


async def principal_for_token(ctx: ServerContext, token: str) -> Principal:
    """The principal behind an access token (HTTP bearer or the WebSocket's first message)."""
    claims = _claims(ctx, token)
    async with ctx.db.org(claims.org) as db:
        return await confirm(db, claims)


class Confirmation:
    """The database's check of the claims, sent but not yet read.

    ``Db`` transactions run in pipeline mode, so statements queued after this one travel in the same round trip
    when its answer is read. A caller that already knows what it will ask (push, pull) queues that first and reads
    ``principal()`` before using any result: an unknown or revoked caller still gets nothing, and the transaction's
    effects are rolled back with the refusal.
    """

    def __init__(self, cursor: AsyncCursor[tuple[Any, ...]], claims: tokens.AccessClaims) -> None:
        self._cursor = cursor
        self.claims = claims

    async def principal(self) -> Principal:
        row = await self._cursor.fetchone()
        if row is None:
            raise unauthorized()
        revoked, removed, role = row
        if revoked or removed:
            raise device_revoked()
        claims = self.claims
        return Principal(org_id=claims.org, member_id=claims.sub, device_id=claims.dev, role=role)


async def send_confirm(db: Conn, claims: tokens.AccessClaims) -> Confirmation:
    """Queue the check of the claims (inside a transaction scoped to ``claims.org``); read it with ``principal()``."""
    return Confirmation(await db.execute(_CHECK, {"org": claims.org, "dev": claims.dev, "sub": claims.sub}), claims)


async def confirm(db: Conn, claims: tokens.AccessClaims) -> Principal:
    """The database's word on the claims, inside a transaction scoped to ``claims.org``."""
    return await (await send_confirm(db, claims)).principal()


def _bearer(conn: HTTPConnection) -> str:
    header = conn.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    return token.strip()


def _claims(ctx: ServerContext, token: str) -> tokens.AccessClaims:
    try:
        return tokens.verify_access(ctx.settings.secret, token)
    except tokens.TokenExpired:
        raise ApiError(401, "token_expired", "The access token has expired: refresh it and retry.") from None
    except tokens.TokenInvalid:
        raise unauthorized() from None


def require(principal: Principal, role: Role) -> None:
    if not principal.at_least(role):
        raise ApiError(
            403, "forbidden", f"Only {'the owner' if role == 'owner' else 'an admin or the owner'} may do this."
        )
