"""The suite's policies and its shared fixtures, loaded as plugins from ``tests/support``.

- No test touches the real user's files or keyring: data dirs point into a temp folder and the default keyring
  backend is the null one; tests that need a keyring get an in-memory backend passed in (house rule 7).
- Under ``CI=true`` a skipped test is a failure: a missing browser, database or display must fail the run, not
  quietly shrink it. (pytest already exits non-zero when it collects no tests.)
- Tests run in random order (pytest-randomly; the seed is printed at the start and the end of the run, replay with
  ``--randomly-seed=N``): a test that passes only after another one is a bug in the test or a fixture.
- Fixtures shared between folders live in ``tests/support`` plugins, registered below; a test never imports a
  conftest. Helpers (constants, functions) are imported from the same modules.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SANDBOX = Path(tempfile.mkdtemp(prefix="parley-tests-"))
for _var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[_var] = str(_SANDBOX / _var.lower())
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
os.environ.pop("PARLEY_HOME", None)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Imported after the environment above is set (the app reads it at import time).
pytest_plugins = [
    "pytester",
    "tests.support.ci_policy",
    "tests.support.random_order",
    "tests.support.workspace_fixtures",
    "tests.support.sync_fixtures",
    "tests.support.ai_fixtures",
    "tests.support.whatsapp_fixtures",
    "tests.support.testprocess",
    "tests.support.qt_state",
]
