"""bootstrap.start_agents registers the acquisition agent when the app has an AI service (and not without one)."""

from __future__ import annotations

from types import SimpleNamespace

from pytestqt.qtbot import QtBot

from app.ai.keys import ProviderKeys
from app.ai.service import AiService
from app.bootstrap import start_agents
from app.core.loops import LoopThread
from app.store.store import Store
from app.ui.shutdown import Shutdown
from app.ui.tasks import TaskRunner
from tests.support.ai_fixtures import POLICY
from tests.support.keyrings import InMemoryKeyring


def _cursors(store: Store) -> set[str]:
    with store.db.read() as conn:
        return {row[0] for row in conn.execute("SELECT agent FROM agent_cursors")}


def test_start_agents_registers_the_acquisition_agent_with_the_ai_service(
    qtbot: QtBot, store: Store, keyring_backend: InMemoryKeyring
) -> None:
    tasks = TaskRunner(loop=LoopThread("parley-service"))
    shutdown = Shutdown(tasks)
    ai = AiService(store, store.settings, ProviderKeys(keyring_backend), policy=POLICY, loop=tasks.service_loop)
    start_agents(SimpleNamespace(store=store, tasks=tasks, ai=ai), shutdown)  # type: ignore[arg-type]
    try:
        qtbot.waitUntil(lambda: {"acquisition", "greetings", "finance"} <= _cursors(store), timeout=10_000)
    finally:
        shutdown.run()
