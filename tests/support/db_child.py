"""The parent's side of the tests that restart the app, or kill it, between steps on one encrypted database: run a
module as a fresh Python process with the database key in ``PARLEY_TEST_DB_KEY`` (the child opens the file with it),
and check how that process ended."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.support.testprocess import ROOT


def run_db_child(module: str, key: bytes, *args: str, killed: bool = False) -> None:
    """``python -m module args...``; it must exit 0, or with ``killed`` die by SIGKILL (a crash it provokes itself).
    Fails with the child's stderr otherwise."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PARLEY_TEST_DB_KEY=key.hex())
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    expected = -signal.SIGKILL if killed else 0
    assert proc.returncode == expected, f"child ended with {proc.returncode}, wanted {expected}:\n{proc.stderr}"
