"""Push, pull and the version socket (docs/sync.md, "Push", "Pull" and "Realtime"); a push's body is read by
``push_body``."""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref

import psycopg
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
from sync_server.access import bearer_claims, send_confirm
from sync_server.db import DatabaseUnavailable, Db
from sync_server.errors import ApiError, read_body
from sync_server.push_body import protocol_error, read_push
from sync_server.realtime import Notice
from sync_server.server_context import context

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
    # The request timeout counts from here: a push queued behind its org's others (one stuck on a database that does
    # not answer) is answered 503 when it runs out, like one that waited for a connection.
    deadline = asyncio.get_running_loop().time() + ctx.db.timeout
    lock = _push_lock(claims.org)
    try:
        async with asyncio.timeout_at(deadline):
            await lock.acquire()
    except TimeoutError:
        raise DatabaseUnavailable("the org's earlier pushes held the database past the request timeout") from None
    try:
        async with ctx.db.org(claims.org, deadline=deadline) as conn:
            # The device check, the locks and the read of the batch's rows go out first; PostgreSQL works on them
            # while the changes are checked here. A change that fails its check rolls the transaction back.
            start = await sync_engine.start_push(conn, await send_confirm(conn, claims), body)
            answer = await sync_engine.push(conn, start)
    finally:
        lock.release()
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
    reconnect); 4403 device revoked or member removed, at connect or at any moment after (sign out); 1013 the
    socket was too slow and was dropped, or the database is unavailable (reconnect later).
    """
    ctx = context(websocket)
    await websocket.accept()
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), SOCKET_AUTH_SECONDS)
        auth = SocketAuth.model_validate_json(raw)
    except (TimeoutError, ValidationError, KeyError, WebSocketDisconnect, RuntimeError):
        await _close(websocket, 4401, "Send a SocketAuth message with an access token first.")
        return
    try:
        claims = tokens.verify_access(ctx.settings.secret, auth.access_token)
    except tokens.TokenExpired:
        await _close(websocket, 4401, "token_expired")
        return
    except tokens.TokenInvalid:
        await _close(websocket, 4401, "unauthorized")
        return

    # ?changes=1: this client applies the rows a small write's notice carries (VersionNotice); others get versions.
    changes = websocket.query_params.get("changes") == "1"
    # Registered first, held (nothing is sent) until the database has confirmed the caller: a revocation that
    # commits before the confirmation's read is refused by it, one after it reaches this socket as a notice
    # (realtime). A push between the registration and the read of the version is not missed either: the mailbox
    # keeps the higher version.
    sub = ctx.hub.register(claims.org, claims.dev, claims.sub, websocket.send_text, changes=changes)
    ctx.metrics.add("sync_sockets", 1)
    try:
        try:
            version = await _confirmed_version(ctx.db, claims)
        except ApiError as exc:
            await _close(websocket, 4403 if exc.status == 403 else 4401, exc.code)
            return
        except psycopg.OperationalError:  # the database is down: the client reconnects with backoff
            await _close(websocket, 1013, "unavailable")
            return
        sub.offer(Notice.of(version))
        sub.confirm()
        receiving = asyncio.ensure_future(_drain(websocket))
        dropped = asyncio.ensure_future(sub.closed.wait())
        # When the token expires the socket closes with 4401, so the client refreshes and reconnects (and its
        # device is checked again); a revocation closes it at once (``sub.revoked``).
        expiry = asyncio.ensure_future(asyncio.sleep(max(0.0, claims.exp - time.time())))
        await asyncio.wait({receiving, dropped, expiry}, return_when=asyncio.FIRST_COMPLETED)
        for task in (receiving, dropped, expiry):
            task.cancel()
        if not receiving.done():
            if sub.revoked.is_set():
                code, reason = 4403, "device_revoked"
            elif expiry.done() and not expiry.cancelled():
                code, reason = 4401, "token_expired"
            else:
                code, reason = 1013, "too slow"
            await _close(websocket, code, reason)
    finally:
        ctx.hub.unregister(sub)
        ctx.metrics.add("sync_sockets", -1)


async def _confirmed_version(db: Db, claims: tokens.AccessClaims) -> int:
    """The org's version, read in the transaction (and round trip) that confirms the caller in the database."""
    async with db.org(claims.org) as conn:
        check = await send_confirm(conn, claims)
        cur = await conn.execute("SELECT version FROM orgs WHERE id = %s", (claims.org,))
        await check.principal()
        found = await cur.fetchone()
    return int(found[0]) if found else 0


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code, reason)


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
