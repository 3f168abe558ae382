"""A private PostgreSQL cluster in a folder: ``parley-sync --dev`` (the embedded default) and the tests use it.

It is the real server (``initdb`` + ``pg_ctl`` from the machine), listening on 127.0.0.1 and a socket in its own
folder, with trust authentication for local connections only. The app connects as ``parley``, an ordinary role
that owns the ``parley`` database, never as the superuser, so row-level security applies to it.

PostgreSQL refuses to run as root: as root the cluster is made and run as the ``postgres`` system user through
``runuser``, and its folder is handed to that user.
"""

from __future__ import annotations

import glob
import logging
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

APP_ROLE = "parley"
APP_DATABASE = "parley"
SYSTEM_USER = "postgres"


class ClusterError(RuntimeError):
    """The cluster could not be made or started; the message says what to install or where the log is."""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if candidates:
        return candidates[0]
    raise ClusterError(
        f"PostgreSQL's {name} was not found: install the PostgreSQL >= 15 server binaries "
        "(Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to an existing server."
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    root: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def url(self, *, user: str = APP_ROLE, database: str = APP_DATABASE) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    # ---- life cycle ------------------------------------------------------------------------------------------
    @classmethod
    def ensure(cls, root: Path, port: int | None = None) -> Cluster:
        """The cluster in ``root``, made on first use (with the app role and database) and started."""
        root.mkdir(parents=True, exist_ok=True)
        cluster = cls(root, port or free_port())
        fresh = not (cluster.data_dir / "PG_VERSION").exists()
        if fresh:
            cluster._initdb()
        cluster.start()
        if fresh:
            cluster.psql(f"CREATE ROLE {APP_ROLE} LOGIN")
            cluster.psql(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_ROLE}")
        return cluster

    def _initdb(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._hand_over(self.root)
        self._run(
            [_binary("initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", SYSTEM_USER, "-E", "UTF8", "--no-sync"],
            "initdb",
        )

    def start(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._hand_over(self.socket_dir)
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c max_connections=300 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            if os.environ.get("PARLEY_PG_FAST") == "1"
            else f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c max_connections=300"
        )
        self._run(
            [_binary("pg_ctl"), "-D", str(self.data_dir), "-o", options, "-l", str(self.log_file), "-w", "start"],
            "pg_ctl start",
        )

    def stop(self, *, mode: str = "fast") -> None:
        """Stop the server (``immediate`` is a crash as far as clients can tell). A stop that fails is logged with
        pg_ctl's words and, unless it was already ``immediate``, tried once more as ``immediate``: a dev server must
        not leave its cluster running behind it (seen once on a loaded machine, with nothing in either log)."""
        cmd = [_binary("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-t", "120", "-w", "stop"]
        if self._as_root():
            cmd = ["runuser", "-u", SYSTEM_USER, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150, cwd="/")  # noqa: S603 - our own argv
        if proc.returncode == 0 or not (self.data_dir / "postmaster.pid").exists():
            return
        log.warning("pg_ctl stop -m %s failed (%s): %s", mode, proc.returncode, (proc.stderr or proc.stdout).strip())
        if mode != "immediate":
            self.stop(mode="immediate")

    def restart(self, *, mode: str = "fast") -> None:
        self.stop(mode=mode)
        self.start()

    def destroy(self) -> None:
        self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run one statement as the superuser over the socket (set-up and tests only)."""
        psql = shutil.which("psql") or _binary("psql")
        cmd = [psql, "-h", str(self.socket_dir), "-p", str(self.port), "-U", SYSTEM_USER, "-d", database]
        return self._run([*cmd, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql], "psql")

    # ---- running as the right user ---------------------------------------------------------------------------
    @staticmethod
    def _as_root() -> bool:
        return hasattr(os, "geteuid") and os.geteuid() == 0

    def _hand_over(self, path: Path) -> None:
        if self._as_root():
            shutil.chown(path, user=SYSTEM_USER, group=SYSTEM_USER)
            for parent in path.parents:  # the system user must be able to reach the folder
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)

    def _run(self, cmd: list[str], what: str, *, check: bool = True) -> str:
        if self._as_root():
            cmd = ["runuser", "-u", SYSTEM_USER, "--", *cmd]
        started = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd="/")  # noqa: S603 - our own argv
        if check and proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip()[-2000:]
            raise ClusterError(f"{what} failed after {time.monotonic() - started:.1f} s: {tail} (log: {self.log_file})")
        return proc.stdout
