"""Push, pull and the version socket (docs/sync.md, "Push", "Pull" and "Realtime").

The protocol version is checked before the body is validated as a ``PushRequest``: a client speaking a newer
protocol (with tables this server does not know) must hear 426 "upgrade", not 422 "your data is wrong".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import weakref

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.sync.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    MAX_PUSH_CHANGES,
    SUPPORTED_PROTOCOLS,
    PushRequest,
    SocketAuth,
)
from sync_server import sync_engine, tokens
from sync_server.access import bearer_claims, principal_for_token, send_confirm
from sync_server.context import context
from sync_server.errors import ApiError, read_body
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


_UNION_NOISE = frozenset({"int_type", "int_parsing", "int_from_float", "float_type", "float_parsing", "string_type"})
_UNION_MEMBERS = frozenset({"int", "float", "str", "constrained-str"})


def _protocol_error() -> ApiError:
    supported = sorted(SUPPORTED_PROTOCOLS)
    return ApiError(
        426,
        "protocol",
        f"This server speaks sync protocol {', '.join(map(str, supported))}: update Parley.",
        supported_protocols=supported,
    )


def _batch_keys(raw: bytes) -> list[tuple[str, str]]:
    """The (table, id) of each change, by a quick parse that never fails: [] for a body it cannot make out.

    Read before validation only to start the database's work early (``sync_engine.start_push``); what the body
    holds is still decided by ``_parse_push`` alone. Refuses a newer protocol at once (426), before a database
    connection is taken.
    """
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return []  # not JSON to orjson (or NaN, or a number beyond 64 bits): _parse_push says what is wrong
    if not isinstance(payload, dict):
        return []
    protocol = payload.get("protocol")
    if isinstance(protocol, int) and protocol not in SUPPORTED_PROTOCOLS:
        raise _protocol_error()
    changes = payload.get("changes")
    if not isinstance(changes, list) or len(changes) > MAX_PUSH_CHANGES:
        return []
    keys: list[tuple[str, str]] = []
    for change in changes:
        if not isinstance(change, dict):
            return []
        table, row_id = change.get("table"), change.get("id")
        if not isinstance(table, str) or not isinstance(row_id, str):
            return []
        keys.append((table, row_id))
    return keys


def _parse_push(raw: bytes) -> PushRequest:
    try:
        # Parsed and validated in one pass by pydantic-core (no intermediate Python objects): the common case.
        request = PushRequest.model_validate_json(raw)
    except ValidationError as exc:
        failure = exc
    else:
        if request.protocol not in SUPPORTED_PROTOCOLS:
            raise _protocol_error()
        return request
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", "The request body is not valid JSON.") from None
    protocol = payload.get("protocol") if isinstance(payload, dict) else None
    if isinstance(protocol, int) and protocol not in SUPPORTED_PROTOCOLS:
        raise _protocol_error()
    errors = failure.errors()
    # A column value is a union (int | float | text): name the member's real complaint (a NUL, too long, not
    # finite), not "is not an integer", which every such error also carries.
    first = next((e for e in errors if e["type"] not in _UNION_NOISE), errors[0])
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in _UNION_MEMBERS) or "body"
    message = "it holds a NUL character" if first["type"] == "string_pattern_mismatch" else first.get("msg", "invalid")
    raise ApiError(422, "invalid", f"Invalid request at {where}: {message}.")


async def push(request: Request) -> Response:
    ctx = context(request)
    claims = bearer_claims(request)
    raw = await read_body(request)
    keys = _batch_keys(raw)
    started = time.perf_counter()
    async with _push_lock(claims.org), ctx.db.org(claims.org) as conn:
        # The device check, the locks and the read of the batch's rows go out first; PostgreSQL works on them
        # while the body is validated here. An invalid body rolls the transaction back: nothing is written.
        start = await sync_engine.start_push(conn, await send_confirm(conn, claims), keys)
        body = _parse_push(raw)
        answer = await sync_engine.push(conn, start, body)
    ctx.metrics.inc("sync_pushes")
    ctx.metrics.inc("sync_push_changes", len(body.changes))
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
        raise _protocol_error()
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
