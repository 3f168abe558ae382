"""The suite's own guard rails: skips fail under CI, an empty run fails."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SKIPPING = """
import pytest

def test_needs_browser():
    pytest.skip("chromium not found")

def test_fine():
    assert True
"""


@pytest.fixture(autouse=True)
def _importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def test_skip_is_a_failure_under_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(SKIPPING)
    result = pytester.runpytest_subprocess("-p", "tests.support.ci_policy")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*skipped under CI=true*chromium not found*"])


def test_skip_is_a_skip_outside_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(SKIPPING)
    result = pytester.runpytest_subprocess("-p", "tests.support.ci_policy")
    result.assert_outcomes(passed=1, skipped=1)


def test_xfail_is_not_affected(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile("import pytest\n@pytest.mark.xfail(strict=True)\ndef test_x():\n    assert False\n")
    result = pytester.runpytest_subprocess("-p", "tests.support.ci_policy")
    result.assert_outcomes(xfailed=1)


def test_a_run_without_tests_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("X = 1\n")
    result = pytester.runpytest_subprocess("-p", "tests.support.ci_policy")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert result.ret != 0
