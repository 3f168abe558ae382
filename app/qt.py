"""The one module that imports PySide6 (house rule 2). Everything else imports Qt from here."""

from __future__ import annotations

import os

os.environ.setdefault("QT_API", "pyside6")

import shiboken6
from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import Qt, Signal, Slot

__all__ = ["Qt", "QtCore", "QtGui", "QtWidgets", "Signal", "Slot", "is_alive"]


def is_alive(obj: QtCore.QObject) -> bool:
    """False once Qt has deleted the C++ object behind ``obj`` (e.g. a dialog closed with WA_DeleteOnClose)."""
    return shiboken6.isValid(obj)
