"""``parley-sync``: run the sync server with uvicorn.

The database is checked (and migrated) before uvicorn starts, so a wrong setting or a database from a newer server
ends the process with one clear line and exit code 2 instead of a traceback from inside the ASGI lifespan.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
import signal
import sys
from types import FrameType

import psycopg
import uvicorn

from sync_server import logs
from sync_server.config import ConfigError, ServerConfig, default_data_dir, dev_secret, from_env
from sync_server.db import DatabaseTooNew, migrate
from sync_server.pgcluster import Cluster, ClusterError

log = logging.getLogger("sync_server")

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley-sync", description="Parley team sync server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8470)
    parser.add_argument(
        "--dev",
        action="store_true",
        help="without DATABASE_URL, run a private PostgreSQL cluster in the data folder (PARLEY_SYNC_DATA)",
    )
    return parser


def _dev_cluster(env: dict[str, str]) -> Cluster:
    """Start the data folder's own cluster and point ``env`` at it (and at the folder's own secret)."""
    data_dir = default_data_dir()
    cluster = Cluster.ensure(data_dir / "postgres")
    env["DATABASE_URL"] = cluster.url()
    if not env.get("PARLEY_SYNC_SECRET"):
        env["PARLEY_SYNC_SECRET"] = base64.b64encode(dev_secret(data_dir)).decode()
    # The URL has no password (the dev cluster trusts local connections), so saying it is safe and useful.
    print(f"parley-sync --dev: data folder {data_dir}", file=sys.stderr, flush=True)
    print(f"parley-sync --dev: DATABASE_URL={cluster.url()}", file=sys.stderr, flush=True)
    logs.event(log, "dev_cluster", data_dir=str(data_dir), database_url=cluster.url(), pg_log=str(cluster.log_file))
    return cluster


async def _check_database(url: str) -> int:
    async with await psycopg.AsyncConnection.connect(url, connect_timeout=10) as conn:
        return await migrate(conn)


def _fail(message: str) -> int:
    print(f"parley-sync: {message}", file=sys.stderr, flush=True)
    return EXIT_CONFIG


def _exit_on_term(signum: int, frame: FrameType | None) -> None:
    # uvicorn handles SIGTERM itself (graceful shutdown) and re-raises it once done; this turns that re-raise into a
    # normal exit, so the dev cluster is stopped on the way out and the exit code is 0.
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.setup()
    env = dict(os.environ)
    cluster: Cluster | None = None
    try:
        if args.dev and not env.get("DATABASE_URL"):
            cluster = _dev_cluster(env)
        settings: ServerConfig = from_env(env)
        schema = asyncio.run(_check_database(settings.database_url))
    except (ConfigError, DatabaseTooNew, ClusterError) as exc:
        return _fail(str(exc))
    except psycopg.OperationalError as exc:
        return _fail(f"cannot reach the database named by DATABASE_URL: {str(exc).strip().splitlines()[0]}")
    signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        from sync_server.app import create_app  # imported late: a config error should not pay for the routes

        logs.event(log, "starting", host=args.host, port=args.port, schema=schema, dev=bool(cluster))
        uvicorn.run(
            create_app(settings),
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=False,
            server_header=False,
            # Notices are small, and one goes to every socket of an org: compressing the same text once per socket
            # (200 sockets of one busy org: thousands a second) cost more CPU than the bytes it saved.
            ws_per_message_deflate=False,
        )
    finally:
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
