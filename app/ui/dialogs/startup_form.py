"""The frame both start-up dialogs share: a heading, their fields, an error line, a busy bar, Quit and one action."""

from __future__ import annotations

from app.qt import QtWidgets


class StartupForm(QtWidgets.QDialog):
    def __init__(self, window_title: str, heading: str, action: str, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(window_title)
        title = QtWidgets.QLabel(heading)
        title.setObjectName("pageTitle")
        self.body = QtWidgets.QVBoxLayout()
        self.body.setSpacing(12)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.primary = QtWidgets.QPushButton(action)
        self.primary.setObjectName("primary")
        self.primary.setDefault(True)
        quit_button = QtWidgets.QPushButton("Quit")
        quit_button.clicked.connect(self.reject)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(quit_button)
        buttons.addWidget(self.primary)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addLayout(self.body)
        layout.addWidget(self.error)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)

    def set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.primary.setEnabled(not busy)

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self.error.setText(message)
        self.error.show()
