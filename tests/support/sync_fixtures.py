"""pytest plugin with the sync fixtures (any test folder can use them): one PostgreSQL cluster per session, a
database and a real server process per module.

Tests share a module's server but each makes its own org (``signup``), so they never see each other's data.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.sync.protocol import Session
from sync_server.pgcluster import Cluster
from tests.support.sync_server import ServerProcess, fresh_database

_emails = itertools.count(1)
PASSWORD = "correct horse battery"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test that used a sync server shows the end of that server's log next to the traceback: the
    server's side of a hang or a 5xx is otherwise lost with pytest's temp folder."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call" and report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, ServerProcess):
                report.sections.append((f"sync server log ({name}, last 4000 characters)", value.log_tail()))


@contextlib.contextmanager
def private_cluster(prefix: str = "parley-pg-") -> Iterator[Cluster]:
    """A PostgreSQL cluster of its own, destroyed afterwards.

    Not under pytest's temp folder: a second pytest session makes that folder private again, which would lock the
    ``postgres`` user (as root) out of this running cluster's files and socket.
    """
    home = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = Cluster.ensure(home / "cluster")
    try:
        yield cluster
    finally:
        cluster.destroy()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def pg() -> Iterator[Cluster]:
    with private_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def database_url(pg: Cluster) -> str:
    return fresh_database(pg)


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(database_url, tmp_path_factory.mktemp("server") / "server.log").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0) as client:
        yield client


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_emails)}@example.com"


def signup(http: httpx.Client, *, org_name: str = "Acme Shoes", email: str | None = None, **extra: str) -> Session:
    """A new org with its owner signed in on a new device."""
    body = {
        "org_name": org_name,
        "name": "Olivia Owner",
        "email": email or unique_email("owner"),
        "password": PASSWORD,
        "device_name": "owner laptop",
        **extra,
    }
    response = http.post("/api/orgs", json=body)
    assert response.status_code == 201, response.text
    return Session.model_validate(response.json())


def bearer(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {session.access_token}"}
