"""A Parley-like process that owns a workspace database and lets the orchestrator run what is pending, once.

``python -m tests.unit.agents.orchestrator_child DB RUNS_FILE [EMIT...]`` with ``PARLEY_TEST_DB_KEY`` (hex; a test
key made by the parent, not a secret). It builds the orchestrator with one agent that appends the contact id of each
``ContactCreated`` it runs on to RUNS_FILE, logs a ``ContactCreated`` for each EMIT given (after the agent's cursor
exists, as events arriving while the app runs), runs everything pending to the end and exits.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.agents.context import AgentContext, Outcome
from app.agents.orchestrator import Orchestrator
from app.core.events import ContactCreated, Event
from app.core.loops import LoopThread
from app.store.database import Database
from app.store.store import Store

ORG = "0190a000-0000-7000-8000-0000000000bb"
AGENT = "counter"


class Counter:
    name = AGENT
    wants = frozenset({ContactCreated.name})
    replies = False

    def __init__(self, runs: Path) -> None:
        self.runs = runs

    async def run(self, event: Event, ctx: AgentContext) -> Outcome:
        assert isinstance(event, ContactCreated)
        with self.runs.open("a", encoding="utf-8") as f:
            f.write(event.contact_id + "\n")
            f.flush()
            os.fsync(f.fileno())
        return Outcome.acted("counted")


def main(argv: list[str]) -> None:
    db_path, runs_file, *emit = argv
    store = Store(Database.open(Path(db_path), bytes.fromhex(os.environ["PARLEY_TEST_DB_KEY"])), ORG)
    loop = LoopThread("parley-service")
    orchestrator = Orchestrator(store, [Counter(Path(runs_file))], loop=loop)
    try:
        loop.run(orchestrator.run_pending(), timeout=60)  # the start: the cursor exists from here on
        for contact_id in emit:
            store.emit(ContactCreated(org_id=ORG, contact_id=contact_id))
        loop.run(orchestrator.run_pending(), timeout=60)
        print(f"ran {orchestrator.runs}", flush=True)
    finally:
        loop.close()
        store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
