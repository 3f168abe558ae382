"""``qt_assert_stays`` keeps the Qt event loop turning while it watches: a timer that fires inside the window is
seen, and the failure says what was seen."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from app.qt import QtCore
from tests.support.waiting import qt_assert_stays


def test_a_queued_change_inside_the_window_is_seen(qtbot: QtBot) -> None:
    fired: list[str] = []
    qt_assert_stays(qtbot, lambda: fired == [], 0.05, lambda: f"fired: {fired}")
    QtCore.QTimer.singleShot(10, lambda: fired.append("timer"))
    with pytest.raises(AssertionError, match=r"fired: \['timer'\] \(changed within 5 s\)"):
        qt_assert_stays(qtbot, lambda: fired == [], 5, lambda: f"fired: {fired}")
