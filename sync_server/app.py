"""The ASGI application. Routes are added capability by capability; health comes first so deployments can probe."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sync_server import __version__


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "version": __version__})


def create_app() -> Starlette:
    return Starlette(routes=[Route("/health", health)])
