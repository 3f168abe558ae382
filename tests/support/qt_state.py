"""pytest plugin: every test starts with the app's QSettings empty.

The main window saves its geometry, the inbox splitter and whether the AI panel is open to ``QSettings("Parley",
"Parley")`` when it closes, and pytest-qt closes a test's widgets at teardown; the file lives in the session's one
sandbox, so without this the next test's window would open the way the previous test left it, and a test's outcome
would depend on which ran before it. Qt is not imported here: a test process that never loaded it has nothing to
clear.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


def _clear() -> None:
    if "app.qt" not in sys.modules:
        return
    from app.qt import QtCore

    settings = QtCore.QSettings("Parley", "Parley")
    settings.clear()
    settings.sync()


@pytest.fixture(autouse=True)
def _fresh_qsettings() -> Iterator[None]:
    _clear()
    yield
    _clear()  # autouse: torn down after pytest-qt closed the test's windows (which saved their state)
