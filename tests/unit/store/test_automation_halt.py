"""Halting every automated sender at once (app/store/ops/automation.py): kept across a restart, said once, resumed
by a person."""

from __future__ import annotations

from pathlib import Path

from app.core.events import AutomationHalted, AutomationResumed
from app.store import keys
from app.store.database import Database
from app.store.ops.automation import RATE_LIMITED, halt, halted, resume
from app.store.store import Store

ORG = "0190a000-0000-7000-8000-0000000000cc"


def names(store: Store) -> list[str]:
    with store.db.read() as conn:
        return [r[0] for r in conn.execute("SELECT name FROM events ORDER BY seq")]


def test_a_halt_survives_a_restart_keeps_its_first_reason_and_is_resumed_once(tmp_path: Path) -> None:
    key = keys.random_key()
    store = Store(Database.open(tmp_path / "w.db", key), ORG)
    assert halted(store) is None
    first = halt(store, RATE_LIMITED, "WhatsApp says this number is sending too many messages.").value
    again = halt(store, "manual", "Stopped by a person.").value
    assert again == first  # the first reason stays
    store.db.close()
    store = Store(Database.open(tmp_path / "w.db", key), ORG)
    kept = halted(store)
    assert kept is not None
    assert (kept.code, kept.at) == (RATE_LIMITED, first.at)
    assert resume(store).value
    assert not resume(store).value
    assert halted(store) is None
    assert names(store) == [AutomationHalted.name, AutomationResumed.name]
    store.db.close()
