"""The team's members and devices: list, change a role, remove a member, revoke a device.

An id of another org answers 404 exactly like an id that does not exist: every look-up runs in the caller's org
(``Db.org``), so another org's rows are invisible rather than refused.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.sync.protocol import DeviceInfo, MemberInfo, RoleChange
from sync_server import accounts, logs
from sync_server.access import authenticate, require
from sync_server.db import Conn
from sync_server.errors import ApiError, read_model
from sync_server.server_context import context

log = logging.getLogger(__name__)

_MEMBER_COLUMNS = "id, name, email, role, removed_at IS NOT NULL"


def _not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No such {what} in this team.")


def _member(row: tuple[object, ...]) -> MemberInfo:
    return MemberInfo.model_validate(dict(zip(("id", "name", "email", "role", "removed"), row, strict=True)))


async def _owners_locked(db: Conn, org_id: str) -> list[str]:
    """The org's active owners, their rows locked so two owners cannot demote or remove each other at once."""
    cur = await db.execute(
        "SELECT id FROM members WHERE org_id = %s AND role = 'owner' AND removed_at IS NULL ORDER BY id FOR UPDATE",
        (org_id,),
    )
    return [str(r[0]) for r in await cur.fetchall()]


async def list_members(request: Request) -> Response:
    principal = await authenticate(request)
    async with context(request).db.org(principal.org_id) as db:
        cur = await db.execute(
            f"SELECT {_MEMBER_COLUMNS} FROM members WHERE org_id = %s ORDER BY created_at, id", (principal.org_id,)
        )
        rows = await cur.fetchall()
    return JSONResponse([_member(r).model_dump() for r in rows])


async def change_role(request: Request) -> Response:
    principal = await authenticate(request)
    require(principal, "owner")
    body = await read_model(request, RoleChange)
    member_id = request.path_params["id"]
    async with context(request).db.org(principal.org_id) as db:
        owners = await _owners_locked(db, principal.org_id)
        cur = await db.execute(
            f"SELECT {_MEMBER_COLUMNS} FROM members WHERE org_id = %s AND id = %s AND removed_at IS NULL FOR UPDATE",
            (principal.org_id, member_id),
        )
        row = await cur.fetchone()
        if row is None:
            raise _not_found("member")
        if owners == [member_id] and body.role != "owner":
            raise ApiError(409, "conflict", "The team needs an owner: make someone else owner first.")
        cur = await db.execute(
            f"UPDATE members SET role = %s WHERE org_id = %s AND id = %s RETURNING {_MEMBER_COLUMNS}",
            (body.role, principal.org_id, member_id),
        )
        updated = await cur.fetchone()
        assert updated is not None
        if row[3] != body.role:
            await accounts.write_user_row(db, principal.org_id, member_id)
    logs.event(log, "role_changed", org=principal.org_id, member=member_id, role=body.role)
    return JSONResponse(_member(updated).model_dump())


async def remove_member(request: Request) -> Response:
    principal = await authenticate(request)
    require(principal, "admin")
    member_id = request.path_params["id"]
    async with context(request).db.org(principal.org_id) as db:
        owners = await _owners_locked(db, principal.org_id)
        cur = await db.execute(
            "SELECT role FROM members WHERE org_id = %s AND id = %s AND removed_at IS NULL FOR UPDATE",
            (principal.org_id, member_id),
        )
        row = await cur.fetchone()
        if row is None:
            raise _not_found("member")
        if not principal.at_least("owner") and row[0] != "staff":
            raise ApiError(403, "forbidden", "An admin may remove staff only; the owner removes admins and owners.")
        if owners == [member_id]:
            raise ApiError(409, "conflict", "The team's last owner cannot be removed: make someone else owner first.")
        await db.execute(
            "UPDATE members SET removed_at = now() WHERE org_id = %s AND id = %s", (principal.org_id, member_id)
        )
        await db.execute(
            "UPDATE devices SET revoked_at = now() WHERE org_id = %s AND member_id = %s AND revoked_at IS NULL",
            (principal.org_id, member_id),
        )
        await accounts.write_user_row(db, principal.org_id, member_id)
    logs.event(log, "member_removed", org=principal.org_id, member=member_id, by=principal.member_id)
    return Response(status_code=204)


async def list_devices(request: Request) -> Response:
    principal = await authenticate(request)
    everyone = principal.at_least("admin")
    async with context(request).db.org(principal.org_id) as db:
        cur = await db.execute(
            "SELECT id, member_id, name, created_at, last_seen_at, revoked_at FROM devices"
            " WHERE org_id = %s AND (%s OR member_id = %s) ORDER BY created_at, id",
            (principal.org_id, everyone, principal.member_id),
        )
        rows = await cur.fetchall()
    devices = [
        DeviceInfo(
            id=r[0],
            user_id=r[1],
            name=r[2],
            created_at=accounts.ms(r[3]) or 0,
            last_seen_at=accounts.ms(r[4]),
            revoked_at=accounts.ms(r[5]),
            current=r[0] == principal.device_id,
        ).model_dump()
        for r in rows
    ]
    return JSONResponse(devices)


async def revoke_device(request: Request) -> Response:
    principal = await authenticate(request)
    device_id = request.path_params["id"]
    everyone = principal.at_least("admin")
    async with context(request).db.org(principal.org_id) as db:
        cur = await db.execute(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, now())"
            " WHERE org_id = %s AND id = %s AND (%s OR member_id = %s) RETURNING id",
            (principal.org_id, device_id, everyone, principal.member_id),
        )
        # Someone else's device answers like a missing one for staff: they cannot list it either.
        if await cur.fetchone() is None:
            raise _not_found("device")
    logs.event(log, "device_revoked", org=principal.org_id, device=device_id, by=principal.member_id)
    return Response(status_code=204)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/members", list_members, methods=["GET"]),
        Route("/api/members/{id}", change_role, methods=["PATCH"]),
        Route("/api/members/{id}", remove_member, methods=["DELETE"]),
        Route("/api/devices", list_devices, methods=["GET"]),
        Route("/api/devices/{id}", revoke_device, methods=["DELETE"]),
    ]
