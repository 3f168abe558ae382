"""An honest empty state: what this section will hold and how to get there, never invented data."""

from __future__ import annotations

from app.qt import Qt, QtWidgets


class EmptyState(QtWidgets.QWidget):
    def __init__(self, title: str, body: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        heading = QtWidgets.QLabel(title)
        heading.setObjectName("emptyTitle")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QtWidgets.QLabel(body)
        text.setObjectName("emptyBody")
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A fixed width lets the label compute its wrapped height; an alignment flag in addWidget would not.
        text.setFixedWidth(480)
        column = QtWidgets.QVBoxLayout()
        column.addWidget(heading)
        column.addSpacing(6)
        column.addWidget(text)
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
