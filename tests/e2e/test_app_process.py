"""The app as a process (house rule 9): it starts, reaches its readiness line, and stops cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.store.keyring_vault import KeyringVault
from app.store.seed import populate
from app.store.workspaces import Workspaces
from tests.conftest import FAST_KDF
from tests.support.file_keyring import FileKeyring

ROOT = Path(__file__).resolve().parents[2]


def start_app(home: Path, keyring_file: Path) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="tests.support.file_keyring.FileKeyring",
        PARLEY_TEST_KEYRING=str(keyring_file),
        PYTHONPATH=str(ROOT),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "app", "--home", str(home)], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True
    )


def wait_for(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> list[str]:
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    for line in proc.stderr:
        lines.append(line)
        if needle in line:
            return lines
        if time.monotonic() > deadline:
            break
    pytest.fail(f"no {needle!r} from the app; it said:\n{''.join(lines)}")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_first_run_asks_for_a_workspace(tmp_path: Path) -> None:
    proc = start_app(tmp_path / "home", tmp_path / "keyring.json")
    try:
        wait_for(proc, "first run: asking for a new workspace")
    finally:
        stop(proc)


def test_opens_a_keyring_workspace_straight_to_the_inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keyring_file = tmp_path / "keyring.json"
    monkeypatch.setenv("PARLEY_TEST_KEYRING", str(keyring_file))
    home = tmp_path / "home"
    store = Workspaces(home, KeyringVault(FileKeyring()), kdf=FAST_KDF).create("Process Shop", "Pat")
    populate(store, chats=60, messages=600, seed=2)
    store.close()
    proc = start_app(home, keyring_file)
    try:
        lines = wait_for(proc, "inbox ready")
        assert any("workspace" in line and "open" in line for line in lines)
        assert not any("Traceback" in line for line in lines)
    finally:
        stop(proc)
