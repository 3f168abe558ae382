"""pytest plugin: a real workspace for any test — an in-memory keyring, the vault over it, and a SQLCipher store
created under the test's temp folder (with a cheap key-derivation cost; the production cost is the benchmarks')."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.store.keyring_vault import KeyringVault
from app.store.keys import KdfParams
from app.store.store import Store
from app.store.workspaces import Workspaces
from tests.support.keyrings import InMemoryKeyring

# Argon2id at its production cost (64 MiB, t=3) is measured in the benchmarks; tests only need it correct.
FAST_KDF = KdfParams(time_cost=1, memory_kib=8 * 1024, parallelism=1)


@pytest.fixture
def keyring_backend() -> InMemoryKeyring:
    return InMemoryKeyring()


@pytest.fixture
def vault(keyring_backend: InMemoryKeyring) -> KeyringVault:
    return KeyringVault(keyring_backend)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def workspaces(home: Path, vault: KeyringVault) -> Workspaces:
    return Workspaces(home, vault, kdf=FAST_KDF)


@pytest.fixture
def store(workspaces: Workspaces) -> Iterator[Store]:
    store = workspaces.create("Acme Boutique", "Ana Owner", owner_email="ana@example.com")
    yield store
    store.close()


@pytest.fixture
def workspace_id(store: Store) -> str:
    value = store.meta("workspace_id")
    assert value is not None
    return value
