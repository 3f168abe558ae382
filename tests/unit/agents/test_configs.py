"""Agent config versions (app/agents/configs.py) on a real store: defaults until saved, every save a new version,
a roll-back a new version copying an old one, and the conversation limits read from the acquisition config."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.agents import configs
from app.core.errors import InvalidInput, NotFound
from app.store import keys
from app.store.database import Database
from app.store.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(Database.open(tmp_path / "w.db", keys.random_key()), "org")
    yield store
    store.close()


def test_versions_and_roll_back(store: Store) -> None:
    fresh = configs.current(store, "acquisition")
    assert (fresh.version, fresh.enabled, fresh.mode) == (0, False, "draft")
    assert configs.limits(store) == configs.Limits()

    configs.save(store, "acquisition", enabled=True, mode="autopilot", note="go live")
    configs.save(store, "acquisition", config={"pause_hours": 2, "debounce_seconds": 5})
    now = configs.current(store, "acquisition")
    assert (now.version, now.enabled, now.mode, now.config["pause_hours"]) == (2, True, "autopilot", 2)
    assert configs.limits(store).pause == timedelta(hours=2)
    assert configs.limits(store).debounce == timedelta(seconds=5)

    back = configs.roll_back(store, "acquisition", 1)
    assert (back.version, back.note) == (3, "Rolled back to version 1")
    assert configs.current(store, "acquisition").config["pause_hours"] == 12
    assert [c.version for c in configs.history(store, "acquisition")] == [3, 2, 1]
    assert configs.roll_back(store, "acquisition", 0).enabled is False  # the defaults, as version 4

    with pytest.raises(NotFound):
        configs.roll_back(store, "acquisition", 9)
    with pytest.raises(InvalidInput):
        configs.save(store, "acquisition", config={"rate_per_minute": 0})
    with pytest.raises(InvalidInput):
        configs.current(store, "nonsense")
    assert configs.current(store, "finance").version == 0  # each agent has its own versions
