"""The command line: self-test, and a clear message instead of Qt's abort when there is no display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.__main__ import display_problem

ROOT = Path(__file__).resolve().parents[2]


def test_no_display_is_explained() -> None:
    assert display_problem({}, "linux") is not None
    assert "xvfb-run" in (display_problem({}, "linux") or "")
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "darwin") is None


def test_run_without_display_exits_with_the_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [sys.executable, "-m", "app", "--home", str(tmp_path)], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "graphical desktop" in result.stderr


def test_selftest_passes() -> None:
    result = subprocess.run([sys.executable, "-m", "app", "--selftest"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "selftest passed" in result.stdout
    assert "SQLCipher 4." in result.stdout
