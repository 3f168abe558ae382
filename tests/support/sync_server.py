"""The real sync server for tests: a throwaway PostgreSQL cluster, fresh databases, and ``parley-sync`` processes.

The cluster is started once per session (``initdb`` + ``pg_ctl`` from the machine, as ``postgres`` when running as
root). Each test module gets its own database; each server is a real ``python -m sync_server`` process that the test
can kill and restart, ready once ``/health`` answers.
"""

from __future__ import annotations

import base64
import itertools
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sync_server.pgcluster import APP_ROLE, Cluster, free_port
from tests.support.waiting import wait_until

SECRET = base64.b64encode(b"parley-tests-secret-0123456789abcdef").decode()
_names = itertools.count(1)
ROOT = Path(__file__).resolve().parents[2]


def fresh_database(cluster: Cluster, prefix: str = "t") -> str:
    """A new empty database owned by the app role; returns its URL."""
    name = f"{prefix}_{os.getpid()}_{next(_names)}"
    cluster.psql(f"CREATE DATABASE {name} OWNER {APP_ROLE}")
    return cluster.url(database=name)


@dataclass
class ServerProcess:
    database_url: str
    log_path: Path
    port: int = field(default_factory=free_port)
    env_extra: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 30.0) -> ServerProcess:
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "PARLEY_SYNC_SECRET": SECRET,
                "PYTHONUNBUFFERED": "1",
                **self.env_extra,
            }
        )
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sync_server", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        proc = self.proc

        def healthy() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"sync server exited with {proc.returncode}: {self.log_tail()}")
            try:
                return httpx.get(self.url + "/health", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout, lambda: f"sync server ready: {self.log_tail()}", interval=0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: the process dies wherever it is, like a crashed host."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""
