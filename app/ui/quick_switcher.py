"""Ctrl+K: jump to any chat, contact or deal by typing a few letters, without leaving the keyboard.

A lookup (``app.store.switcher``) takes a few milliseconds even on 10k chats, so it runs on the main thread after
a short pause in typing rather than through the task runner, which would flash the status bar on every keystroke.
The popup is built once per window and reused, so it opens instantly with the most recent chats. It keeps no
results while closed (each opening looks up afresh); while open, a change to what it lists looks up again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.core.errors import describe
from app.qt import Qt, QtCore, QtGui, QtWidgets, Signal
from app.store.switcher import SwitchTarget, switch_targets
from app.ui import kit, shortcuts, theme
from app.ui.context import AppContext
from app.ui.icons import icon
from app.ui.widgets.activation import connect_activation

log = logging.getLogger(__name__)

TargetRole = Qt.ItemDataRole.UserRole + 1
KIND_LABELS = {"chat": "Chat", "contact": "Contact", "deal": "Deal"}
KIND_ICONS = {"chat": "inbox", "contact": "contacts", "deal": "pipeline"}
SHOWN_TABLES = frozenset({"chats", "chat_stats", "contacts", "deals"})
DEBOUNCE_MS = 80
SHORTCUT = shortcuts.keys("switcher")[0]
WIDTH = 560


class _TargetDelegate(QtWidgets.QStyledItemDelegate):
    """Two lines per target (title, muted subtitle) with the kind's icon on the left and its name on the right."""

    def sizeHint(
        self, option: QtWidgets.QStyleOptionViewItem, index: QtCore.QModelIndex | QtCore.QPersistentModelIndex
    ) -> QtCore.QSize:
        line = option.fontMetrics.height()
        return QtCore.QSize(200, 2 * line + 14)

    def paint(
        self,
        painter: QtGui.QPainter,
        option: QtWidgets.QStyleOptionViewItem,
        index: QtCore.QModelIndex | QtCore.QPersistentModelIndex,
    ) -> None:
        target = index.data(TargetRole)
        if not isinstance(target, SwitchTarget):
            super().paint(painter, option, index)
            return
        c = theme.colors()
        rect: QtCore.QRect = option.rect
        selected = bool(option.state & QtWidgets.QStyle.StateFlag.State_Selected)
        painter.save()
        if selected:
            painter.fillRect(rect, QtGui.QColor(c.surface_alt))
            painter.fillRect(QtCore.QRect(rect.left(), rect.top(), 3, rect.height()), QtGui.QColor(c.accent))
        icon(KIND_ICONS[target.kind]).paint(painter, QtCore.QRect(rect.left() + 12, rect.center().y() - 9, 18, 18))
        font: QtGui.QFont = option.font
        metrics = QtGui.QFontMetrics(font)
        line = metrics.height()
        kind = KIND_LABELS[target.kind]
        kind_width = metrics.horizontalAdvance(kind) + 12
        text_left = rect.left() + 42
        text_width = max(10, rect.width() - (text_left - rect.left()) - kind_width - 8)
        painter.setPen(QtGui.QColor(c.muted))
        painter.drawText(
            QtCore.QRect(rect.right() - kind_width, rect.top(), kind_width - 8, rect.height()),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight),
            kind,
        )
        bold = QtGui.QFont(font)
        bold.setWeight(QtGui.QFont.Weight.DemiBold)
        painter.setFont(bold)
        painter.setPen(QtGui.QColor(c.text))
        title = QtGui.QFontMetrics(bold).elidedText(target.title, Qt.TextElideMode.ElideRight, text_width)
        painter.drawText(QtCore.QRect(text_left, rect.top() + 6, text_width, line), 0, title)
        painter.setFont(font)
        painter.setPen(QtGui.QColor(c.muted))
        subtitle = metrics.elidedText(target.subtitle, Qt.TextElideMode.ElideRight, text_width)
        painter.drawText(QtCore.QRect(text_left, rect.top() + 7 + line, text_width, line), 0, subtitle)
        painter.restore()


class QuickSwitcher(QtWidgets.QDialog):
    """A frameless popup: a line edit over a list. Up/Down move, Enter opens, Esc (or leaving it) closes.

    A frameless dialog rather than a ``Qt.Popup``: a popup grabs the keyboard and mouse, which input methods and
    some platforms handle badly; closing when the window loses activation gives the same feel. Not a
    ``FormDialog``: it has no heading, no action and no buttons (Enter opens the selected row, handled here), so
    the form frame would only add chrome to a popup meant to feel like a search box.
    """

    activated = Signal(object)  # SwitchTarget

    def __init__(self, ctx: AppContext, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Dialog | Qt.WindowType.FramelessWindowHint)
        self.ctx = ctx
        self.setObjectName("quickSwitcher")
        self.edit = QtWidgets.QLineEdit(placeholderText="Jump to a chat, contact or deal…")
        self.edit.setClearButtonEnabled(True)
        self.list = QtWidgets.QListWidget()
        self.list.setItemDelegate(_TargetDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setMinimumHeight(320)
        self.status = kit.note()
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status.hide()
        hint = kit.note("↑↓ to move · Enter to open · Esc to close", "hint")
        frame = kit.Card(kind="panel")
        frame.setMinimumWidth(WIDTH)
        inner = frame.body
        inner.setContentsMargins(10, 10, 10, 8)
        inner.addWidget(self.edit)
        inner.addWidget(self.list, 1)
        inner.addWidget(self.status)
        inner.addWidget(hint)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(frame)

        self._timer = QtCore.QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        self.edit.textChanged.connect(lambda _: self._timer.start())
        self.edit.installEventFilter(self)
        connect_activation(self.list, self._activate_item)
        ctx.changes.changed.connect(self._changed)

    # ---- opening -----------------------------------------------------------------------------------------------
    def open_switcher(self) -> None:
        """Show with an empty query (the most recent chats), placed near the top of the parent window."""
        self.edit.blockSignals(True)
        self.edit.clear()
        self.edit.blockSignals(False)
        self.refresh()
        self._place()
        self.show()
        self.activateWindow()
        self.edit.setFocus()

    def _place(self) -> None:
        parent = self.parentWidget()
        self.resize(WIDTH, 440)
        if parent is None:
            return
        window = parent.window()
        top_left = window.mapToGlobal(QtCore.QPoint(0, 0))
        x = top_left.x() + (window.width() - self.width()) // 2
        self.move(x, top_left.y() + min(90, window.height() // 8))

    def changeEvent(self, event: QtCore.QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QtCore.QEvent.Type.ActivationChange and self.isVisible() and not self.isActiveWindow():
            self.reject()  # clicked elsewhere

    # ---- results -----------------------------------------------------------------------------------------------
    def targets(self) -> list[SwitchTarget]:
        return [self.list.item(i).data(TargetRole) for i in range(self.list.count())]

    def refresh(self) -> None:
        """Look up the current text now (the debounce timer calls this)."""
        self._timer.stop()
        text = self.edit.text()
        try:
            found = switch_targets(self.ctx.store, text)
        except Exception as exc:  # noqa: BLE001 — a failed lookup is shown under the box; the switcher stays usable
            self._show_status(f"Could not search: {describe(exc, doing='quick switcher lookup', logger=log)}")
            self.list.clear()
            return
        self.list.clear()
        for target in found:
            item = QtWidgets.QListWidgetItem(target.title)
            item.setData(TargetRole, target)
            item.setToolTip(f"{KIND_LABELS[target.kind]}: {target.title}\n{target.subtitle}".strip())
            self.list.addItem(item)
        if found:
            self.list.setCurrentRow(0)
            self.status.hide()
        else:
            self._show_status("No chats yet" if not text.strip() else f"Nothing matches “{text.strip()}”")

    def _changed(self, tables: frozenset[str]) -> None:
        if self.isVisible() and tables & SHOWN_TABLES:
            self._timer.start()

    def _show_status(self, message: str) -> None:
        self.status.setText(message)
        self.status.show()

    # ---- keys --------------------------------------------------------------------------------------------------
    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.edit and event.type() == QtCore.QEvent.Type.KeyPress:
            assert isinstance(event, QtGui.QKeyEvent)
            key = Qt.Key(event.key())
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                self._move(key)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.activate_current()
                return True
        return super().eventFilter(watched, event)

    def _move(self, key: Qt.Key) -> None:
        if self._timer.isActive():
            self.refresh()
        count = self.list.count()
        if not count:
            return
        step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 8, Qt.Key.Key_PageUp: -8}[key]
        row = self.list.currentRow() + step
        if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            row %= count  # arrows wrap around
        self.list.setCurrentRow(max(0, min(count - 1, row)))

    def activate_current(self) -> None:
        """Open the selected target; results for text typed a moment ago are looked up first."""
        if self._timer.isActive():
            self.refresh()
        item = self.list.currentItem()
        if item is not None:
            self._activate_item(item)

    def _activate_item(self, item: QtWidgets.QListWidgetItem) -> None:
        target = item.data(TargetRole)
        if isinstance(target, SwitchTarget):
            self.accept()
            self.activated.emit(target)


def install_quick_switcher(
    window: QtWidgets.QMainWindow, ctx: AppContext, on_activate: Callable[[SwitchTarget], None]
) -> QuickSwitcher:
    """Bind Ctrl+K on ``window`` to a quick switcher whose choices go to ``on_activate``; returns the switcher."""
    switcher = QuickSwitcher(ctx, window)

    def picked(target: SwitchTarget) -> None:
        on_activate(target)
        focus = getattr(window, "focus_composer", None)
        if target.kind == "chat" and callable(focus):
            # A chat picked is a chat to write in. After the popup has gone: the window, active again, gives the
            # focus back to where Ctrl+K was pressed first.
            QtCore.QTimer.singleShot(0, window, focus)

    switcher.activated.connect(picked)
    [shortcut] = shortcuts.bind(window, "switcher", switcher.open_switcher)
    shortcut.setObjectName("quickSwitcherShortcut")
    return switcher
