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
        text.setMaximumWidth(460)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(heading, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(6)
        layout.addWidget(text, alignment=Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        self.title = heading
        self.body = text
