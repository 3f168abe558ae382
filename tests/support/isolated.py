"""Run one test in a fresh Python process, for a test that leaves its process unfit for the tests after it.

Ending the application's event loop from a key press (Ctrl+Q, as the person does) leaves Qt unable to activate
any window in that process afterwards (seen with the offscreen platform: every later window stayed inactive and
tests waiting for ``isActiveWindow`` failed, in whatever order pytest-randomly ran them). ``@in_own_process`` runs
the test body in a child ``pytest`` and fails with the child's output when it fails.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from tests.support.testprocess import ROOT

F = TypeVar("F", bound=Callable[..., Any])
_CHILD = "PARLEY_TEST_IN_OWN_PROCESS"


def in_own_process(test: F) -> F:
    nodeid = f"{os.path.relpath(sys.modules[test.__module__].__file__ or '', ROOT)}::{test.__name__}"

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if os.environ.get(_CHILD) == nodeid:
            return test(*args, **kwargs)
        env = os.environ | {_CHILD: nodeid}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", nodeid],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (
            f"the test failed in its own process:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"
        )
        return None

    return wrapper  # type: ignore[return-value]
