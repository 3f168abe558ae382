"""Settings are declared once and read typed (``settings.ai.brand_voice`` is a ``str``); no code reads a key by name.

A real SQLCipher store underneath (``store.settings`` is the typed view over its local-only table).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import InvalidInput
from app.core.settings import (
    BY_KEY,
    INTERNAL,
    SECTION_TYPES,
    SECTIONS,
    SETTINGS,
    Section,
    Setting,
    Settings,
)
from app.store.store import Store

ROOT = Path(__file__).resolve().parents[2]
PY_TYPES = {"bool": bool, "int": int, "str": str, "choice": str, "data": (list, dict)}  # JSON: a list or an object


def test_every_declared_setting_reads_typed_with_its_default(store: Store) -> None:
    settings = store.settings
    for section_type in SECTION_TYPES:
        section = getattr(settings, section_type.__name__.lower())
        assert isinstance(section, section_type)
        for name, setting in vars(section_type).items():
            if isinstance(setting, Setting):
                value = getattr(section, name)
                assert value == setting.default, setting.key
                assert isinstance(value, PY_TYPES[setting.kind]), setting.key


def test_assignment_validates_and_persists(store: Store) -> None:
    store.settings.inbox.history_page = 250
    store.settings.ai.brand_voice = "Warm and short"
    assert store.settings.inbox.history_page == 250
    assert Settings(_Raw(store)).inbox.history_page == 250  # in the table, not only in memory
    with pytest.raises(InvalidInput, match="at most 500"):
        store.settings.inbox.history_page = 501
    with pytest.raises(InvalidInput, match="expected on/off"):
        store.settings.notifications.desktop = "yes"  # type: ignore[assignment]
    with pytest.raises(InvalidInput, match="one of off, byok, cloud"):
        store.settings.ai.mode = "always"
    assert store.settings.inbox.history_page == 250  # a refused value leaves the stored one
    store.settings.reset(BY_KEY["inbox.history_page"])
    assert store.settings.inbox.history_page == 60


def test_a_stored_value_that_no_longer_fits_reads_as_the_default(store: Store) -> None:
    raw = _Raw(store)
    raw.set("inbox.history_page", "lots")
    raw.set("ai.providers", {"not": "a list"})
    assert store.settings.inbox.history_page == 60
    assert store.settings.internal.ai_providers == []


def test_internal_values_are_declared_but_never_in_the_form() -> None:
    assert {"whatsapp.linked", "ai.providers", "ui.settings_section", "ui.layout"} <= {s.key for s in INTERNAL}
    assert not {s.key for s in INTERNAL} & {s.key for s in SETTINGS}
    assert "Internal" not in SECTIONS
    assert set(SECTIONS) == {s.section for s in SETTINGS}
    keys = [s.key for t in SECTION_TYPES for s in t.declared()]
    assert len(keys) == len(set(keys)) == len(BY_KEY)


def test_the_section_attribute_names_match_the_keys() -> None:
    """``settings.whatsapp.per_day`` reads ``whatsapp.per_day``: one name for one setting, everywhere."""
    for section_type in SECTION_TYPES:
        if section_type.shown:
            for name, setting in vars(section_type).items():
                if isinstance(setting, Setting):
                    assert setting.key == f"{section_type.__name__.lower()}.{name}"


def test_internal_data_is_checked_on_write(store: Store) -> None:
    with pytest.raises(InvalidInput, match="AI providers: not valid"):
        store.settings.internal.ai_providers = ["not an object"]  # type: ignore[list-item]
    store.settings.internal.ai_providers = [{"id": "a"}]
    got = store.settings.internal.ai_providers
    got.append({"id": "b"})  # a copy: changing it changes nothing stored
    assert store.settings.internal.ai_providers == [{"id": "a"}]


def test_no_code_reads_or_writes_a_setting_by_its_key_name() -> None:
    """Raw access is the store's own: outside app/core/settings.py and app/store/settings_table.py no code passes a
    declared key as a string (``settings.get("ai.mode")``) — it reads ``settings.ai.mode``."""
    keys = set(BY_KEY)
    found: list[str] = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("app/core/settings.py", "app/store/settings_table.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in keys:
                found.append(f"{rel}:{node.lineno}: {node.value!r}")
    assert not found, "settings read by key name (use the typed attribute):\n" + "\n".join(found)


def test_section_classes_only_hold_settings() -> None:
    for section_type in SECTION_TYPES:
        assert issubclass(section_type, Section)
        assert section_type.declared(), section_type.__name__


class _Raw:
    """The store's raw table, as only tests reach it (to plant what an older or damaged version left)."""

    def __init__(self, store: Store) -> None:
        from app.store.settings_table import SettingsTable

        self._table = SettingsTable(store.db)

    def get(self, key: str, default: Any = None) -> Any:
        return self._table.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._table.set(key, value)

    def delete(self, key: str) -> None:
        self._table.delete(key)
