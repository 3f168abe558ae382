"""Guards against a Qt binding that corrupts None's reference count (PySide6 6.12.0 did, per processEvents call).

On Python 3.11 None is not immortal: such a leak aborts the interpreter after a few thousand calls, which would
take the app down at a random moment. On Python ≥ 3.12 None is immortal, its count never moves and the check
passes whatever the binding does — so it only guards something where it matters, and never skips.
"""

from __future__ import annotations

import sys

from app.qt import QtCore, QtWidgets


def test_process_events_keeps_none_refcount(qapp: QtWidgets.QApplication) -> None:
    before = sys.getrefcount(None)
    for _ in range(2000):
        qapp.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 1)
        qapp.processEvents()
    assert abs(sys.getrefcount(None) - before) < 100
