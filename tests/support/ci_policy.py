"""pytest plugin: under ``CI=true`` a skipped test counts as failed.

A test skips when its browser, database or display is missing; on a developer's laptop that is a hint, in CI it
would hide a broken set-up behind a green run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


def ci_enabled() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if ci_enabled() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {reason}"
