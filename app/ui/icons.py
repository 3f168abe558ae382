"""Icons from resources/icons (SVG, so they stay sharp at any scale factor)."""

from __future__ import annotations

from functools import cache

from app.qt import QtGui
from app.resources import resource


@cache
def icon(name: str) -> QtGui.QIcon:
    return QtGui.QIcon(str(resource("icons", f"{name}.svg")))
