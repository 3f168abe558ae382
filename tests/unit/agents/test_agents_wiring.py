"""The composition root starts the agents (bootstrap.start_agents): the orchestrator with the agents that exist and
the durable jobs' runner, on the one service loop, stopped by the ordered shutdown. A real store, a real sale: the
finance agent's execution appears without anyone calling the orchestrator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from pytestqt.qtbot import QtBot

from app.bootstrap import start_agents
from app.core.events import SaleCompleted
from app.core.loops import LoopThread
from app.store import keys
from app.store.database import Database
from app.store.store import Store
from app.ui.shutdown import Shutdown
from app.ui.tasks import TaskRunner

ORG = "0190a000-0000-7000-8000-0000000000ee"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(Database.open(tmp_path / "w.db", keys.random_key()), ORG)
    yield store
    store.close()


def test_start_agents_runs_the_registered_agents_until_shutdown(qtbot: QtBot, store: Store) -> None:
    tasks = TaskRunner(loop=LoopThread("parley-service"))
    shutdown = Shutdown(tasks)
    start_agents(SimpleNamespace(store=store, tasks=tasks, ai=None), shutdown)  # type: ignore[arg-type]
    try:
        qtbot.waitUntil(lambda: _cursors(store) == {"finance", "greetings", "opt_out", "retention"}, timeout=10_000)
        qtbot.waitUntil(lambda: store.jobs.by_key(_any_check_key(store)) is not None, timeout=10_000)
        contact = store.contacts.create(name="Ana")
        store.emit(SaleCompleted(org_id=ORG, sale_id="s1", amount_minor=1500, currency="EUR", contact_id=contact.id))
        qtbot.waitUntil(lambda: store.agent_executions.count({"agent": "finance"}) == 1, timeout=10_000)
    finally:
        shutdown.run()
    assert tasks.service_loop.closed


def _cursors(store: Store) -> set[str]:
    with store.db.read() as conn:
        return {row[0] for row in conn.execute("SELECT agent FROM agent_cursors")}


def _any_check_key(store: Store) -> str:
    with store.db.read() as conn:
        row = conn.execute("SELECT dedupe_key FROM jobs WHERE kind LIKE 'finance%' LIMIT 1").fetchone()
    return "" if row is None else str(row[0])
