"""The open conversation's list view: it follows the newest message, unless the reader scrolled up to read.

Bubbles are laid out lazily and wrap to the viewport's width, so the scroll range keeps changing after a chat
opens or a message is added: the vertical scroll bar appearing narrows the viewport and re-wraps every bubble, a
queued message's "next send" line makes its bubble taller, a bar above the composer shortens the viewport, the AI
panel opening beside it narrows it and the bubbles wrap again. A single
``scrollToBottom`` after a reload is therefore soon out of date and the newest bubble ends up cut off. Instead the
view remembers whether it is *following* (the reader is at the bottom) and, while it is, every change of the scroll
range puts it back at the bottom. A reader who scrolled up is left where they are, and new messages below are
announced by a "New messages ↓" button that scrolls down.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from app.qt import Qt, QtCore, QtGui, QtWidgets
from app.ui.models.chat_model import ChatItem, ItemRole

BOTTOM_SLACK = 4  # pixels from the end that still count as "at the bottom"
BUTTON_MARGIN = 12
NEW_MESSAGES = "New messages ↓"


class ChatView(QtWidgets.QListView):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.following = True
        self._holding = False  # inside ``keeping_position``: the range moves for the model's reasons, not the reader's
        self.new_messages = QtWidgets.QPushButton(NEW_MESSAGES, self)
        self.new_messages.setObjectName("primary")
        self.new_messages.setCursor(Qt.CursorShape.PointingHandCursor)
        self.new_messages.setToolTip("Show the newest messages")
        self.new_messages.clicked.connect(self.scroll_to_bottom)
        self.new_messages.hide()
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)

    # ---- what the page calls ---------------------------------------------------------------------------------
    def scroll_to_bottom(self) -> None:
        """Show the newest message, and keep showing it as the layout settles and messages arrive."""
        self.following = True
        self.new_messages.hide()
        self.scrollToBottom()

    @contextmanager
    def keeping_position(self) -> Iterator[None]:
        """Around a reload of the model: afterwards the view is at the bottom if it followed, else the message that
        was at the top of the viewport is where it was (a reload may add rows below and drop the oldest above)."""
        following, value = self.following, self.verticalScrollBar().value()
        anchor = None if following else self._top_item()
        self._holding = True
        try:
            yield
        finally:
            self.doItemsLayout()
            bar = self.verticalScrollBar()
            if following:
                bar.setValue(bar.maximum())
            else:
                bar.setValue(value)
                row = self._row_of(anchor[0]) if anchor else -1
                if anchor and row >= 0:
                    bar.setValue(value + self.visualRect(self.model().index(row, 0)).top() - anchor[1])
            self.following = following
            self._holding = False

    def announce_new(self) -> None:
        """Messages were added at the end: visible already when following, else offered by the button."""
        if self.following:
            self.scroll_to_bottom()
            return
        self.new_messages.show()
        self.new_messages.raise_()
        self._place_button()

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - BOTTOM_SLACK

    # ---- keeping up --------------------------------------------------------------------------------------------
    def _scrolled(self, _value: int) -> None:
        if self._holding:
            return
        self.following = self.at_bottom()
        if self.following:
            self.new_messages.hide()

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        if self.following and not self._holding:
            self.verticalScrollBar().setValue(maximum)

    def _top_item(self) -> tuple[str, int] | None:
        """The first message or note at least partly on screen, with its offset from the viewport's top."""
        model = self.model()
        row = self.indexAt(QtCore.QPoint(self.viewport().width() // 2, 0)).row()
        for r in range(max(row, 0), model.rowCount()):
            index = model.index(r, 0)
            item = index.data(ItemRole)
            if isinstance(item, ChatItem) and item.id:
                return item.id, self.visualRect(index).top()
        return None

    def _row_of(self, item_id: str) -> int:
        model = self.model()
        for r in range(model.rowCount()):
            item = model.index(r, 0).data(ItemRole)
            if isinstance(item, ChatItem) and item.id == item_id:
                return r
        return -1

    def _place_button(self) -> None:
        hint = self.new_messages.sizeHint()
        area = self.viewport().geometry()
        self.new_messages.setGeometry(
            area.left() + (area.width() - hint.width()) // 2,
            area.bottom() - hint.height() - BUTTON_MARGIN,
            hint.width(),
            hint.height(),
        )

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_button()
