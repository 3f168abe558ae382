"""What one test leaves in the app's QSettings (a closed window's geometry, splitter, AI panel) is gone before the
next test starts (``tests/support/qt_state.py``), whatever the order the tests run in."""

from __future__ import annotations

import pytest

CASES = """
from app.qt import QtCore


def test_a_leaves_state():
    QtCore.QSettings("Parley", "Parley").setValue("inbox/ai_panel", True)


def test_b_starts_clean():
    assert QtCore.QSettings("Parley", "Parley").value("inbox/ai_panel") is None
"""


def test_a_window_state_saved_by_one_test_is_not_seen_by_the_next(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.support.qt_state"]')
    pytester.makepyfile(test_order=CASES)
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
