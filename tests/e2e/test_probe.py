"""The benchmark probe (``app/probe.py``): nothing without ``PARLEY_PROBE_DIR``; with it, in the real app process,
it performs a change and records its paint as a keyed hash — the change's text never reaches a file."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.core.events import Event
from app.core.ids import utc_now
from app.probe import ENV_DIR, ENV_KEY, Probe, marker_hash
from app.qt import QtWidgets
from app.store.keyring_vault import KeyringVault
from app.store.store import Store
from app.store.workspaces import Workspaces
from app.ui.context import AppContext, Changes
from app.ui.main_window import MainWindow
from app.ui.sections import SECTIONS
from app.ui.startup import OpenWorkspace
from app.ui.tasks import TaskRunner
from tests.support.file_keyring import FileKeyring
from tests.support.testprocess import StartParley
from tests.support.waiting import wait_until
from tests.support.workspace_fixtures import FAST_KDF


@pytest.fixture
def ctx(qapp: QtWidgets.QApplication, store: Store, workspaces: Workspaces, workspace_id: str) -> Iterator[AppContext]:
    changes = Changes()
    store.bus.subscribe(Event, changes.forward)
    tasks = TaskRunner()
    yield AppContext(
        store,
        tasks,
        store.settings,
        workspaces,
        OpenWorkspace(workspace_id, workspaces.header(workspace_id), store),
        changes,
    )
    tasks.drain()
    tasks.shutdown()


def probe_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "parley-probe"]


def test_the_main_window_has_no_probe_without_the_variable(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_DIR, raising=False)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = probe_threads()
    window = MainWindow(ctx, SECTIONS)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.probe is None  # type: ignore[attr-defined]
    assert window.findChildren(Probe) == []
    assert probe_threads() == before
    assert list(cwd.iterdir()) == []


def test_the_main_window_installs_the_probe_with_the_variable(
    qtbot: QtBot, ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guarded hook in ``MainWindow`` does install it (so the test above is not vacuous); closing the window
    ends its reader thread."""
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "probe"))
    before = probe_threads()
    window = MainWindow(ctx, SECTIONS)
    assert isinstance(window.probe, Probe)  # type: ignore[attr-defined]
    assert '"ev": "ready"' in (tmp_path / "probe" / "events.jsonl").read_text()
    reader = next(t for t in probe_threads() if t not in before)
    window.deleteLater()
    qtbot.waitUntil(lambda: not reader.is_alive())


def events(probe: Path) -> list[dict[str, Any]]:
    path = probe / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_probe_records_a_paint_by_hash_and_writes_no_plaintext(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parley_app: StartParley
) -> None:
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PARLEY_TEST_KEYRING", str(keyring_file))
    home, probe = tmp_path / "home", tmp_path / "probe"
    store = Workspaces(home, KeyringVault(FileKeyring()), kdf=FAST_KDF).create("Probe Shop", "Pat")
    contact = store.contacts.create(name="Rita Probe", phone="+15550100077")
    chat = store.chats.create(contact_id=contact.id)
    store.messages.create(chat_id=chat.id, direction="in", body="do you ship abroad?", sent_at=utc_now())
    store.close()
    key = secrets.token_bytes(16)
    word = "pm" + secrets.token_hex(6)
    note = f"Wants gift wrapping {word}"
    app = parley_app(home, keyring_file, env={ENV_DIR: str(probe), ENV_KEY: key.hex()})
    wait_until(lambda: any(e["ev"] == "ready" for e in events(probe)), 60, "the probe's ready line")
    with (probe / "commands").open("w", encoding="utf-8") as commands:
        commands.write(json.dumps({"id": "s1", "op": "show", "section": "inbox", "chat_id": chat.id}) + "\n")
        commands.write(json.dumps({"id": "n1", "op": "note", "chat_id": chat.id, "text": note}) + "\n")
    expected = marker_hash(key, "", word)
    wait_until(lambda: any(e["ev"] == "commit" and e["id"] == "n1" for e in events(probe)), 30, "the note's commit")
    wait_until(lambda: any(e["ev"] == "paint" and expected in e["h"] for e in events(probe)), 30, "the note's paint")
    app.stop()
    files = [p for p in probe.rglob("*") if p.is_file()]  # the FIFO (no content on disk) is not a file
    assert files
    for path in files:
        data = path.read_bytes()
        for secret in (word, "gift wrapping", "Rita Probe", "ship abroad"):
            assert secret.encode() not in data, f"{secret!r} in {path.name}"
