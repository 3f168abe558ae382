"""Unlocking a passphrase-protected workspace; a wrong passphrase says so and lets you try again."""

from __future__ import annotations

from app.qt import QtWidgets, Signal
from app.store.header import WorkspaceHeader


class UnlockDialog(QtWidgets.QDialog):
    submitted = Signal(str, str)  # workspace id, passphrase

    def __init__(self, headers: list[WorkspaceHeader], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unlock Parley")
        self.setMinimumWidth(420)
        self._headers = headers
        title = QtWidgets.QLabel("Unlock your workspace")
        title.setObjectName("pageTitle")
        self.workspace = QtWidgets.QComboBox()
        for header in headers:
            self.workspace.addItem(header.name, header.workspace_id)
        self.workspace.setVisible(len(headers) > 1)
        self.name = QtWidgets.QLabel(headers[0].name if headers else "")
        self.name.setObjectName("muted")
        self.name.setVisible(len(headers) == 1)
        self.passphrase = QtWidgets.QLineEdit(echoMode=QtWidgets.QLineEdit.EchoMode.Password)
        self.passphrase.setPlaceholderText("Passphrase")
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.unlock_button = QtWidgets.QPushButton("Unlock")
        self.unlock_button.setObjectName("primary")
        self.unlock_button.setDefault(True)
        quit_button = QtWidgets.QPushButton("Quit")
        buttons = QtWidgets.QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(quit_button)
        buttons.addWidget(self.unlock_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        for widget in (title, self.name, self.workspace, self.passphrase, self.error, self.progress):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        self.unlock_button.clicked.connect(self._submit)
        self.passphrase.returnPressed.connect(self._submit)
        quit_button.clicked.connect(self.reject)

    def _submit(self) -> None:
        if not self.passphrase.text():
            self.show_error("Enter the passphrase.")
            return
        self.error.hide()
        self.set_busy(True)
        self.submitted.emit(str(self.workspace.currentData()), self.passphrase.text())

    def set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.unlock_button.setEnabled(not busy)
        self.passphrase.setEnabled(not busy)

    def show_error(self, message: str) -> None:
        self.set_busy(False)
        self.error.setText(message)
        self.error.show()
        self.passphrase.selectAll()
        self.passphrase.setFocus()
