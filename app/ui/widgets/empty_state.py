"""An honest empty state: what this section will hold and how to get there, never invented data.

An optional button offers the way there ("Connect WhatsApp", "Clear the filters"); ``action_triggered`` fires on it.
"""

from __future__ import annotations

from app.qt import Qt, QtWidgets, Signal


class EmptyState(QtWidgets.QWidget):
    action_triggered = Signal()

    def __init__(
        self, title: str, body: str, parent: QtWidgets.QWidget | None = None, *, action: str | None = None
    ) -> None:
        super().__init__(parent)
        heading = QtWidgets.QLabel(title)
        heading.setObjectName("emptyTitle")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        heading.setWordWrap(True)
        text = QtWidgets.QLabel(body)
        text.setObjectName("emptyBody")
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A fixed width lets the label compute its wrapped height; an alignment flag in addWidget would not.
        text.setFixedWidth(480)
        self.button = QtWidgets.QPushButton()
        self.button.clicked.connect(self.action_triggered)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.button)
        buttons.addStretch(1)
        column = QtWidgets.QVBoxLayout()
        column.addWidget(heading)
        column.addSpacing(6)
        column.addWidget(text)
        column.addSpacing(10)
        column.addLayout(buttons)
        row = QtWidgets.QHBoxLayout()
        row.addStretch(1)
        row.addLayout(column)
        row.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        self.title = heading
        self.body = text
        self.set_action(action)

    def set_width(self, width: int) -> None:
        """The body's wrapping width (narrow panes such as the chat list want less than the default 480)."""
        self.body.setFixedWidth(width)

    def set_action(self, text: str | None) -> None:
        """Show the button with ``text``, or hide it (``None``)."""
        self.button.setText(text or "")
        self.button.setVisible(bool(text))
