"""Shared fixtures and the suite's policies.

- No test touches the real user's files or keyring: data dirs point into a temp folder and the default keyring
  backend is the null one; tests that need a keyring get an in-memory backend passed in (house rule 7).
- Under ``CI=true`` a skipped test is a failure: a missing browser, database or display must fail the run, not
  quietly shrink it. (pytest already exits non-zero when it collects no tests.)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_SANDBOX = Path(tempfile.mkdtemp(prefix="parley-tests-"))
for _var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[_var] = str(_SANDBOX / _var.lower())
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
os.environ.pop("PARLEY_HOME", None)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["pytester", "tests.support.ci_policy", "tests.support.sync_fixtures"]

from app.store.keyring_vault import KeyringVault  # noqa: E402
from app.store.keys import KdfParams  # noqa: E402
from app.store.store import Store  # noqa: E402
from app.store.workspaces import Workspaces  # noqa: E402
from tests.support.keyrings import InMemoryKeyring  # noqa: E402

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
