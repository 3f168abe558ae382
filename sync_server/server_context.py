"""What every route needs, built once per process in the app's lifespan and kept on ``app.state.ctx``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from sync_server.config import ServerConfig
from sync_server.db import Db

if TYPE_CHECKING:
    from sync_server.metrics import Metrics
    from sync_server.realtime import Hub


@dataclass
class ServerContext:
    settings: ServerConfig
    db: Db
    hub: Hub
    metrics: Metrics
    extras: dict[str, object] = field(default_factory=dict)


def context(conn: HTTPConnection) -> ServerContext:
    ctx = conn.app.state.ctx
    assert isinstance(ctx, ServerContext)
    return ctx
