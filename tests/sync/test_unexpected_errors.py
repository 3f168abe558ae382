"""A bug inside a route answers a 500 ErrorBody with a sentence, never Starlette's plain text or a traceback (which
goes to uvicorn's log). Issue 14.8's class beyond malformed bodies: whatever escapes a route."""

from __future__ import annotations

import asyncio

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sync.protocol import ErrorBody
from sync_server.app import INTERNAL_ERROR, create_app
from sync_server.config import ServerConfig


async def _broken(request: Request) -> Response:
    raise RuntimeError("secret detail of a bug: customer 'Ana' +6590000001")


def test_an_unexpected_exception_is_a_500_error_body() -> None:
    app = create_app(ServerConfig(database_url="postgresql://unused", secret=b"u" * 32))
    app.router.routes.append(Route("/broken", _broken, methods=["POST"]))

    async def call() -> httpx.Response:
        # No lifespan: the route needs no database. The app re-raises after answering (for the server's log).
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://parley.test") as client:
            return await client.post("/broken", json={})

    answer = asyncio.run(call())
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("application/json")
    body = ErrorBody.model_validate_json(answer.content)
    assert (body.code, body.message) == ("internal", INTERNAL_ERROR)
    assert "Ana" not in answer.text
    assert "Traceback" not in answer.text
