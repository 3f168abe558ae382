"""SIGTERM and SIGINT close the real app the way its window does (issue 15): one ordered shutdown that stops sync and
WhatsApp, closes the service loop, the pool and the SQLCipher store, then logs one clean-exit line and exits 0.

Before, either signal killed the process where it stood (exit -15, or a KeyboardInterrupt traceback from Qt's loop):
no clean-exit line, and the store's write-ahead log left behind for the next start to recover.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from app.store.keyring_vault import KeyringVault
from app.store.seed import populate
from app.store.workspaces import Workspaces
from app.ui.shutdown import CLEAN_EXIT
from tests.support.file_keyring import FileKeyring
from tests.support.testprocess import StartParley
from tests.support.workspace_fixtures import FAST_KDF


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_closes_the_app_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parley_app: StartParley, signum: signal.Signals
) -> None:
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PARLEY_TEST_KEYRING", str(keyring_file))
    home = tmp_path / "home"
    workspaces = Workspaces(home, KeyringVault(FileKeyring()), kdf=FAST_KDF)
    store = workspaces.create("Exit Shop", "Pat")
    workspace_id = store.meta("workspace_id") or ""
    populate(store, chats=20, messages=200, seed=3)
    store.close()
    paths = workspaces.paths(workspace_id)

    app = parley_app(home, keyring_file)
    wal = paths.database.with_name(paths.database.name + "-wal")
    app.wait_for("inbox ready")
    assert wal.exists(), "the open store writes ahead (so the check below can fail)"

    app.send_signal(signum)
    assert app.wait_exit(60) == 0, app.output()

    exits = [line for line in app.lines if line.message == CLEAN_EXIT]
    assert len(exits) == 1, app.output()
    assert f"{signum.name} received" in "\n".join(line.text for line in app.lines)
    app.ensure_not_logged(r"Traceback|\bERROR\b|CRITICAL")
    log_file = (paths.logs / "parley.log").read_text()
    assert log_file.count(CLEAN_EXIT) == 1, "the workspace's log file ends with the clean-exit line too"
    assert not wal.exists() or wal.stat().st_size == 0, "the store was left with a write-ahead log to recover"
