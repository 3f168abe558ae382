"""The app as a process (house rule 9): it starts, reaches its readiness line, and stops; an unexpected error or
traceback in its log fails the test at teardown (``tests/support/testprocess.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store.keyring_vault import KeyringVault
from app.store.seed import populate
from app.store.workspaces import Workspaces
from tests.support.file_keyring import FileKeyring
from tests.support.testprocess import StartParley
from tests.support.workspace_fixtures import FAST_KDF


def test_first_run_asks_for_a_workspace(tmp_path: Path, parley_app: StartParley) -> None:
    app = parley_app(tmp_path / "home", tmp_path / "keyring.json")
    app.wait_for("first run: asking for a new workspace", level="INFO")


def test_opens_a_keyring_workspace_straight_to_the_inbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parley_app: StartParley
) -> None:
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PARLEY_TEST_KEYRING", str(keyring_file))
    home = tmp_path / "home"
    store = Workspaces(home, KeyringVault(FileKeyring()), kdf=FAST_KDF).create("Process Shop", "Pat")
    populate(store, chats=60, messages=600, seed=2)
    store.close()
    app = parley_app(home, keyring_file)
    ready = app.wait_for("inbox ready")
    assert any("workspace" in line.text and "open" in line.text for line in app.lines if line.at <= ready.at)
