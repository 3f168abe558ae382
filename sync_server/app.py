"""The ASGI application: routes of each capability, one database pool and one realtime hub per process.

Processes are stateless (PostgreSQL is the only state), so any number can run behind a load balancer; the hub
fans "org version N" out to this process's WebSockets from PostgreSQL's LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse

from sync_server import gateway, media, metrics, realtime, sync_engine
from sync_server.config import ServerConfig
from sync_server.db import Db
from sync_server.errors import ApiError, api_error_handler
from sync_server.routes import auth, members, sync
from sync_server.server_context import ServerContext

log = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "The sync server cannot reach its database just now: try again in a moment."
RETRY_AFTER_SECONDS = 2
INTERNAL_ERROR = "Something went wrong on the sync server; it has been logged. Try again in a moment."


async def database_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Any psycopg ``OperationalError`` that leaves a route: ``db.DatabaseUnavailable`` (the database is down or gave
    no connection within the request timeout) or a connection lost mid-request. A 503 ``unavailable`` ErrorBody, so
    a client backs off and retries; the log names the kind of failure, never a query or its values."""
    log.warning("answered 503: the database is unavailable (%s)", type(exc).__name__)
    response = ApiError(503, "unavailable", DATABASE_UNAVAILABLE).response()
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Anything else that leaves a route is a bug: the client gets a 500 ErrorBody with a sentence, never a trace or
    Starlette's plain text; the traceback goes to the log (Starlette re-raises after this answer, uvicorn logs it)."""
    return ApiError(500, "internal", INTERNAL_ERROR).response()


def create_app(settings: ServerConfig) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = await Db.open(settings.database_url, min_size=settings.pool_min, max_size=settings.pool_max)
        hub = realtime.Hub(settings.database_url)
        await hub.start()
        app.state.ctx = ServerContext(settings=settings, db=db, hub=hub, metrics=meter)
        janitor = asyncio.create_task(sync_engine.janitor(db, settings.tombstone_days), name="tombstone-janitor")
        log.info("sync server ready")
        try:
            yield
        finally:
            janitor.cancel()
            await asyncio.gather(janitor, return_exceptions=True)
            await hub.stop()
            await db.close()

    meter = metrics.Metrics()
    routes = [
        *metrics.routes(),
        *auth.routes(),
        *members.routes(),
        *sync.routes(),
        *gateway.routes(),
        *media.routes(),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(metrics.RequestMetrics, metrics=meter)],
        exception_handlers={
            ApiError: api_error_handler,
            psycopg.OperationalError: database_error_handler,
            Exception: unexpected_error_handler,
        },
    )
