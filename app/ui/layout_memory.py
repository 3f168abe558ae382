"""What the window looks like is remembered on this computer: splitter sizes, panels shown, the window's geometry.

A seller sizes the chat list, the chat and the customer panel once; after switching sections, quitting (Ctrl+Q ends
the loop without closing the window, so ``aboutToQuit`` is the moment that always comes) and opening Parley again
they are where they were left. Everything is kept under one internal setting (``settings.internal.layout``, a
mapping of name to value) in the workspace's local settings table: per device, never synced to the team.

Writes run on the main thread, like the Settings page's: one row of a local table, after a drag has settled
(``SAVE_DELAY_MS``) and once at quit, and only when the value changed. Remembering is best effort: a failure is
logged and the layout is simply not remembered.

A saved layout is only a wish. It may come from a bigger screen, name a pane that no longer exists, or hold a
collapsed or absurd width; ``fit`` turns it into sizes where every pane has at least its minimum width, so the chat
can never be squeezed out of sight.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from app.core.settings import Settings
from app.qt import Qt, QtCore, QtWidgets

log = logging.getLogger(__name__)

SAVE_DELAY_MS = 500  # a drag ends with many splitterMoved; the sizes are written once it has settled


def fit(saved: Sequence[int], minimums: Sequence[int], available: int, stretch: int) -> list[int]:
    """``saved`` sizes made to fill ``available``: every pane gets at least its minimum; room to spare goes to the
    ``stretch`` pane (the chat), and a deficit is taken from every pane in proportion to its room above its minimum
    (so a layout from a bigger screen shrinks evenly and no pane is pushed below its minimum)."""
    sizes = [max(int(s), m) for s, m in zip(saved, minimums, strict=True)]
    spare = available - sum(sizes)
    if spare >= 0:
        sizes[stretch] += spare
        return sizes
    room = [s - m for s, m in zip(sizes, minimums, strict=True)]
    total = sum(room)
    if total <= 0:
        return sizes  # already at the minimums: the window is smaller than the panes can be
    cut = min(-spare, total)
    shares = [r * cut // total for r in room]
    left = cut - sum(shares)  # the rounding remainder, a pixel at a time, from the panes with the most room
    for i in sorted(range(len(room)), key=lambda i: room[i] - shares[i], reverse=True):
        if left <= 0:
            break
        if room[i] - shares[i] > 0:
            shares[i] += 1
            left -= 1
    return [s - c for s, c in zip(sizes, shares, strict=True)]


def _load(settings: Settings, name: str) -> Any:
    try:
        return settings.internal.layout.get(name)
    except Exception:  # a closed or unreadable store: nothing remembered
        log.warning("the remembered layout could not be read", exc_info=True)
        return None


def _store(settings: Settings, name: str, value: Any) -> None:
    try:
        layouts = settings.internal.layout
        if layouts.get(name) != value:
            settings.internal.layout = {**layouts, name: value}
    except Exception:  # best effort: the layout is not remembered this time
        log.warning("the layout of %s could not be remembered", name, exc_info=True)


def _on_quit(save: Callable[[], None]) -> None:
    """``save`` (a QObject's method: disconnected when it is deleted) runs when the event loop is about to end."""
    app = QtCore.QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(save)


class SplitterMemory(QtCore.QObject):
    """Remembers one splitter's sizes under ``name``: restored now (fitted to the real width when it is first laid
    out), saved after a drag and at quit."""

    def __init__(self, splitter: QtWidgets.QSplitter, name: str, settings: Settings) -> None:
        super().__init__(splitter)
        self.splitter = splitter
        self.name = f"splitter:{name}"
        self.settings = settings
        self._wanted: list[int] | None = None
        self._timer = QtCore.QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save)
        splitter.splitterMoved.connect(lambda _pos, _index: self._timer.start())
        _on_quit(self.save)
        self.restore()

    def _horizontal(self) -> bool:
        return self.splitter.orientation() == Qt.Orientation.Horizontal

    def minimums(self) -> list[int]:
        """Each pane's smallest size (what its layout needs, or its set minimum); 0 for a hidden pane."""
        found = []
        for i in range(self.splitter.count()):
            w = self.splitter.widget(i)
            if w is None or w.isHidden():
                found.append(0)
            elif self._horizontal():
                found.append(max(w.minimumWidth(), w.minimumSizeHint().width(), 1))
            else:
                found.append(max(w.minimumHeight(), w.minimumSizeHint().height(), 1))
        return found

    def stretch(self) -> int:
        """The pane that takes spare room: the one with the largest stretch factor (the chat)."""
        factors = []
        for i in range(self.splitter.count()):
            w = self.splitter.widget(i)
            policy = w.sizePolicy() if w is not None else QtWidgets.QSizePolicy()
            factors.append(policy.horizontalStretch() if self._horizontal() else policy.verticalStretch())
        return max(range(len(factors)), key=lambda i: factors[i]) if factors else 0

    def available(self) -> int:
        """The room the panes share: the splitter's length less its handles."""
        length = self.splitter.width() if self._horizontal() else self.splitter.height()
        handles = sum(
            self.splitter.handleWidth()
            for i in range(1, self.splitter.count())
            if (w := self.splitter.widget(i)) is not None and not w.isHidden()
        )
        return max(0, length - handles)

    def restore(self) -> None:
        saved = _load(self.settings, self.name)
        sizes = saved.get("sizes") if isinstance(saved, dict) else None
        if (
            not isinstance(sizes, list)
            or len(sizes) != self.splitter.count()
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in sizes)
        ):
            return  # nothing saved, or saved for another arrangement of panes: the page's defaults stand
        self._wanted = [max(0, s) for s in sizes]
        self.splitter.setSizes(fit(self._wanted, self.minimums(), sum(self._wanted), self.stretch()))
        if self.splitter.isVisible() and self.available() > 0:
            self._apply()
        else:
            self.splitter.installEventFilter(self)  # fitted to the real width when it is first laid out

    def _apply(self) -> None:
        if self._wanted is not None:
            self.splitter.setSizes(fit(self._wanted, self.minimums(), self.available(), self.stretch()))
            self._wanted = None

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.splitter and event.type() == QtCore.QEvent.Type.Resize and self.available() > 0:
            self.splitter.removeEventFilter(self)
            self._apply()
        return False

    def save(self) -> None:
        self._timer.stop()
        if self._wanted is not None:
            return  # never laid out since it was restored: what is saved is still what it shows
        sizes = self.splitter.sizes()
        if sum(sizes) > 0:
            _store(self.settings, self.name, {"sizes": sizes})


class CheckedMemory(QtCore.QObject):
    """Remembers whether a checkable button (a panel's show/hide toggle) is on, under ``name``."""

    def __init__(self, button: QtWidgets.QAbstractButton, name: str, settings: Settings) -> None:
        super().__init__(button)
        self.button = button
        self.name = f"shown:{name}"
        self.settings = settings
        saved = _load(settings, self.name)
        if isinstance(saved, bool):
            button.setChecked(saved)
        button.toggled.connect(self.save)

    def save(self) -> None:
        _store(self.settings, self.name, self.button.isChecked())


class WindowMemory(QtCore.QObject):
    """Remembers a top-level window's geometry (position, size, maximized) under ``name``, saved at quit (closing
    the last window quits too). Qt's ``restoreGeometry`` puts a window from a screen that is gone on a present one."""

    def __init__(self, window: QtWidgets.QWidget, name: str, settings: Settings) -> None:
        super().__init__(window)
        self.window = window
        self.name = f"window:{name}"
        self.settings = settings
        saved = _load(settings, self.name)
        geometry = saved.get("geometry") if isinstance(saved, dict) else None
        if isinstance(geometry, str) and geometry:
            window.restoreGeometry(QtCore.QByteArray.fromBase64(geometry.encode("ascii")))
            if saved.get("maximized") is True and not window.isMaximized():
                window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
        _on_quit(self.save)

    def save(self) -> None:
        geometry = bytes(self.window.saveGeometry().toBase64().data()).decode("ascii")
        _store(self.settings, self.name, {"geometry": geometry, "maximized": self.window.isMaximized()})


def remember_splitter(splitter: QtWidgets.QSplitter, name: str, settings: Settings) -> SplitterMemory:
    """Restore ``splitter``'s sizes saved under ``name`` (fitted to its width) and keep saving them."""
    return SplitterMemory(splitter, name, settings)


def remember_checked(button: QtWidgets.QAbstractButton, name: str, settings: Settings) -> CheckedMemory:
    """Restore whether ``button`` (a panel's show/hide toggle) was on, and keep saving it as it changes."""
    return CheckedMemory(button, name, settings)


def remember_window(window: QtWidgets.QWidget, name: str, settings: Settings) -> WindowMemory:
    """Restore ``window``'s geometry saved under ``name`` and save it at quit."""
    return WindowMemory(window, name, settings)
