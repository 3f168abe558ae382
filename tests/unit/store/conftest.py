"""Fixtures of the store's crash tests: workspaces whose keyring is a file a child process shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.store.keyring_vault import KeyringVault
from app.store.workspaces import Workspaces
from tests.support.file_keyring import FileKeyring
from tests.support.workspace_fixtures import FAST_KDF


@pytest.fixture
def keyring_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "keyring.json"
    monkeypatch.setenv("PARLEY_TEST_KEYRING", str(path))
    return path


@pytest.fixture
def file_workspaces(tmp_path: Path, keyring_file: Path) -> Workspaces:
    """Workspaces under ``tmp_path / "home"`` with the file keyring that ``tests.support.store_child`` uses too."""
    return Workspaces(tmp_path / "home", KeyringVault(FileKeyring()), kdf=FAST_KDF)
