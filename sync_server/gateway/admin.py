"""The owner's and admins' side of the gateway: the provider list with its limits, and the month's usage.

Admins may look (they answer for the team's spending), only the owner may change where the team's prompts go and
whose money pays for them. Keys are write-only: an answer says whether an entry has one and its last 4 characters.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app.sync.protocol import GatewayPolicy
from sync_server.access import authenticate, require
from sync_server.errors import read_model
from sync_server.gateway import store
from sync_server.server_context import context


async def get_settings(request: Request) -> Response:
    principal = await authenticate(request)
    require(principal, "admin")
    ctx = context(request)
    found = await store.read_settings(ctx.db, ctx.settings.secret, principal.org_id)
    return JSONResponse(found.model_dump(mode="json", exclude={"providers": {"__all__": {"api_key"}}}))


async def put_settings(request: Request) -> Response:
    principal = await authenticate(request)
    require(principal, "owner")
    body = await read_model(request, GatewayPolicy)
    ctx = context(request)
    await store.write_settings(ctx.db, ctx.settings.secret, principal.org_id, body)
    found = await store.read_settings(ctx.db, ctx.settings.secret, principal.org_id)
    return JSONResponse(found.model_dump(mode="json", exclude={"providers": {"__all__": {"api_key"}}}))


async def usage(request: Request) -> Response:
    principal = await authenticate(request)
    require(principal, "admin")
    rows = await store.monthly_usage(context(request).db, principal.org_id)
    return JSONResponse([row.model_dump(mode="json") for row in rows])


def routes() -> list[BaseRoute]:
    return [
        Route("/api/ai/settings", get_settings, methods=["GET"]),
        Route("/api/ai/settings", put_settings, methods=["PUT"]),
        Route("/api/ai/usage", usage, methods=["GET"]),
    ]
