"""Sign-up, login, token refresh, logout and invites (docs/sync.md, "HTTP API" and "Tokens").

Look-ups that must find the org first (by e-mail, refresh-token hash, invite-token hash) run in ``Db.system()`` and
only read; every write happens inside ``Db.org(org)`` once the org is known, so row-level security still guards it.
"""

from __future__ import annotations

import hmac
import logging
import math

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.sync.protocol import (
    AcceptInviteRequest,
    Invite,
    InviteRequest,
    LoginRequest,
    RefreshRequest,
    Session,
    SignupRequest,
)
from sync_server import accounts, logs, tokens
from sync_server.access import authenticate, device_revoked, require, unauthorized
from sync_server.db import Conn
from sync_server.errors import ApiError, read_model
from sync_server.server_context import ServerContext, context

log = logging.getLogger(__name__)

WRONG_LOGIN = "Wrong e-mail or password."
_WINDOW = "interval '15 minutes'"


def _created(session: Session) -> JSONResponse:
    return JSONResponse(session.model_dump(), status_code=201)


async def signup(request: Request) -> Response:
    ctx = context(request)
    body = await read_model(request, SignupRequest)
    org_id = body.org_id or tokens.new_id()
    member_id = body.user_id or tokens.new_id()
    password_hash = await accounts.hash_password(body.password)
    async with ctx.db.org(org_id) as db:
        cur = await db.execute(
            "INSERT INTO orgs (id, name) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
            (org_id, body.org_name),
        )
        if await cur.fetchone() is None:
            raise ApiError(409, "conflict", "A team with this workspace id already exists: sign in instead.")
        await db.execute(
            "INSERT INTO members (org_id, id, email, name, role, password_hash) VALUES (%s, %s, %s, %s, 'owner', %s)",
            (org_id, member_id, body.email.strip(), body.name, password_hash),
        )
        await accounts.write_org_row(db, org_id, body.org_name)
        await accounts.write_user_row(db, org_id, member_id)
        session = await accounts.open_device(
            ctx,
            db,
            org_id=org_id,
            org_name=body.org_name,
            member_id=member_id,
            name=body.name,
            email=body.email.strip(),
            role="owner",
            device_name=body.device_name,
        )
    logs.event(log, "signup", org=org_id, member=member_id, device=session.device_id)
    return _created(session)


_LIMIT_LOCK = 7_402_115  # pg_advisory_xact_lock(key, hashtext(...)): one limit check per e-mail, per address


async def _admit_attempt(ctx: ServerContext, db: Conn, email: str, client: str) -> ApiError | None:
    """Check the login limits for this attempt and, when it may go ahead, record it as a failure at once (inside
    ``Db.system()``); returns the refusal otherwise. A sign-in that turns out right deletes the pair's record.

    Recording before the password is checked, under per-e-mail and per-address locks, makes the limits exact under
    concurrency: a burst of simultaneous guesses cannot all pass a check that none of them has counted yet.

    The policy (docs/sync.md, "Login limits"), over the last 15 minutes:
    - the same e-mail from the same address: ``login_attempts_per_15min`` failures, then refused until they age out;
    - one address, any e-mails: ``login_address_attempts_per_15min`` failures, then refused likewise;
    - one e-mail from all addresses together: past ``login_email_backoff_after`` failures, a back-off rather than a
      lock-out: one attempt per 1, 2, 4 ... up to ``login_backoff_max_seconds`` s. An attacker who knows someone's
      e-mail cannot lock them out (from one address the pair limit stops them before the back-off starts; many
      addresses only slow everyone to one guess per interval), and guessing is slowed to that same pace.
    """
    settings = ctx.settings
    # Always the e-mail's lock first, then the address's: two attempts never wait on each other in a cycle.
    await db.execute("SELECT pg_advisory_xact_lock(%s::int, hashtext(%s))", (_LIMIT_LOCK, "e:" + email))
    await db.execute("SELECT pg_advisory_xact_lock(%s::int, hashtext(%s))", (_LIMIT_LOCK, "c:" + client))
    cur = await db.execute(
        "SELECT count(*) FILTER (WHERE email = %(e)s AND client = %(c)s),"
        " count(*) FILTER (WHERE client = %(c)s),"
        " count(*) FILTER (WHERE email = %(e)s),"
        f" extract(epoch FROM min(at) FILTER (WHERE email = %(e)s AND client = %(c)s) + {_WINDOW} - now()),"
        f" extract(epoch FROM min(at) FILTER (WHERE client = %(c)s) + {_WINDOW} - now()),"
        " extract(epoch FROM now() - max(at) FILTER (WHERE email = %(e)s))"
        f" FROM login_attempts WHERE (email = %(e)s OR client = %(c)s) AND at > now() - {_WINDOW}",
        {"e": email, "c": client},
    )
    row = await cur.fetchone()
    assert row is not None
    pair, by_client, by_email, pair_wait, client_wait, since_last = row
    refusal: ApiError | None = None
    if pair >= settings.login_attempts_per_15min or by_client >= settings.login_address_attempts_per_15min:
        wait = pair_wait if pair >= settings.login_attempts_per_15min else client_wait
        refusal = _limited(float(wait or 1), "Too many failed sign-ins from this address")
    elif by_email >= settings.login_email_backoff_after:
        backoff = min(2 ** min(by_email - settings.login_email_backoff_after, 20), settings.login_backoff_max_seconds)
        if float(since_last or 0) < backoff:
            refusal = _limited(backoff - float(since_last or 0), "Many failed sign-ins for this e-mail")
    if refusal is None:
        await db.execute("INSERT INTO login_attempts (email, client) VALUES (%s, %s)", (email, client))
        # Opportunistic clean-up: only the last 15 minutes matter, a day is kept for investigations.
        await db.execute("DELETE FROM login_attempts WHERE at < now() - interval '1 day'")
    return refusal


def _limited(seconds: float, why: str) -> ApiError:
    wait = max(1, math.ceil(seconds))
    return ApiError(429, "rate_limited", f"{why}: try again in {wait} s.", retry_after=wait)


async def login(request: Request) -> Response:
    ctx = context(request)
    body = await read_model(request, LoginRequest)
    email = body.email.strip().lower()
    # The peer's address, or the client's as a trusted proxy reports it: uvicorn reads X-Forwarded-For only from the
    # addresses in FORWARDED_ALLOW_IPS (127.0.0.1 unless set), so a client cannot choose the address it is limited by.
    client = request.client.host if request.client else "unknown"
    async with ctx.db.system() as db:
        refusal = await _admit_attempt(ctx, db, email, client)
        cur = await db.execute(
            "SELECT m.org_id, o.name, m.id, m.name, m.email, m.role, m.password_hash FROM members m"
            " JOIN orgs o ON o.id = m.org_id WHERE lower(m.email) = %s AND m.removed_at IS NULL"
            " AND (%s::text IS NULL OR m.org_id = %s) ORDER BY o.created_at",
            (email, body.org_id, body.org_id),
        )
        candidates = await cur.fetchall()
    if refusal is not None:
        ctx.metrics.inc("logins_total", outcome="rate_limited")
        logs.event(log, "login_limited", client=client)
        raise refusal
    matches = [c for c in candidates if await accounts.verify_password(c[6], body.password)]
    if not candidates:
        await accounts.burn_verify(body.password)
    if not matches:  # (the attempt is already recorded as a failure)
        ctx.metrics.inc("logins_total", outcome="failed")
        logs.event(log, "login_failed", client=client)
        raise unauthorized(WRONG_LOGIN)
    async with ctx.db.system() as db:  # the right password: this address's failures for the e-mail are forgiven
        await db.execute("DELETE FROM login_attempts WHERE email = %s AND client = %s", (email, client))
    if len(matches) > 1:
        names = ", ".join(str(m[1]) for m in matches)
        raise ApiError(409, "choose_org", f"This e-mail belongs to several teams ({names}): choose one to sign in to.")
    org_id, org_name, member_id, name, member_email, role, _ = matches[0]
    async with ctx.db.org(org_id) as db:
        session = await accounts.open_device(
            ctx,
            db,
            org_id=org_id,
            org_name=org_name,
            member_id=member_id,
            name=name,
            email=member_email,
            role=role,
            device_name=body.device_name,
        )
    ctx.metrics.inc("logins_total", outcome="ok")
    logs.event(log, "login", org=org_id, member=member_id, device=session.device_id)
    return JSONResponse(session.model_dump())


async def _revoke(ctx: ServerContext, org_id: str, device_id: str) -> None:
    async with ctx.db.org(org_id) as db:
        await db.execute(
            "UPDATE devices SET revoked_at = now() WHERE org_id = %s AND id = %s AND revoked_at IS NULL",
            (org_id, device_id),
        )


async def refresh(request: Request) -> Response:
    ctx = context(request)
    body = await read_model(request, RefreshRequest)
    device_id = tokens.refresh_device(body.refresh_token)
    if device_id is None:
        raise unauthorized("This refresh token is not valid: sign in again.")
    async with ctx.db.system() as db:
        cur = await db.execute(
            "SELECT d.org_id, d.member_id, d.refresh_hash, d.previous_refresh_hash, d.refresh_expires_at <= now(),"
            " d.revoked_at IS NOT NULL,"
            " m.removed_at IS NOT NULL, m.name, m.email, m.role, o.name FROM devices d"
            " JOIN members m ON m.org_id = d.org_id AND m.id = d.member_id JOIN orgs o ON o.id = d.org_id"
            " WHERE d.id = %s",
            (device_id,),
        )
        rows = await cur.fetchall()
    if len(rows) != 1:
        raise unauthorized("This refresh token is not valid: sign in again.")
    org_id, member_id, stored, previous, expired, revoked, removed, name, email, role, org_name = rows[0]
    if revoked or removed:
        raise device_revoked()
    presented = tokens.hash_secret(body.refresh_token)
    if not hmac.compare_digest(bytes(stored), presented):
        # Only the token this device held before its last rotation proves a copy: anything else is a guess (device
        # ids are not secret enough to let a guess sign a device out).
        if previous is not None and hmac.compare_digest(bytes(previous), presented):
            await _revoke(ctx, org_id, device_id)
            logs.event(log, "refresh_reused", level=logging.WARNING, org=org_id, device=device_id)
            raise device_revoked()
        raise unauthorized("This refresh token is not valid: sign in again.")
    if expired:
        raise ApiError(401, "token_expired", "This sign-in has expired: sign in again.")
    new_token, new_hash = tokens.new_refresh(device_id)
    async with ctx.db.org(org_id) as db:
        cur = await db.execute(
            "UPDATE devices SET previous_refresh_hash = refresh_hash, refresh_hash = %s,"
            " refresh_expires_at = now() + make_interval(days => %s),"
            " last_seen_at = now() WHERE org_id = %s AND id = %s AND refresh_hash = %s AND revoked_at IS NULL"
            " RETURNING 1",
            (new_hash, ctx.settings.refresh_token_days, org_id, device_id, presented),
        )
        rotated = await cur.fetchone() is not None
    if not rotated:  # the same token was rotated by a concurrent call: it was used twice
        await _revoke(ctx, org_id, device_id)
        raise device_revoked()
    session = accounts.make_session(
        ctx,
        org_id=org_id,
        org_name=org_name,
        member_id=member_id,
        name=name,
        email=email,
        role=role,
        device_id=device_id,
        refresh_token=new_token,
    )
    return JSONResponse(session.model_dump())


async def logout(request: Request) -> Response:
    principal = await authenticate(request)
    await _revoke(context(request), principal.org_id, principal.device_id)
    logs.event(log, "logout", org=principal.org_id, device=principal.device_id)
    return Response(status_code=204)


async def create_invite(request: Request) -> Response:
    ctx = context(request)
    principal = await authenticate(request)
    require(principal, "admin")
    body = await read_model(request, InviteRequest)
    email = body.email.strip()
    token, token_hash = tokens.new_invite_token()
    invite_id = tokens.new_id()
    async with ctx.db.org(principal.org_id) as db:
        cur = await db.execute(
            "SELECT 1 FROM members WHERE org_id = %s AND lower(email) = lower(%s) AND removed_at IS NULL",
            (principal.org_id, email),
        )
        if await cur.fetchone() is not None:
            raise ApiError(409, "conflict", "This e-mail already belongs to a member of the team.")
        cur = await db.execute(
            "INSERT INTO invites (org_id, id, token_hash, email, role, invited_by, expires_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, now() + make_interval(days => %s)) RETURNING expires_at",
            (principal.org_id, invite_id, token_hash, email, body.role, principal.member_id, ctx.settings.invite_days),
        )
        row = await cur.fetchone()
    assert row is not None
    expires_at = accounts.ms(row[0])
    assert expires_at is not None
    invite = Invite(id=invite_id, email=email, role=body.role, token=token, expires_at=expires_at)
    logs.event(log, "invite", org=principal.org_id, invite=invite_id, role=body.role)
    return JSONResponse(invite.model_dump(), status_code=201)


def _invite_gone(message: str) -> ApiError:
    return ApiError(410, "invite_gone", message)


async def accept_invite(request: Request) -> Response:
    ctx = context(request)
    body = await read_model(request, AcceptInviteRequest)
    async with ctx.db.system() as db:
        cur = await db.execute(
            "SELECT org_id, id, email, role, expires_at <= now(), accepted_at IS NOT NULL FROM invites"
            " WHERE token_hash = %s",
            (tokens.hash_secret(body.token),),
        )
        found = await cur.fetchone()
    if found is None:
        raise ApiError(404, "not_found", "This invite is not valid: ask the team's admin for a new one.")
    org_id, invite_id, email, role, expired, used = found
    if used:
        raise _invite_gone("This invite was already used: sign in, or ask the team's admin for a new one.")
    if expired:
        raise _invite_gone("This invite has expired: ask the team's admin for a new one.")
    password_hash = await accounts.hash_password(body.password)
    async with ctx.db.org(org_id) as db:
        cur = await db.execute(
            "UPDATE invites SET accepted_at = now() WHERE org_id = %s AND id = %s AND accepted_at IS NULL"
            " AND expires_at > now() RETURNING 1",
            (org_id, invite_id),
        )
        if await cur.fetchone() is None:
            raise _invite_gone("This invite was already used or has expired: ask the team's admin for a new one.")
        cur = await db.execute(
            "SELECT id, removed_at IS NOT NULL FROM members WHERE org_id = %s AND lower(email) = lower(%s) FOR UPDATE",
            (org_id, email),
        )
        existing = await cur.fetchone()
        if existing is not None and not existing[1]:
            raise ApiError(409, "conflict", "This e-mail already belongs to a member of the team: sign in instead.")
        if existing is not None:  # a removed member comes back under the same id (their old notes stay theirs)
            member_id = str(existing[0])
            await db.execute(
                "UPDATE members SET name = %s, role = %s, password_hash = %s, removed_at = NULL"
                " WHERE org_id = %s AND id = %s",
                (body.name, role, password_hash, org_id, member_id),
            )
        else:
            member_id = tokens.new_id()
            await db.execute(
                "INSERT INTO members (org_id, id, email, name, role, password_hash) VALUES (%s, %s, %s, %s, %s, %s)",
                (org_id, member_id, email, body.name, role, password_hash),
            )
        await db.execute(
            "UPDATE invites SET accepted_by = %s WHERE org_id = %s AND id = %s", (member_id, org_id, invite_id)
        )
        cur = await db.execute("SELECT name FROM orgs WHERE id = %s", (org_id,))
        org_row = await cur.fetchone()
        assert org_row is not None
        await accounts.write_user_row(db, org_id, member_id)
        session = await accounts.open_device(
            ctx,
            db,
            org_id=org_id,
            org_name=org_row[0],
            member_id=member_id,
            name=body.name,
            email=email,
            role=role,
            device_name=body.device_name,
        )
    logs.event(log, "invite_accepted", org=org_id, invite=invite_id, member=member_id)
    return _created(session)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/orgs", signup, methods=["POST"]),
        Route("/api/auth/login", login, methods=["POST"]),
        Route("/api/auth/refresh", refresh, methods=["POST"]),
        Route("/api/auth/logout", logout, methods=["POST"]),
        Route("/api/invites", create_invite, methods=["POST"]),
        Route("/api/invites/accept", accept_invite, methods=["POST"]),
    ]
