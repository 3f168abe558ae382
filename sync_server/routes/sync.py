"""Push, pull and the version socket (docs/sync.md, "Push", "Pull" and "Realtime"); a push's body is read by
``push_body``."""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.sync.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    SUPPORTED_PROTOCOLS,
    SocketAuth,
)
from sync_server import sync_engine, tokens
from sync_server.access import bearer_claims, principal_for_token, send_confirm
from sync_server.context import context
from sync_server.errors import ApiError, read_body
from sync_server.push_body import protocol_error, read_push
from sync_server.realtime import Notice

SOCKET_AUTH_SECONDS = 10.0
JSON = "application/json"

# Pushes of one org serialise on its orgs row anyway. Queueing them here first, before they take a pooled
# connection, keeps the waiting ones from holding connections idle on the row lock (which starved pulls and other
# orgs of the pool under load), and the lock holder's transaction is not held up by a queue of lock waiters.
# Entries vanish when no push of the org is running or waiting.
_org_push_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def _push_lock(org_id: str) -> asyncio.Lock:
    lock = _org_push_locks.get(org_id)
    if lock is None:
        lock = _org_push_locks[org_id] = asyncio.Lock()
    return lock


async def push(request: Request) -> Response:
    ctx = context(request)
    claims = bearer_claims(request)
    body = read_push(await read_body(request))
    started = time.perf_counter()
    async with _push_lock(claims.org), ctx.db.org(claims.org) as conn:
        # The device check, the locks and the read of the batch's rows go out first; PostgreSQL works on them
        # while the changes are checked here. A change that fails its check rolls the transaction back.
        start = await sync_engine.start_push(conn, await send_confirm(conn, claims), body)
        answer = await sync_engine.push(conn, start)
    ctx.metrics.inc("sync_pushes")
    ctx.metrics.inc("sync_push_changes", len(body))
    ctx.metrics.observe("sync_push_seconds", time.perf_counter() - started)
    return Response(answer.model_dump_json(), media_type=JSON)


def _query_int(request: Request, name: str, default: int | None, minimum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise ApiError(422, "invalid", f"The query parameter {name} is required.")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "invalid", f"The query parameter {name} must be a whole number.") from None
    if value < minimum or value > 2**62:
        raise ApiError(422, "invalid", f"The query parameter {name} must be at least {minimum}.")
    return value


async def pull(request: Request) -> Response:
    ctx = context(request)
    claims = bearer_claims(request)
    if _query_int(request, "protocol", None, 0) not in SUPPORTED_PROTOCOLS:
        raise protocol_error()
    cursor = _query_int(request, "cursor", 0, 0)
    limit = min(_query_int(request, "limit", DEFAULT_PULL_LIMIT, 1), MAX_PULL_LIMIT)
    started = time.perf_counter()
    async with ctx.db.org(claims.org) as conn:
        # The device check rides in the pull's own transaction and round trip.
        body = await sync_engine.pull(conn, await send_confirm(conn, claims), cursor, limit)
    ctx.metrics.inc("sync_pulls")
    ctx.metrics.observe("sync_pull_seconds", time.perf_counter() - started)
    return Response(body, media_type=JSON)


async def socket(websocket: WebSocket) -> None:
    """Authenticate with the first message, then send the org's version now and whenever it moves (with the
    write's rows when the socket was opened with ``?changes=1`` and they fit, see ``realtime``).

    Close codes: 4401 no valid ``SocketAuth`` within 10 s, or the token is invalid or expired (refresh and
    reconnect); 4403 device revoked or member removed (sign out); 1013 the socket was too slow and was dropped.
    """
    ctx = context(websocket)
    await websocket.accept()
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), SOCKET_AUTH_SECONDS)
        auth = SocketAuth.model_validate_json(raw)
    except (TimeoutError, ValidationError, KeyError, WebSocketDisconnect, RuntimeError):
        with contextlib.suppress(Exception):
            await websocket.close(4401, "Send a SocketAuth message with an access token first.")
        return
    try:
        principal = await principal_for_token(ctx, auth.access_token)
    except ApiError as exc:
        code = 4403 if exc.status == 403 else 4401
        with contextlib.suppress(Exception):
            await websocket.close(code, exc.code)
        return

    # ?changes=1: this client applies the rows a small write's notice carries (VersionNotice); others get versions.
    changes = websocket.query_params.get("changes") == "1"
    sub = ctx.hub.register(principal.org_id, principal.device_id, websocket.send_text, changes=changes)
    ctx.metrics.add("sync_sockets", 1)
    try:
        # Registered first, then read: a push between the two is not missed (the mailbox keeps the higher version).
        async with ctx.db.org(principal.org_id) as conn:
            cur = await conn.execute("SELECT version FROM orgs WHERE id = %s", (principal.org_id,))
            found = await cur.fetchone()
        sub.offer(Notice.of(int(found[0]) if found else 0))
        receiving = asyncio.ensure_future(_drain(websocket))
        dropped = asyncio.ensure_future(sub.closed.wait())
        # The token was checked once; when it expires the socket closes with 4401, so the client refreshes and
        # reconnects, and a revoked device or removed member stops hearing notices within one token lifetime.
        expiry = asyncio.ensure_future(asyncio.sleep(max(0.0, _expires_at(ctx.settings.secret, auth) - time.time())))
        await asyncio.wait({receiving, dropped, expiry}, return_when=asyncio.FIRST_COMPLETED)
        for task in (receiving, dropped, expiry):
            task.cancel()
        if not receiving.done():
            code, reason = (4401, "token_expired") if expiry.done() and not expiry.cancelled() else (1013, "too slow")
            with contextlib.suppress(Exception):
                await websocket.close(code, reason)
    finally:
        ctx.hub.unregister(sub)
        ctx.metrics.add("sync_sockets", -1)


def _expires_at(secret: bytes, auth: SocketAuth) -> float:
    try:
        return float(tokens.verify_access(secret, auth.access_token).exp)
    except (tokens.TokenExpired, tokens.TokenInvalid):
        return 0.0  # expired between the check and now: close at once


async def _drain(websocket: WebSocket) -> None:
    """Reads (and ignores) what the client sends until it goes away: the socket is one-way after auth."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return


def routes() -> list[BaseRoute]:
    return [
        Route("/api/sync/push", push, methods=["POST"]),
        Route("/api/sync/pull", pull, methods=["GET"]),
        WebSocketRoute("/api/sync/socket", socket),
    ]
